using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using NatsJsExporter.Model;

namespace NatsJsExporter.Benchmarks;

public sealed record HarnessOptions
{
    public int Streams { get; init; } = 1000;
    public int Accounts { get; init; } = 1;
    /// <summary>R3 durable consumers per stream (0 to 3).</summary>
    public int Consumers { get; init; } = 3;
    /// <summary>The nats-server version the fake servers' /varz report (2.10+: the exporter also asks /raftz).</summary>
    public string ServerVersion { get; init; } = Workload.DefaultVersion;
    public int Cycles { get; init; } = 100;
    public TimeSpan? Interval { get; init; }
    public TimeSpan ScrapeTime { get; init; } = TimeSpan.FromSeconds(20);
    public int Scrapers { get; init; } = 4;
    public string? Exporter { get; init; }
    /// <summary>workstation (as the Dockerfile runs it), server, or default (the runtimeconfig's).</summary>
    public string Gc { get; init; } = "workstation";
    /// <summary>Environment variables for the exporter only (e.g. DOTNET_GCHeapHardLimit=0x1E000000).</summary>
    public IReadOnlyDictionary<string, string> ExporterEnvironment { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// The whole-process benchmark: serves each synthetic server's /jsz and /varz over HTTP on
/// 127.0.0.1, runs the real exporter process against them, and measures what an operator sizes
/// for: cycle time, exporter CPU per cycle (against System.Text.Json parsing the same bytes in
/// this process), RSS over many cycles, exposition size and series, and /metrics latency with
/// concurrent scrapers while polls go on.
/// </summary>
public sealed class CycleHarness(HarnessOptions o)
{
    private long _jszRequests;
    private long _healthzRequests;
    private long _raftzRequests;
    private readonly StringBuilder _exporterLog = new();

    private static readonly string PrometheusAccept =
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

    public async Task<int> RunAsync()
    {
        var exporterDll = o.Exporter ?? FindExporter();
        Say($"workload: {o.Streams:N0} streams R3, {o.Streams * o.Consumers:N0} consumers R3, {o.Accounts} account(s), 3 servers, sources on 1 % of streams");
        var sw = Stopwatch.StartNew();
        var workload = Workload.Generate(o.Streams, o.Accounts, version: o.ServerVersion, consumersPerStream: o.Consumers);
        Say($"  servers report version {workload.Version}; /healthz?details=true ok, /raftz the meta group ({workload.Raftz[0].Length:N0} bytes)");
        Say($"  /jsz per server: {string.Join(" / ", workload.Jsz.Select(j => Mb(j.Length)))} (generated in {sw.Elapsed.TotalSeconds:0.0} s)");

        var baseline = MeasureParseBaseline(workload);
        Say($"STJ baseline, same bytes into the same DTOs (this process): {baseline.TotalMilliseconds:0} ms CPU per cycle (3 documents, median)");

        await using var servers = await StartServersAsync(workload);
        var urls = servers.Urls;
        var interval = o.Interval ?? (o.Streams switch { <= 100 => TimeSpan.FromMilliseconds(500), <= 1000 => TimeSpan.FromSeconds(1), _ => TimeSpan.FromSeconds(2) });
        int port = FreePort();
        // The exporter's default --max-response-size is 256 MiB: raise it for answers near that (100,000 streams).
        long largest = workload.Jsz.Max(j => (long)j.Length);
        string[] extraArgs = largest > 200L << 20 ? ["--max-response-size", ((largest >> 20) * 2).ToString(CultureInfo.InvariantCulture)] : [];
        var exporter = StartExporter(exporterDll, urls, interval, port, extraArgs);
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None, UseProxy = false })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{port}/"),
                Timeout = TimeSpan.FromMinutes(2),
            };
            var (healthy, ready) = await WaitStartedAsync(http, exporter, TimeSpan.FromSeconds(120));
            Say($"exporter: {Path.GetFileName(exporterDll)}, GC {o.Gc}, interval {interval.TotalSeconds:0.###} s; /healthz after {healthy.TotalSeconds:0.00} s, first poll published (/readyz) after {ready.TotalSeconds:0.00} s");

