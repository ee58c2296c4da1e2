using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>Snapshot in, exposition text out. Pure: the same snapshot always renders the same bytes.</summary>
public static class MetricsRenderer
{
    /// <summary>
    /// The exposition as one array (tests, tools). <paramref name="cache"/>: labels encoded by earlier
    /// renders (the same bytes as without it, less work); one render at a time per cache.
    /// </summary>
    public static byte[] Render(ClusterSnapshot snapshot, string version, bool includeExporter = true, RenderCache? cache = null)
    {
        var w = new ExpositionWriter(EstimateSize(snapshot));
        WriteAll(w, snapshot, version, cache ?? new RenderCache { Transient = true }, includeExporter);
        return w.ToArray();
    }

    /// <summary>
    /// The exposition compressed as it is rendered, never whole in memory: the text form (gzip)
    /// and/or the OpenMetrics form (gzip), both from one render when both are asked for.
    /// <paramref name="cache"/>: as for <see cref="Render"/>; the poller keeps one across polls.
    /// </summary>
    public static RenderedExposition RenderCompressed(ClusterSnapshot snapshot, string version, bool text, bool openMetrics, RenderCache? cache = null, bool includeExporter = true)
    {
        if (!text && !openMetrics) throw new ArgumentException("Render at least one form.", nameof(text));
        using var textOut = text ? new CompressedExposition.Writer() : null;
        using var omOut = openMetrics ? new CompressedExposition.Writer() : null;
        var w = new ExpositionWriter(lines =>
        {
            textOut?.Write(lines);
            if (omOut is not null) OpenMetricsText.Write(lines, omOut);
        });
        WriteAll(w, snapshot, version, cache ?? new RenderCache { Transient = true }, includeExporter);
        w.Complete();
        return new RenderedExposition(textOut?.Complete(), omOut?.Complete());
    }

    private static void WriteAll(ExpositionWriter w, ClusterSnapshot snapshot, string version, RenderCache cache, bool includeExporter)
    {
        var assets = cache.Begin(snapshot);
        if (includeExporter) ExporterMetrics.Write(w, snapshot, version);
        ServerMetrics.Write(w, snapshot);
        MetaMetrics.Write(w, snapshot);
        AccountMetrics.Write(w, snapshot);
        StreamMetrics.Write(w, snapshot, assets);
        ConsumerMetrics.Write(w, snapshot, assets);
        MonitorThresholdMetrics.Write(w, snapshot, assets);
        ReplicaMetrics.Write(w, snapshot, assets);
        QuorumMetrics.Write(w, snapshot, assets);
        RaftMetrics.Write(w, snapshot);
        HealthzMetrics.Write(w, snapshot);
        cache.End();
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
