// Load and soak benchmarks for NatsJsExporter. They print figures; they do not pass or fail on time.
//   dotnet run -c Release --project bench/NatsJsExporter.Soak -- [scrape|churn|all] [--scrapers 50] [--seconds 60] [--cycles 1000]
// scrape: a real 3-node cluster, the real exporter process polling every second, N concurrent
//         scrapers on /metrics for S seconds: requests, failures, latency percentiles, exporter RSS.
// churn:  the in-process poller against a real cluster whose streams are created and deleted all
//         the time, C poll cycles: series count and managed heap before, during and after.
using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using NatsJsExporter.Hosting;
using NatsJsExporter.IntegrationTests.Infrastructure;
using NatsJsExporter.Sources;

var modeArgument = new Argument<string>("mode")
{
    Description = "scrape, churn or all (both).",
    DefaultValueFactory = _ => "all",
    HelpName = "scrape|churn|all",
};
modeArgument.Validators.Add(r =>
{
    if (r.GetValueOrDefault<string>() is not ("scrape" or "churn" or "all"))
        r.AddError($"the mode must be scrape, churn or all, got '{r.GetValueOrDefault<string>()}'");
});
var scrapersOption = PositiveInt("--scrapers", "scrape: concurrent scrapers on /metrics.", 50);
var secondsOption = PositiveInt("--seconds", "scrape: how long to scrape.", 60);
var cyclesOption = PositiveInt("--cycles", "churn: poll cycles while streams are created and deleted.", 1000);
var root = new RootCommand("Load and soak benchmarks for NatsJsExporter against a real 3-node cluster; they print figures, they do not pass or fail on time.")
{
    modeArgument, scrapersOption, secondsOption, cyclesOption,
};
bool run = false;
root.SetAction(_ => run = true);
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"soak: {error.Message}");
    Console.Error.WriteLine("Run with --help for usage.");
    return 2;
}
int rc = await parsed.InvokeAsync();
if (!run) return rc; // --help, --version
var mode = parsed.GetValue(modeArgument)!;
int scrapers = parsed.GetValue(scrapersOption), seconds = parsed.GetValue(secondsOption), cycles = parsed.GetValue(cyclesOption);
var inv = CultureInfo.InvariantCulture;

await using var cluster = await NatsCluster.StartAsync();
await using (var demo = await Demo.ConnectAsync(cluster))
{
    await demo.CreateStreamAsync("ORDERS", replicas: 3);
    await demo.CreateConsumerAsync("ORDERS", "PROCESSOR");
    await demo.CreateStreamAsync("EVENTS", replicas: 1, NATS.Client.JetStream.Models.StreamConfigStorage.Memory);
    for (int i = 0; i < 20; i++) await demo.CreateStreamAsync($"BASE{i:00}", replicas: i % 2 == 0 ? 3 : 1);
    await demo.PublishAsync("ORDERS", 100);
}
Console.WriteLine($"cluster: 3 nodes ({NatsServerBinary.Path}), 22 streams, 1 consumer; machine: {Environment.ProcessorCount} cores");

if (mode is "scrape" or "all") await ScrapeAsync();
if (mode is "churn" or "all") await ChurnAsync();
return 0;

async Task ScrapeAsync()
{
    await using var exporter = await ExporterProcess.StartAsync("--monitor-urls", cluster.MonitorUrls, "--interval", "1s", "--timeout", "800ms");
    var pid = int.Parse(FindPid(exporter.Port), inv);
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = scrapers, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
    var latencies = new ConcurrentBag<double>();
    long failures = 0, bytes = 0;
    var rss = new List<(double T, long Kb)>();
    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
    var sw = Stopwatch.StartNew();
    var sampler = Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            rss.Add((sw.Elapsed.TotalSeconds, Rss(pid)));
            try { await Task.Delay(1000, stop.Token); } catch (OperationCanceledException) { }
        }
    });
    var workers = Enumerable.Range(0, scrapers).Select(_ => Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            var t = Stopwatch.GetTimestamp();
            try
            {
                using var r = await http.GetAsync(exporter.BaseUrl + "/metrics", HttpCompletionOption.ResponseContentRead);
                var body = await r.Content.ReadAsByteArrayAsync();
                if (!r.IsSuccessStatusCode || body.Length == 0) Interlocked.Increment(ref failures);
                Interlocked.Add(ref bytes, body.Length);
                latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
            catch (Exception) when (!stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref failures);
            }
            catch (Exception) { }
        }
    })).ToArray();
    await Task.WhenAll(workers);
    await sampler;
    var sorted = latencies.Order().ToArray();
    double P(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
    var first = rss.Skip(Math.Min(5, rss.Count - 1)).Take(5).Average(r => r.Kb);
    var last = rss.TakeLast(5).Average(r => r.Kb);
    Console.WriteLine();
    Console.WriteLine($"== scrape: {scrapers} concurrent scrapers on /metrics for {seconds} s, polls every 1 s ==");
    Console.WriteLine($"requests {sorted.Length:N0} ({sorted.Length / sw.Elapsed.TotalSeconds:N0}/s), failed {failures}, {bytes / Math.Max(1, sorted.Length):N0} bytes each");
    Console.WriteLine(string.Create(inv, $"latency ms: p50 {P(0.50):0.0}  p90 {P(0.90):0.0}  p99 {P(0.99):0.0}  p99.9 {P(0.999):0.0}  max {sorted.LastOrDefault():0.0}"));
    Console.WriteLine($"exporter RSS MiB: after 5 s {first / 1024:0.0}, at the end {last / 1024:0.0}, max {rss.Max(r => r.Kb) / 1024.0:0.0} (samples every 1 s: {string.Join(" ", rss.Where((_, i) => i % 10 == 0).Select(r => (r.Kb / 1024).ToString(inv)))})");
}

