using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NatsJsExporter.IntegrationTests.Infrastructure;
using NATS.Client.JetStream.Models;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// A dashboard panel that shows "No data" on a live cluster is a bug. A real 3-node cluster with
/// an R3 file stream and two durable consumers, an R1 memory stream, a sourcing stream and a
/// mirror, continuous traffic and a consumer that fetches and acks; the real exporter; a real
/// Prometheus scraping it every second. Every panel query of every dashboard in dashboards/ is
/// run through Prometheus's query API with the variables at "All" and Grafana's interval
/// variables at fixed windows, and must return at least one series that is not NaN.
/// </summary>
[Collection("real processes")]
public sealed partial class DashboardPanelsTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);
    private static readonly string[] Streams = ["ORDERS", "EVENTS", "ORDERS_ARCHIVE", "ORDERS_MIRROR"];

    private static (string, string) L(string label, string value) => (label, value);

    [GeneratedRegex(@"\$\{?(cluster|account|stream|consumer)\}?")]
    private static partial Regex TemplateVariable();

    [GeneratedRegex(@"^label_values\((?<sel>.+),\s*(?<label>[a-z_]+)\)$")]
    private static partial Regex LabelValues();

    /// <summary>Grafana's expansion with every variable at "All" (allValue .*) and fixed interval windows.</summary>
    public static string Expand(string expr) => TemplateVariable().Replace(expr
            .Replace("$__rate_interval", "15s", StringComparison.Ordinal)
            .Replace("$__interval", "5s", StringComparison.Ordinal)
            .Replace("$__range", "1m", StringComparison.Ordinal), ".*");

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NatsJsExporter.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("NatsJsExporter.sln not found above " + AppContext.BaseDirectory);
    }

    private sealed record PanelQuery(string Dashboard, string Panel, string RefId, string Expr);

    private static List<(string File, JsonObject Json)> Dashboards() =>
        Directory.GetFiles(Path.Combine(RepoRoot(), "dashboards"), "*.json").Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f), JsonNode.Parse(File.ReadAllText(f))!.AsObject())).ToList();

    private static IEnumerable<JsonObject> AllPanels(JsonArray panels)
    {
        foreach (var p in panels.Select(p => p!.AsObject()))
        {
            yield return p;
            if (p["panels"] is JsonArray nested)
                foreach (var n in AllPanels(nested)) yield return n;
        }
    }

    private static List<PanelQuery> PanelQueries() =>
        Dashboards().SelectMany(d => AllPanels(d.Json["panels"]!.AsArray())
            .Where(p => p["targets"] is JsonArray)
            .SelectMany(p => p["targets"]!.AsArray().Select(t => new PanelQuery(
                d.Json["title"]!.GetValue<string>(), p["title"]!.GetValue<string>(), t!["refId"]!.GetValue<string>(), t["expr"]!.GetValue<string>()))))
            .ToList();

    /// <summary>Variable queries label_values(selector, label) as the PromQL Grafana effectively runs.</summary>
    private static List<PanelQuery> VariableQueries() =>
        Dashboards().SelectMany(d => d.Json["templating"]!["list"]!.AsArray()
            .Where(v => v!["type"]!.GetValue<string>() == "query")
            .Select(v =>
            {
                var m = LabelValues().Match(v!["definition"]!.GetValue<string>());
                Assert.True(m.Success, $"unexpected variable query {v["definition"]}");
                return new PanelQuery(d.Json["title"]!.GetValue<string>(), $"variable {v["name"]}", "-",
                    $"count by ({m.Groups["label"].Value}) ({m.Groups["sel"].Value})");
            }))
            .ToList();

    private static bool HasData(JsonArray result) =>
        result.Any(r => r?["value"]?[1]?.GetValue<string>() is { } v && v != "NaN");

    [Fact]
    public async Task Every_panel_of_every_dashboard_returns_data_and_the_stream_table_counts_each_stream_once()
    {
        var sw = Stopwatch.StartNew();
        var queries = PanelQueries();
        Assert.True(queries.Count > 50, $"only {queries.Count} panel queries found");

        await using var cluster = await NatsCluster.StartAsync();
        await using var demo = await Demo.ConnectAsync(cluster);
        await demo.CreateStreamAsync(new StreamConfig("ORDERS", ["orders.>"])
        {
            NumReplicas = 3, Storage = StreamConfigStorage.File, MaxBytes = 64L * 1024 * 1024, MaxMsgs = 1_000_000,
        });
        await demo.CreateConsumerAsync("ORDERS", "PROCESSOR");
        await demo.CreateConsumerAsync("ORDERS", "AUDIT");
        await demo.CreateStreamAsync(new StreamConfig("EVENTS", ["events.>"])
        {
            NumReplicas = 1, Storage = StreamConfigStorage.Memory, MaxBytes = 16L * 1024 * 1024,
        });
        await demo.CreateStreamAsync(new StreamConfig
        {
            Name = "ORDERS_ARCHIVE", NumReplicas = 1, Storage = StreamConfigStorage.File, Sources = [new StreamSource { Name = "ORDERS" }],
        });
        await demo.CreateStreamAsync(new StreamConfig
        {
            Name = "ORDERS_MIRROR", NumReplicas = 1, Storage = StreamConfigStorage.File, Mirror = new StreamSource { Name = "ORDERS" },
        });
        output.WriteLine($"{sw.Elapsed.TotalSeconds:0.0}s cluster and assets ready");

        using var traffic = new CancellationTokenSource();
        var publishers = new[] { demo.PublishUntilAsync("ORDERS", traffic.Token), demo.PublishUntilAsync("EVENTS", traffic.Token) };
        var processing = demo.ConsumeUntilAsync("ORDERS", "PROCESSOR", batch: 10, every: TimeSpan.FromMilliseconds(500), traffic.Token);
        try
        {
            await using var exporter = await ExporterProcess.StartAsync("--monitor-urls", cluster.MonitorUrls, "--interval", "1s", "--timeout", "800ms");
            await using var prometheus = await PrometheusProcess.StartAsync([$"127.0.0.1:{exporter.Port}"]);

            await exporter.WaitForAsync("all streams, both consumers, ORDERS replicas current, source and mirror seen, PROCESSOR delivering", e =>
                Streams.All(s => e.Find("natsjs_stream_info", L("stream", s)).Any())
                && e.Find("natsjs_consumer_info", L("stream", "ORDERS")).Count() == 2
                && e.Find("natsjs_stream_peer_current", L("stream", "ORDERS")).Count(s => s.Value == 1) == 3
                && e.Find("natsjs_stream_source_last_seen_seconds", L("stream", "ORDERS_ARCHIVE")).Any()
                && e.Find("natsjs_stream_mirror_last_seen_seconds", L("stream", "ORDERS_MIRROR")).Any()
                && e.Value("natsjs_consumer_delivered_stream_seq", L("consumer", "PROCESSOR")) > 0, Converge);
            output.WriteLine($"{sw.Elapsed.TotalSeconds:0.0}s exporter reports every asset");

            // rate()/increase() need samples: wait until Prometheus holds a full $__rate_interval
            // window (15 s, see Expand) of them and one more.
            await WaitForQueryAsync(prometheus, "Prometheus holds 16 s of samples",
                "count_over_time(natsjs_servers_expected[1m]) >= 16", Converge);
            output.WriteLine($"{sw.Elapsed.TotalSeconds:0.0}s Prometheus has 16 s of data; running {queries.Count} panel queries");

            // Every panel query (and every variable query) returns data. Failures get two more
            // chances a few seconds apart, then all of them are reported at once.
            var pending = queries.Concat(VariableQueries()).ToList();
            var failures = new List<string>();
            for (int attempt = 1; attempt <= 3 && pending.Count > 0; attempt++)
            {
                if (attempt > 1) await Task.Delay(TimeSpan.FromSeconds(5));
                failures.Clear();
                var stillFailing = new List<PanelQuery>();
                foreach (var q in pending)
                {
                    string? problem;
                    try
                    {
                        var result = await prometheus.QueryAsync(Expand(q.Expr));
                        problem = HasData(result) ? null : result.Count == 0 ? "no series" : "only NaN";
                    }
                    catch (Exception ex)
                    {
                        problem = ex.Message;
                    }
                    if (problem is null) continue;
                    stillFailing.Add(q);
                    failures.Add($"[{q.Dashboard}] '{q.Panel}' ({q.RefId}): {problem}\n    {Expand(q.Expr)}");
                }
                pending = stillFailing;
            }
            output.WriteLine($"{sw.Elapsed.TotalSeconds:0.0}s panel queries done, {failures.Count} without data");
            Assert.True(failures.Count == 0, $"{failures.Count} panel queries return no data on a live cluster:\n" + string.Join("\n", failures));

            // Stop the traffic, let sources and mirror catch up, then compare the stream table's
            // message column with the cluster's own counts: each stream once, whatever its replicas.
            traffic.Cancel();
            await Task.WhenAll(publishers);
            await processing;
            var real = await StableCountsAsync(demo);
            var realTotal = real.Values.Sum();
            output.WriteLine($"real message counts: {string.Join(", ", real.Select(kv => $"{kv.Key}={kv.Value}"))} (total {realTotal})");

            var messagesQuery = queries.Single(q => q.Dashboard == "NATS JetStream / Streams" && q.Panel == "Streams"
                && q.Expr.StartsWith("natsjs_stream_messages{", StringComparison.Ordinal));
            JsonArray table = [];
            double tableTotal = -1;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                table = await prometheus.QueryAsync(Expand(messagesQuery.Expr));
                tableTotal = table.Sum(r => double.Parse(r!["value"]![1]!.GetValue<string>(), CultureInfo.InvariantCulture));
                if (tableTotal == realTotal) break;
                await Task.Delay(500);
            }
            var rows = table.ToDictionary(r => r!["metric"]!["stream"]!.GetValue<string>(),
                r => double.Parse(r!["value"]![1]!.GetValue<string>(), CultureInfo.InvariantCulture));
            output.WriteLine($"stream table: {string.Join(", ", rows.Select(kv => $"{kv.Key}={kv.Value}"))} (total {tableTotal})");
            Assert.Equal(Streams.Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));
            foreach (var (stream, count) in real)
                Assert.True(rows[stream] == count, $"stream table shows {rows[stream]} messages for {stream}, the cluster holds {count}");
            Assert.Equal(realTotal, tableTotal);

            // The variables filter: two selected streams (Grafana sends a multi-value as (a|b)) give exactly those rows.
            var selected = await prometheus.QueryAsync(TemplateVariable().Replace(messagesQuery.Expr,
                m => m.Groups[1].Value == "stream" ? "(EVENTS|ORDERS_MIRROR)" : ".*"));
            Assert.Equal(["EVENTS", "ORDERS_MIRROR"], selected.Select(r => r!["metric"]!["stream"]!.GetValue<string>()).Order(StringComparer.Ordinal));

            // For contrast: the per-server numbers count ORDERS once per replica.
            var serverTotal = (await prometheus.QueryAsync("sum(natsjs_server_messages)"))
                .Sum(r => double.Parse(r!["value"]![1]!.GetValue<string>(), CultureInfo.InvariantCulture));
            output.WriteLine($"sum of natsjs_server_messages: {serverTotal} (ORDERS counted on each of its 3 servers)");
            Assert.True(serverTotal > tableTotal, "per-server totals should exceed the per-stream total with an R3 stream holding messages");
            output.WriteLine($"{sw.Elapsed.TotalSeconds:0.0}s done");
        }
        finally
        {
            traffic.Cancel();
            await Task.WhenAll(publishers);
            await processing;
        }
    }

    private static async Task<Dictionary<string, long>> StableCountsAsync(Demo demo)
    {
        Dictionary<string, long>? previous = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var counts = new Dictionary<string, long>();
            foreach (var s in Streams) counts[s] = await demo.MessageCountAsync(s);
            // Stable, and the mirror and the archive have everything ORDERS has.
            if (previous is not null && counts.All(kv => previous[kv.Key] == kv.Value)
                && counts["ORDERS_MIRROR"] == counts["ORDERS"] && counts["ORDERS_ARCHIVE"] == counts["ORDERS"])
                return counts;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("message counts did not settle: " + string.Join(", ", counts.Select(kv => $"{kv.Key}={kv.Value}")));
            previous = counts;
            await Task.Delay(1000);
        }
    }

    private static async Task WaitForQueryAsync(PrometheusProcess prometheus, string what, string promql, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if ((await prometheus.QueryAsync(promql)).Count > 0) return;
            await Task.Delay(500);
        }
        throw new TimeoutException($"within {timeout.TotalSeconds:0}s: {what} ({promql})");
    }
}