            // Warm up a few cycles (JIT tiering, pools), then measure.
            await WaitCyclesAsync(Math.Min(3, o.Cycles), exporter); // fewer when the run measures few (100,000 streams)
            var rssSamples = new List<(long Cycle, long Rss)>();
            using var rssCts = new CancellationTokenSource();
            long startCycle = Cycles();
            var rssTask = Task.Run(async () =>
            {
                while (!rssCts.IsCancellationRequested)
                {
                    var (rss, _) = ReadRss(exporter.Id);
                    lock (rssSamples) rssSamples.Add((Cycles() - startCycle, rss));
                    try { await Task.Delay(25, rssCts.Token); } catch (OperationCanceledException) { }
                }
            });
            // The CPU window: no HTTP request reaches the exporter, so everything it spends is polling.
            long cpu0 = CpuTicks(exporter.Id);
            long c0 = Cycles();
            int log0 = PollLogCount();
            var window = Stopwatch.StartNew();
            while (Cycles() - c0 < o.Cycles)
            {
                if (exporter.HasExited) throw new InvalidOperationException("the exporter exited:\n" + _exporterLog);
                await Task.Delay(10);
            }
            long c1 = Cycles();
            // Let the last poll finish (publish) before reading the CPU counter.
            while (PollLogCount() - log0 < c1 - c0 && window.Elapsed < TimeSpan.FromMinutes(10)) await Task.Delay(5);
            long cpu1 = CpuTicks(exporter.Id);
            window.Stop();
            rssCts.Cancel();
            await rssTask;
            var (_, hwm) = ReadRss(exporter.Id);
            double cpuPerCycle = (cpu1 - cpu0) / ClockTicks / (c1 - c0);
            var whole = PollLogDurations().Skip(log0).Order().ToArray();
            // natsjs_poll_duration_seconds: read from the head of /metrics over a few polls, after the CPU window.
            var durations = new Dictionary<double, double>();
            long c2 = Cycles();
            while (Cycles() - c2 < Math.Min(5, o.Cycles))
            {
                if (await PeekPollAsync(http) is { } p) durations[p.Timestamp] = p.Duration;
                await Task.Delay(interval / 3);
            }
            var d = durations.Values.Order().ToArray();
            Say($"cycle: whole poll (fetch, parse, merge, render, publish; exporter's debug log) p50 {Pct(whole, 50) / 1000:0.000} s, p90 {Pct(whole, 90) / 1000:0.000} s, max {whole.DefaultIfEmpty().Max() / 1000:0.000} s over {whole.Length} polls; natsjs_poll_duration_seconds p50 {Pct(d, 50):0.000} s");
            var pauses = FullCollections().Skip(log0).Order().ToArray();
            if (pauses.Length > 0)
                Say($"exporter's GC pauses per poll (all threads stopped; every request in flight waits): p50 {Pct(pauses, 50):0} ms, max {pauses.Max():0} ms");
            Say($"exporter CPU per cycle: {cpuPerCycle * 1000:0} ms = {cpuPerCycle / baseline.TotalSeconds:0.00}x STJ parse ({(cpu1 - cpu0) / ClockTicks:0.0} s CPU over {c1 - c0} cycles in {window.Elapsed.TotalSeconds:0} s)");
            var blocks = rssSamples.GroupBy(s => Math.Min(9, s.Cycle * 10 / Math.Max(1, o.Cycles))).OrderBy(g => g.Key)
                .Select(g => Mb(g.Max(s => s.Rss))).ToArray();
            Say($"RSS: peak (VmHWM, start-up included) {Mb(hwm)}; max per tenth of the {o.Cycles} cycles: {string.Join(" ", blocks)}");

            Say($"exporter asked /healthz {Interlocked.Read(ref _healthzRequests)} and /raftz {Interlocked.Read(ref _raftzRequests)} times in {Cycles()} polls");
            var (bytes, series, gzipBytes, encoding) = await FullScrapeAsync(http);
            Say($"exposition: {Mb(bytes)}, {series:N0} series (process_* included){(gzipBytes > 0 ? $"; gzip {Mb(gzipBytes)} ({encoding})" : "; gzip not offered")}");

