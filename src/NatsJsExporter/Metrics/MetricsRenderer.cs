using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>Snapshot in, exposition text out. Pure: the same snapshot always renders the same bytes.</summary>
public static class MetricsRenderer
{
    public static byte[] Render(ClusterSnapshot snapshot, string version, bool includeExporter = true)
    {
        var w = new ExpositionWriter(EstimateSize(snapshot));
        if (includeExporter) ExporterMetrics.Write(w, snapshot, version);
        ServerMetrics.Write(w, snapshot);
        MetaMetrics.Write(w, snapshot);
        AccountMetrics.Write(w, snapshot);
        StreamMetrics.Write(w, snapshot);
        ConsumerMetrics.Write(w, snapshot);
        return w.ToArrayAndRelease();
    }

    private static int EstimateSize(ClusterSnapshot s)
    {
        long size = 16 * 1024 + s.Servers.Count * 4096L;
        foreach (var st in s.Streams) size += 3500 + st.Consumers.Count * 3000L;
        return (int)Math.Min(size, Array.MaxLength);
    }
}
