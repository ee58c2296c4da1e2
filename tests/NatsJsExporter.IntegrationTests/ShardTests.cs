using System.Globalization;
using NatsJsExporter.IntegrationTests.Infrastructure;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// Scale-out by account: two real exporters that split the accounts of one real cluster with
/// --include-accounts / --exclude-accounts together export exactly the series of one exporter
/// over the whole cluster: every account-scoped series (account, stream, consumer) in exactly one
/// shard, the cluster-wide ones (exporter, server, meta) in both, with the same values.
/// </summary>
[Collection("real processes")]
public sealed class ShardTests
{
    /// <summary>Series whose values move between two polls by design (times, durations, ages, the servers' own API counters).</summary>
    private static bool Volatile(string name) =>
        name is "natsjs_scrape_duration_seconds" or "natsjs_last_success_timestamp_seconds" or "natsjs_poll_duration_seconds"
            or "natsjs_poll_timestamp_seconds" or "natsjs_meta_pending"
        || name.EndsWith("_last_seen_seconds", StringComparison.Ordinal)
        || name.StartsWith("natsjs_server_api_", StringComparison.Ordinal);

    private static bool AccountScoped(Sample s) => s.Labels.ContainsKey("account");

    private static string Key(Sample s) =>
        s.Name + "{" + string.Join(",", s.Labels.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}=\"{kv.Value}\"")) + "}";

    /// <summary>The natsjs_ series, less each exporter's own failed-poll counter (it exists only once that exporter had a failure).</summary>
    private static Dictionary<string, Sample> Series(Exposition e) =>
        e.Samples.Where(s => s.Name.StartsWith("natsjs_", StringComparison.Ordinal) && s.Name != "natsjs_scrape_errors_total").ToDictionary(Key);

    [Fact]
    public async Task Two_exporters_splitting_the_accounts_together_export_exactly_the_series_of_one()
    {
        await using var cluster = await NatsCluster.StartAsync();
        await using (var app = await Demo.ConnectAsync(cluster))
        {
            await app.CreateStreamAsync("ORDERS", replicas: 3);
            await app.CreateConsumerAsync("ORDERS", "PROCESSOR");
            await app.CreateStreamAsync("EVENTS", replicas: 1);
            await app.PublishAsync("ORDERS", 20);
            await app.PublishAsync("EVENTS", 3);
        }
        await using (var ops = await Demo.ConnectAsync(cluster, user: "ops"))
        {
            await ops.CreateStreamAsync("AUDIT", replicas: 3);
            await ops.CreateConsumerAsync("AUDIT", "ARCHIVER");
            await ops.PublishAsync("AUDIT", 7);
        }

        string[] common = ["--monitor-urls", cluster.MonitorUrls, "--interval", "2s", "--timeout", "2s"];
        await using var whole = await ExporterProcess.StartAsync(common);
        await using var appShard = await ExporterProcess.StartAsync([.. common, "--include-accounts", "^APP$"]);
        await using var restShard = await ExporterProcess.StartAsync([.. common, "--exclude-accounts", "^APP$"]);

        // The three poll at different instants: compare until one round agrees (replicas catching
        // up right after creation), then report the differences of the last round if none does.
        List<string> problems = [];
        Dictionary<string, Sample> one = [], a = [], b = [];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            one = Series(await whole.MetricsAsync());
            a = Series(await appShard.MetricsAsync());
            b = Series(await restShard.MetricsAsync());
            problems = Compare(one, a, b);
            if (problems.Count == 0 && one.ContainsKey("natsjs_stream_messages{account=\"OPS\",cluster=\"c1\",stream=\"AUDIT\"}")) break;
            await Task.Delay(500);
        }
        Assert.True(problems.Count == 0, "the shards differ from the one exporter:\n" + string.Join("\n", problems.Take(40)));

        // Each shard holds its accounts' series only, and both hold some.
        Assert.All(a.Values.Where(AccountScoped), s => Assert.Equal("APP", s["account"]));
        Assert.All(b.Values.Where(AccountScoped), s => Assert.NotEqual("APP", s["account"]));
        Assert.Equal(20, a["natsjs_stream_messages{account=\"APP\",cluster=\"c1\",stream=\"ORDERS\"}"].Value);
        Assert.Equal(7, b["natsjs_stream_messages{account=\"OPS\",cluster=\"c1\",stream=\"AUDIT\"}"].Value);
        Assert.Contains(a.Values, s => s.Name == "natsjs_consumer_info" && s["consumer"] == "PROCESSOR");
        Assert.Contains(b.Values, s => s.Name == "natsjs_consumer_info" && s["consumer"] == "ARCHIVER");
        Assert.Contains(one.Values, s => s.Name == "natsjs_server_streams");
    }

    /// <summary>
    /// Keys: the union of the shards is the one exporter's, account-scoped keys are in exactly one
    /// shard, cluster-wide keys in both. Values (except volatile ones) equal the one exporter's.
    /// </summary>
    private static List<string> Compare(Dictionary<string, Sample> one, Dictionary<string, Sample> a, Dictionary<string, Sample> b)
    {
        var problems = new List<string>();
        foreach (var key in a.Keys.Union(b.Keys).Except(one.Keys))
            problems.Add($"only in a shard: {key}");
        foreach (var (key, s) in one)
        {
            bool inA = a.TryGetValue(key, out var sa), inB = b.TryGetValue(key, out var sb);
            if (AccountScoped(s) ? inA == inB : !(inA && inB))
            {
                problems.Add($"{key}: in {(inA ? "APP shard" : "")}{(inA && inB ? " and " : "")}{(inB ? "other shard" : "")}{(!inA && !inB ? "no shard" : "")}");
                continue;
            }
            if (Volatile(s.Name)) continue;
            foreach (var (shard, other) in new[] { ("APP shard", sa), ("other shard", sb) })
            {
                if (other is not null && other.Value != s.Value)
                    problems.Add($"{key}: one exporter {s.Value.ToString(CultureInfo.InvariantCulture)}, {shard} {other.Value.ToString(CultureInfo.InvariantCulture)}");
            }
        }
        return problems;
    }
}
