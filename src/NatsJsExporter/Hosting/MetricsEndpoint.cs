using System.IO.Compression;
using Microsoft.Net.Http.Headers;
using NatsJsExporter.Metrics;
using Prometheus;

namespace NatsJsExporter.Hosting;

/// <summary>
/// GET /metrics: the pre-rendered exposition of the latest snapshot, then the exporter's own
/// process_* metrics. Negotiates OpenMetrics 1.0 (Accept: application/openmetrics-text) and gzip
/// (Accept-Encoding). The snapshot part comes from <see cref="ExpositionCache"/>: compressed or
/// converted once per snapshot, never per request. A gzip answer is two gzip members (the cached
/// snapshot, then the small per-request process metrics), which RFC 1952 decoders (Go's, so
/// Prometheus', .NET's, zlib's gunzip) read as one stream.
/// </summary>
public static class MetricsEndpoint
{
    public static async Task HandleAsync(HttpContext ctx, SnapshotStore store, ExpositionCache cache)
    {
        bool openMetrics = WantsOpenMetrics(ctx.Request.Headers.Accept);
        bool gzip = AcceptsGzip(ctx.Request.Headers.AcceptEncoding);
        var encoding = (openMetrics, gzip) switch
        {
            (true, true) => ExpositionEncoding.OpenMetricsGzip,
            (true, false) => ExpositionEncoding.OpenMetrics,
            (false, true) => ExpositionEncoding.TextGzip,
            _ => ExpositionEncoding.Text,
        };

        var snapshotPart = store.Current is { } published ? cache.Get(published, encoding) : ReadOnlyMemory<byte>.Empty;
        var tail = await ProcessMetricsAsync(openMetrics, gzip, ctx.RequestAborted);

        var response = ctx.Response;
        response.ContentType = openMetrics ? OpenMetricsText.ContentType : Endpoints.TextContentType;
        response.Headers.CacheControl = "no-store";
        response.Headers.Vary = "Accept, Accept-Encoding";
        if (gzip) response.Headers.ContentEncoding = "gzip";
        response.ContentLength = snapshotPart.Length + tail.Length;
        await WriteChunkedAsync(response.Body, snapshotPart, ctx.RequestAborted);
        await response.Body.WriteAsync(tail, ctx.RequestAborted);
    }

    public const int WriteChunk = 64 * 1024;

    /// <summary>
    /// Writes in slices, each awaited: Kestrel copies a write whole into its pinned output buffers
    /// before sending, so one 100 MB write would pin another 100 MB per scraper (and the pool keeps
    /// it). Slices let backpressure from a slow or departing scraper stop the copying.
    /// </summary>
    public static async Task WriteChunkedAsync(Stream body, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        for (int offset = 0; offset < data.Length; offset += WriteChunk)
            await body.WriteAsync(data.Slice(offset, Math.Min(WriteChunk, data.Length - offset)), ct);
    }

    // The exporter process itself (CPU, memory, GC), from prometheus-net; OpenMetrics ends with # EOF.
    private static async Task<byte[]> ProcessMetricsAsync(bool openMetrics, bool gzip, CancellationToken ct)
    {
        using var text = new MemoryStream(4096);
        await Prometheus.Metrics.DefaultRegistry.CollectAndExportAsTextAsync(text,
            openMetrics ? ExpositionFormat.OpenMetricsText : ExpositionFormat.PrometheusText, ct);
        if (openMetrics && !text.GetBuffer().AsSpan(0, (int)text.Length).EndsWith(OpenMetricsText.Eof))
            text.Write(OpenMetricsText.Eof);
        if (!gzip) return text.ToArray();
        using var compressed = new MemoryStream(2048);
        using (var gz = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            gz.Write(text.GetBuffer(), 0, (int)text.Length);
        return compressed.ToArray();
    }

    /// <summary>OpenMetrics when the client ranks application/openmetrics-text at least as high as text/plain.</summary>
    public static bool WantsOpenMetrics(string? accept)
    {
        if (string.IsNullOrEmpty(accept) || !MediaTypeHeaderValue.TryParseList([accept], out var types)) return false;
        double om = -1, text = -1;
        foreach (var t in types)
        {
            double q = t.Quality ?? 1;
            if (t.MediaType.Equals("application/openmetrics-text", StringComparison.OrdinalIgnoreCase)) om = Math.Max(om, q);
            else if (t.MediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase)) text = Math.Max(text, q);
        }
        return om > 0 && om >= text;
    }

    public static bool AcceptsGzip(string? acceptEncoding)
    {
        if (string.IsNullOrEmpty(acceptEncoding) || !StringWithQualityHeaderValue.TryParseList([acceptEncoding], out var codings)) return false;
        foreach (var c in codings)
            if (c.Value.Equals("gzip", StringComparison.OrdinalIgnoreCase) && (c.Quality ?? 1) > 0) return true;
        return false;
    }
}
