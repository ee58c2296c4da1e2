using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>Snapshot in, exposition text out. Pure: the same snapshot always renders the same bytes.</summary>
public static class MetricsRenderer
{
    /// <summary>The exposition as a new array.</summary>
    public static byte[] Render(ClusterSnapshot snapshot, string version, bool includeExporter = true) =>
        RenderMemory(snapshot, version, includeExporter).ToArray();

    /// <summary>
    /// The exposition in the render buffer itself (no copy). <paramref name="sizeHint"/>: the
    /// previous render's size, so a large cluster's buffer is allocated once at about the right size.
    /// </summary>
    public static ReadOnlyMemory<byte> RenderMemory(ClusterSnapshot snapshot, string version, bool includeExporter = true, int sizeHint = 0)
    {
        var w = new ExpositionWriter(sizeHint > 0 ? (int)Math.Min(sizeHint + sizeHint / 32 + 64 * 1024L, Array.MaxLength) : EstimateSize(snapshot));
        WriteAll(w, snapshot, version, includeExporter);
        return w.Detach();
    }

    /// <summary>
    /// The exposition compressed as it is rendered, never whole in memory: the text form (gzip)
    /// and/or the OpenMetrics form (gzip), both from one render when both are asked for.
    /// </summary>
    public static RenderedExposition RenderCompressed(ClusterSnapshot snapshot, string version, bool text, bool openMetrics, bool includeExporter = true)
    {
        if (!text && !openMetrics) throw new ArgumentException("Render at least one form.", nameof(text));
        using var textOut = text ? new CompressedExposition.Writer() : null;
        using var omOut = openMetrics ? new CompressedExposition.Writer() : null;
        var w = new ExpositionWriter(lines =>
        {
            textOut?.Write(lines);
            if (omOut is not null) OpenMetricsText.Write(lines, omOut);
        });
        WriteAll(w, snapshot, version, includeExporter);
        w.Complete();
        return new RenderedExposition(textOut?.Complete(), omOut?.Complete());
    }

    private static void WriteAll(ExpositionWriter w, ClusterSnapshot snapshot, string version, bool includeExporter)
    {
        if (includeExporter) ExporterMetrics.Write(w, snapshot, version);
        ServerMetrics.Write(w, snapshot);
        MetaMetrics.Write(w, snapshot);
        AccountMetrics.Write(w, snapshot);
        StreamMetrics.Write(w, snapshot);
        ConsumerMetrics.Write(w, snapshot);
        MonitorThresholdMetrics.Write(w, snapshot);
        ReplicaMetrics.Write(w, snapshot);
        QuorumMetrics.Write(w, snapshot);
        RaftMetrics.Write(w, snapshot);
        HealthzMetrics.Write(w, snapshot);
    }

    private static int EstimateSize(ClusterSnapshot s)
    {
        long size = 16 * 1024 + s.Servers.Count * 4096L;
        foreach (var st in s.Streams) size += 3500 + st.Consumers.Count * 3000L;
        return (int)Math.Min(size, Array.MaxLength);
    }
}

/// <summary>One render, compressed: the text form and/or the OpenMetrics form (at least one).</summary>
public sealed record RenderedExposition(CompressedExposition? Text, CompressedExposition? OpenMetrics);