            await ScrapeLoadAsync(http, exporter, "text/plain, identity", null, false);
            await ScrapeLoadAsync(http, exporter, "Prometheus' Accept (OpenMetrics), gzip", PrometheusAccept, true);
            return 0;
        }
        finally
        {
            if (!exporter.HasExited) exporter.Kill();
            await exporter.WaitForExitAsync();
            var log = _exporterLog.ToString();
            foreach (var pollLine in log.Split('\n').Where(l => l.Contains("Poll done", StringComparison.Ordinal)).TakeLast(1))
                Say($"exporter: {pollLine.Trim()}");
            var warnings = log.Split('\n').Count(l => l.Contains(" WRN ") || l.Contains(" ERR "));
            if (warnings > 0) Say($"exporter logged {warnings} warning/error lines, first: {log.Split('\n').First(l => l.Contains(" WRN ") || l.Contains(" ERR "))}");
        }
    }

    private static void Say(string s) => Console.WriteLine(s);

    private static string Mb(long bytes) => bytes >= 10 << 20 ? $"{bytes / 1048576.0:0} MB" : $"{bytes / 1048576.0:0.0} MB";

    private static double Pct(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    private long Cycles() => Interlocked.Read(ref _jszRequests) / 3;

    // ---- baseline ------------------------------------------------------------------------

    private TimeSpan MeasureParseBaseline(Workload w)
    {
        int reps = o.Streams switch { <= 100 => 200, <= 1000 => 30, <= 20_000 => 7, _ => 3 };
        var me = Process.GetCurrentProcess();
        foreach (var json in w.Jsz) JsonSerializer.Deserialize(json, JszJsonContext.Default.JszResponse); // warm-up
        var samples = new List<double>();
        for (int i = 0; i < reps; i++)
        {
            me.Refresh();
            var before = me.TotalProcessorTime;
            foreach (var json in w.Jsz)
                GC.KeepAlive(JsonSerializer.Deserialize(json, JszJsonContext.Default.JszResponse));
            me.Refresh();
            samples.Add((me.TotalProcessorTime - before).TotalMilliseconds);
        }
        // TotalProcessorTime has scheduler-tick resolution on short reps: use the mean when short.
        var sorted = samples.Order().ToArray();
        double median = Pct(sorted, 50);
        return TimeSpan.FromMilliseconds(median < 50 ? samples.Average() : median);
    }

    // ---- fake NATS monitor ports -----------------------------------------------------------

    private sealed class Servers(WebApplication app, string[] urls) : IAsyncDisposable
    {
        public string[] Urls => urls;
        public async ValueTask DisposeAsync() { await app.StopAsync(); await app.DisposeAsync(); }
    }

    private async Task<Servers> StartServersAsync(Workload w)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var ports = new int[w.Jsz.Length];
        for (int i = 0; i < ports.Length; i++) ports[i] = FreePort();
        builder.WebHost.ConfigureKestrel(k => { foreach (var p in ports) k.Listen(IPAddress.Loopback, p); });
        var app = builder.Build();
        int ServerOf(HttpContext ctx) => Array.IndexOf(ports, ctx.Connection.LocalPort);
        app.MapGet("/jsz", async ctx =>
        {
            Interlocked.Increment(ref _jszRequests);
            var body = w.Jsz[ServerOf(ctx)];
            ctx.Response.ContentType = "application/json";
            ctx.Response.ContentLength = body.Length;
            await ctx.Response.Body.WriteAsync(body, ctx.RequestAborted);
        });
        app.MapGet("/varz", ctx => Json(ctx, w.Varz[ServerOf(ctx)]));
        app.MapGet("/healthz", ctx =>
        {
            Interlocked.Increment(ref _healthzRequests);
            return Json(ctx, w.Healthz[ServerOf(ctx)]);
        });
        app.MapGet("/raftz", ctx =>
        {
            Interlocked.Increment(ref _raftzRequests);
            if (ctx.Request.Query.ContainsKey("acc")) // --raftz-groups all: no stream or consumer groups are served
            {
                ctx.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            return Json(ctx, w.Raftz[ServerOf(ctx)]);
        });
        await app.StartAsync();
        return new Servers(app, ports.Select(p => $"http://127.0.0.1:{p}").ToArray());
    }

    private static async Task Json(HttpContext ctx, byte[] body)
    {
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = body.Length;
        await ctx.Response.Body.WriteAsync(body, ctx.RequestAborted);
    }

    internal static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    // ---- the exporter process ------------------------------------------------------------

    public static string FindExporter()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NatsJsExporter.sln"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException("cannot find the repository root; pass --exporter path/to/natsjs-exporter.dll");
        var path = Path.Combine(dir.FullName, "src", "NatsJsExporter", "bin", "Release", "net10.0", "natsjs-exporter.dll");
        if (!File.Exists(path)) throw new InvalidOperationException($"{path} is missing: dotnet build -c Release src/NatsJsExporter (bench/run.sh does)");
        return path;
    }

    private Process StartExporter(string path, string[] urls, TimeSpan interval, int port, string[] extraArgs)
    {
        bool native = !path.EndsWith(".dll", StringComparison.Ordinal);
        var psi = new ProcessStartInfo(native ? path : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (!native) psi.ArgumentList.Add(path);
        string ms = $"{(long)interval.TotalMilliseconds}ms";
        foreach (var a in new[] { "--monitor-urls", string.Join(",", urls), "--interval", ms, "--timeout", ms, "--listen", $"127.0.0.1:{port}", "--log-level", "debug" })
            psi.ArgumentList.Add(a);
        foreach (var a in extraArgs) psi.ArgumentList.Add(a);
        if (o.Gc != "default") psi.Environment["DOTNET_gcServer"] = o.Gc == "server" ? "1" : "0";
        foreach (var (k, v) in o.ExporterEnvironment) psi.Environment[k] = v;
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_exporterLog) _exporterLog.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_exporterLog) _exporterLog.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private async Task<(TimeSpan Healthy, TimeSpan Ready)> WaitStartedAsync(HttpClient http, Process p, TimeSpan limit)
    {
        var sw = Stopwatch.StartNew();
        TimeSpan? healthy = null;
        while (sw.Elapsed < limit)
        {
            if (p.HasExited) throw new InvalidOperationException($"the exporter exited with {p.ExitCode}:\n{_exporterLog}");
            try
            {
                if (healthy is null && (await http.GetAsync("healthz")).IsSuccessStatusCode) healthy = sw.Elapsed;
                if (healthy is not null && (await http.GetAsync("readyz")).IsSuccessStatusCode) return (healthy.Value, sw.Elapsed);
            }
            catch (HttpRequestException) { }
            await Task.Delay(10);
        }
        throw new TimeoutException("the exporter did not become ready:\n" + _exporterLog);
    }

    private async Task WaitCyclesAsync(int n, Process p)
    {
        long start = Cycles();
        while (Cycles() - start < n)
        {
            if (p.HasExited) throw new InvalidOperationException("the exporter exited:\n" + _exporterLog);
            await Task.Delay(20);
        }
    }

    private static readonly System.Text.RegularExpressions.Regex PollDone = new(@"Poll done in (\d+) ms", System.Text.RegularExpressions.RegexOptions.Compiled);

    private List<double> PollLogDurations()
    {
        string log;
        lock (_exporterLog) log = _exporterLog.ToString();
        return PollDone.Matches(log).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
    }

    private int PollLogCount() => PollLogDurations().Count;

    private static readonly System.Text.RegularExpressions.Regex FullCollection = new(@"Poll done .*GC pauses since the last poll (\d+) ms", System.Text.RegularExpressions.RegexOptions.Compiled);

    private List<double> FullCollections()
    {
        string log;
        lock (_exporterLog) log = _exporterLog.ToString();
        return FullCollection.Matches(log).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
    }

    private const double ClockTicks = 100.0; // USER_HZ on Linux

    private static long CpuTicks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture); // utime, stime
    }

    internal static (long Rss, long Hwm) ReadRss(int pid)
    {
        long rss = 0, hwm = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line);
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = Kb(line);
            }
        }
        catch (IOException) { }
        return (rss, hwm);
        static long Kb(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    // ---- scraping --------------------------------------------------------------------------

    /// <summary>Reads only the head of /metrics (the exporter's own families come first) and hangs up.</summary>
    private static async Task<(double Timestamp, double Duration)?> PeekPollAsync(HttpClient http)
    {
        try
        {
            using var resp = await http.GetAsync("metrics", HttpCompletionOption.ResponseHeadersRead);
            await using var s = await resp.Content.ReadAsStreamAsync();
            var buf = new byte[4096];
            int n = await s.ReadAtLeastAsync(buf, buf.Length, throwOnEndOfStream: false);
            var text = Encoding.UTF8.GetString(buf, 0, n);
            double? Value(string name)
            {
                int i = text.IndexOf("\n" + name + " ", StringComparison.Ordinal);
                if (i < 0) return null;
                int start = i + name.Length + 2, end = text.IndexOf('\n', start);
                return end < 0 ? null : double.Parse(text[start..end], CultureInfo.InvariantCulture);
            }
            return Value("natsjs_poll_timestamp_seconds") is { } ts && Value("natsjs_poll_duration_seconds") is { } d ? (ts, d) : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or FormatException)
        {
            return null;
        }
    }

    private static async Task<(long Bytes, long Series, long GzipBytes, string Encoding)> FullScrapeAsync(HttpClient http)
    {
        var body = await http.GetByteArrayAsync("metrics");
        long series = 0;
        int pos = 0;
        while (pos < body.Length)
        {
            int nl = Array.IndexOf(body, (byte)'\n', pos);
            if (nl < 0) nl = body.Length;
            if (nl > pos && body[pos] != (byte)'#') series++;
            pos = nl + 1;
        }
        using var req = new HttpRequestMessage(HttpMethod.Get, "metrics");
        req.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");
        using var resp = await http.SendAsync(req);
        var gz = await resp.Content.ReadAsByteArrayAsync();
        var enc = string.Join(",", resp.Content.Headers.ContentEncoding);
        return (body.Length, series, enc.Contains("gzip") ? gz.Length : 0, enc);
    }

    private async Task ScrapeLoadAsync(HttpClient http, Process exporter, string what, string? accept, bool gzip)
    {
        var latencies = new List<double>();
        long bytes = 0;
        long errors = 0;
        string contentType = "";
        long c0 = Cycles();
        long cpu0 = CpuTicks(exporter.Id);
        var until = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, o.Scrapers).Select(_ => Task.Run(async () =>
        {
            var buf = new byte[1 << 20];
            while (until.Elapsed < o.ScrapeTime)
            {
                var sw = Stopwatch.StartNew();
                try
                {
                    using var req = new HttpRequestMessage(HttpMethod.Get, "metrics");
                    if (accept is not null) req.Headers.TryAddWithoutValidation("Accept", accept);
                    if (gzip) req.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");
                    using var resp = await http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
                    await using var s = await resp.Content.ReadAsStreamAsync();
                    long n = 0;
                    int r;
                    while ((r = await s.ReadAsync(buf)) > 0) n += r;
                    sw.Stop();
                    lock (latencies)
                    {
                        latencies.Add(sw.Elapsed.TotalMilliseconds);
                        bytes += n;
                        contentType = $"{resp.Content.Headers.ContentType}{(resp.Content.Headers.ContentEncoding.Count > 0 ? " + " + string.Join(",", resp.Content.Headers.ContentEncoding) : "")}";
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        long cycles = Cycles() - c0;
        double cpu = (CpuTicks(exporter.Id) - cpu0) / ClockTicks;
        var sorted = latencies.Order().ToArray();
        Say($"/metrics, {o.Scrapers} scrapers for {o.ScrapeTime.TotalSeconds:0} s during {cycles} polls, {what}: {sorted.Length} scrapes{(errors > 0 ? $" ({errors} failed)" : "")}, " +
            $"p50 {Pct(sorted, 50):0.0} ms, p90 {Pct(sorted, 90):0.0} ms, p99 {Pct(sorted, 99):0.0} ms, {Mb(sorted.Length == 0 ? 0 : bytes / sorted.Length)} each [{contentType}]; exporter CPU {cpu / o.ScrapeTime.TotalSeconds * 100:0} %");
    }
}
