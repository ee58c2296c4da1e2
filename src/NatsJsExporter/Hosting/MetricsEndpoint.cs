using System.IO.Compression;
using Microsoft.Net.Http.Headers;
using NatsJsExporter.Metrics;
using Prometheus;

namespace NatsJsExporter.Hosting;

/// <summary>
/// GET /metrics: the pre-rendered exposition of the latest snapshot, then the exporter's own
/// process_* metrics. Negotiates OpenMetrics 1.0 (Accept: application/openmetrics-text) and gzip
/// (Accept-Encoding). The snapshot part is stored compressed (<see cref="CompressedExposition"/>,
/// made when the snapshot is rendered); a gzip scrape gets it as stored, a plain one inflated on the
/// way out, never compressed per request. A gzip answer is two gzip members (the cached
/// snapshot, then the small per-request process metrics), which RFC 1952 decoders (Go's, so
/// Prometheus', .NET's, zlib's gunzip) read as one stream.
/// </summary>
public static class MetricsEndpoint
{
    public static async Task HandleAsync(HttpContext ctx, SnapshotStore store, ExpositionCache cache)
    {
        bool openMetrics = WantsOpenMetrics(ctx.Request.Headers.Accept);
        bool gzip = AcceptsGzip(ctx.Request.Headers.AcceptEncoding);
        var form = store.Current is { } published
            ? cache.Get(published, openMetrics ? ExpositionForm.OpenMetrics : ExpositionForm.Text)
            : null;
        var tail = await ProcessMetricsAsync(openMetrics, gzip, ctx.RequestAborted);

        var response = ctx.Response;
        response.ContentType = openMetrics ? OpenMetricsText.ContentType : Endpoints.TextContentType;
        response.Headers.CacheControl = "no-store";
        response.Headers.Vary = "Accept, Accept-Encoding";
        if (gzip) response.Headers.ContentEncoding = "gzip";
        response.ContentLength = (form is null ? 0 : gzip ? form.GzipLength : form.TextLength) + tail.Length;
        if (form is not null)
        {
            if (gzip) await WriteGzipAsync(response.Body, form, ctx.RequestAborted);
            else await WriteTextAsync(response.Body, form, ctx.RequestAborted);
        }
        await response.Body.WriteAsync(tail, ctx.RequestAborted);
    }

    /// <summary>
    /// Largest single write: Kestrel copies a write whole into its pinned output buffers before
    /// sending, so the stored form goes out in its own 64 KiB chunks, each awaited: backpressure from
    /// a slow or departing scraper stops the copying.
    /// </summary>
    public const int WriteChunk = CompressedExposition.ChunkSize;

    private static async Task WriteGzipAsync(Stream body, CompressedExposition form, CancellationToken ct)
    {
        foreach (var chunk in form.GzipChunks())
            await body.WriteAsync(chunk, ct);
    }

    // Plain text is inflated on the way out, a chunk at a time (~0.3 ms of CPU per MB).
    private static async Task WriteTextAsync(Stream body, CompressedExposition form, CancellationToken ct)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(WriteChunk);
        try
        {
            await using var text = form.OpenText();
            int n;
            while ((n = await text.ReadAsync(buffer.AsMemory(0, WriteChunk), ct)) > 0)
                await body.WriteAsync(buffer.AsMemory(0, n), ct);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // The exporter process itself (CPU, memory, GC), from prometheus-net, plus what the Go client
    // has and prometheus-net lacks (ProcessStats); OpenMetrics ends with # EOF.
    private static async Task<byte[]> ProcessMetricsAsync(bool openMetrics, bool gzip, CancellationToken ct)
    {
        ProcessStats.EnsureRegistered();
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

/// <summary>
/// process_resident_memory_bytes, process_open_fds and process_max_fds as Prometheus' Go client
/// names them (dashboards and alerts expect these names); prometheus-net has process_cpu_seconds_total,
/// process_start_time_seconds and process_virtual_memory_bytes already, but calls resident memory
/// process_working_set_bytes. Read from /proc/self on each scrape; absent where there is no /proc.
/// </summary>
internal static class ProcessStats
{
    private static readonly object Gate = new();
    private static bool _registered;

    public static void EnsureRegistered()
    {
        if (Volatile.Read(ref _registered)) return;
        lock (Gate)
        {
            if (_registered) return;
            if (File.Exists("/proc/self/statm"))
            {
                var factory = Prometheus.Metrics.WithCustomRegistry(Prometheus.Metrics.DefaultRegistry);
                var rss = factory.CreateGauge("process_resident_memory_bytes", "Resident memory size in bytes.");
                var openFds = factory.CreateGauge("process_open_fds", "Number of open file descriptors.");
                var maxFds = factory.CreateGauge("process_max_fds", "Maximum number of open file descriptors.");
                Prometheus.Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
                {
                    if (ResidentBytes() is { } r) rss.Set(r);
                    if (OpenFds() is { } o) openFds.Set(o);
                    if (MaxFds() is { } m) maxFds.Set(m);
                });
            }
            Volatile.Write(ref _registered, true);
        }
    }

    /// <summary>Second field of /proc/self/statm (resident pages) times the page size.</summary>
    internal static long? ResidentBytes()
    {
        try
        {
            var fields = File.ReadAllText("/proc/self/statm").Split(' ');
            return fields.Length > 1 && long.TryParse(fields[1], System.Globalization.CultureInfo.InvariantCulture, out var pages)
                ? pages * Environment.SystemPageSize
                : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    internal static long? OpenFds()
    {
        try { return Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount(); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>The soft limit of "Max open files" in /proc/self/limits ("unlimited" gives no value).</summary>
    internal static long? MaxFds()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
                var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return fields.Length > 0 && long.TryParse(fields[0], System.Globalization.CultureInfo.InvariantCulture, out var soft) ? soft : null;
            }
            return null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