async Task ChurnAsync()
{
    var timeout = TimeSpan.FromSeconds(2);
    var source = new HttpMonitorSource(HttpMonitorSource.CreateHttpClient(timeout), cluster.Nodes.Select(n => new Uri(n.MonitorUrl)).ToList(), timeout);
    var poller = new Poller(source, new SnapshotStore(), NullLogger.Instance, TimeSpan.FromSeconds(1));
    static int Series(PublishedSnapshot p) => Encoding.UTF8.GetString(p.Text()).Split('\n').Count(l => l.Length > 0 && l[0] != '#');
    static long Heap() { GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect(); return GC.GetTotalMemory(true); }

    for (int i = 0; i < 20; i++) await poller.PollOnceAsync(default); // warm up
    var baseline = await poller.PollOnceAsync(default);
    int baseSeries = Series(baseline);
    long baseHeap = Heap();

    using var stop = new CancellationTokenSource();
    long created = 0, deleted = 0, churnErrors = 0;
    var churn = Task.Run(async () =>
    {
        await using var demo = await Demo.ConnectAsync(cluster);
        int k = 0;
        while (!stop.IsCancellationRequested)
        {
            var name = $"CHURN{k++ % 8}";
            try
            {
                await demo.CreateStreamAsync(name, replicas: k % 3 == 0 ? 3 : 1);
                Interlocked.Increment(ref created);
                await demo.CreateConsumerAsync(name, "C1");
                await demo.PublishAsync(name, 3);
                await Task.Delay(50);
                await demo.DeleteStreamAsync(name);
                Interlocked.Increment(ref deleted);
            }
            catch (Exception) when (!stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref churnErrors);
                try { await demo.DeleteStreamAsync(name); } catch (Exception) { }
            }
        }
    });

    var sw = Stopwatch.StartNew();
    int maxSeries = 0, minSeries = int.MaxValue;
    var pollMs = new List<double>(cycles);
    var heaps = new List<long>();
    for (int i = 0; i < cycles; i++)
    {
        var t = Stopwatch.GetTimestamp();
        var p = await poller.PollOnceAsync(default);
        pollMs.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        int s = Series(p);
        maxSeries = Math.Max(maxSeries, s);
        minSeries = Math.Min(minSeries, s);
        if (i % 100 == 99) heaps.Add(Heap());
    }
    await stop.CancelAsync();
    await churn;
    // Remove whatever churn stream may be left, then let the cluster settle.
    await using (var demo = await Demo.ConnectAsync(cluster))
        for (int k = 0; k < 8; k++) try { await demo.DeleteStreamAsync($"CHURN{k}"); } catch (Exception) { }
    await Task.Delay(2000);
    PublishedSnapshot after = baseline;
    for (int i = 0; i < 5; i++) after = await poller.PollOnceAsync(default);
    int afterSeries = Series(after);
    long afterHeap = Heap();
    var leftover = Encoding.UTF8.GetString(after.Text()).Split('\n').Where(l => l.Contains("CHURN", StringComparison.Ordinal)).ToList();
    pollMs.Sort();

    Console.WriteLine();
    Console.WriteLine($"== churn: {cycles} poll cycles in {sw.Elapsed.TotalSeconds:0} s while streams are created and deleted ==");
    Console.WriteLine($"streams created {created}, deleted {deleted}, churn errors {churnErrors}");
    Console.WriteLine(string.Create(inv, $"poll ms: p50 {pollMs[pollMs.Count / 2]:0.0}  p99 {pollMs[(int)(pollMs.Count * 0.99)]:0.0}  max {pollMs[^1]:0.0}"));
    Console.WriteLine($"series: baseline {baseSeries}, during churn {minSeries}..{maxSeries}, after {afterSeries} (CHURN series left: {leftover.Count})");
    Console.WriteLine($"managed heap KiB: baseline {baseHeap / 1024:N0}, every 100 cycles {string.Join(" ", heaps.Select(h => (h / 1024).ToString("N0", inv)))}, after {afterHeap / 1024:N0}");
}

static long Rss(int pid)
{
    try
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
    catch (Exception) { return 0; }
}

// The exporter process listening on the port (ExporterProcess does not expose its pid).
static string FindPid(int port)
{
    foreach (var dir in Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
    {
        try
        {
            var cmd = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
            if (cmd.Contains("natsjs-exporter.dll", StringComparison.Ordinal) && cmd.Contains($"127.0.0.1:{port}", StringComparison.Ordinal))
                return Path.GetFileName(dir);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
    return "0";
}

static Option<int> PositiveInt(string name, string description, int defaultValue) => new(name)
{
    Description = description,
    HelpName = "N",
    DefaultValueFactory = _ => defaultValue,
    CustomParser = r =>
    {
        if (r.Tokens.Count == 0) return defaultValue;
        var text = r.Tokens[^1].Value;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0) return n;
        r.AddError($"{name} must be a positive integer, got '{text}'");
        return defaultValue;
    },
};
