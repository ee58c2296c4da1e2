using System.Diagnostics;
using NatsJsExporter.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// Real faults on a real cluster, beyond ClusterScenarioTests (frozen, killed, meta leader killed):
/// every node restarted one at a time, and streams created and deleted in a loop while the
/// exporter polls. After each step the metrics match the cluster's own truth within two poll
/// intervals of the truth settling, and no series of a gone stream, peer or URL label is left.
/// </summary>
[Collection("real processes")]
public sealed class ChurnScenarioTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    // Two poll intervals, plus one poll's timeout and a scrape on a loaded 2-core machine.
    private static readonly TimeSpan Bound = 2 * Interval + TimeSpan.FromMilliseconds(800) + TimeSpan.FromSeconds(1.2);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    private static (string, string) L(string label, string value) => (label, value);

    private static Task<ExporterProcess> StartExporterAsync(NatsCluster cluster) =>
        ExporterProcess.StartAsync("--monitor-urls", cluster.MonitorUrls, "--interval", "1s", "--timeout", "800ms");

    /// <summary>
    /// Waits until the cluster's truth is stable (the same on two reads half a second apart), then
    /// requires the exporter to match it within <see cref="Bound"/>. Returns how long that took.
    /// A truth that still moves after that (an election the two reads missed) is read again, never
    /// held against the exporter: only a truth unchanged through the whole bound fails the test.
    /// </summary>
    private static async Task<TimeSpan> ConvergeAsync<T>(ExporterProcess exporter, string what, Func<Task<T?>> truth, Func<Exposition, T, bool> matches)
        where T : class
    {
        var deadline = DateTime.UtcNow + Settle;
        Exposition last = Exposition.Parse("");
        while (DateTime.UtcNow < deadline)
        {
            var t1 = await truth();
            await Task.Delay(500);
            var t2 = await truth();
            if (t1 is null || !Equals(t1, t2)) continue; // still moving (election, catch-up)
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < Bound)
            {
                last = await exporter.MetricsAsync();
                if (matches(last, t2)) return sw.Elapsed;
                await Task.Delay(100);
            }
            if (Equals(await truth(), t2))
                throw new TimeoutException($"{what}: truth {t2} stable but /metrics did not match within {Bound.TotalSeconds:0.0}s\n{last.Dump()}");
        }
        throw new TimeoutException($"{what}: the cluster did not settle within {Settle.TotalSeconds:0}s\n{last.Dump()}");
    }

    private sealed record Truth(string StreamLeader, string MetaLeader, long Messages, int StreamCurrent = 0, int MetaCurrent = 0);

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };

    /// <summary>Current peers (leader included) as the group leaders themselves report them.</summary>
    private static async Task<(int Stream, int Meta)> CurrentPeersAsync(NatsCluster cluster, string streamLeader, string metaLeader, string stream)
    {
        try
        {
            var s = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>(Http,
                cluster[streamLeader].MonitorUrl + "/jsz?accounts=true&streams=true");
            var detail = s?["account_details"]?.AsArray().SelectMany(a => a?["stream_detail"]?.AsArray() ?? []).FirstOrDefault(d => (string?)d?["name"] == stream);
            int streamCurrent = 1 + (detail?["cluster"]?["replicas"]?.AsArray().Count(r => r?["current"]?.GetValue<bool>() == true) ?? 0);
            var m = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>(Http, cluster[metaLeader].MonitorUrl + "/jsz");
            int metaCurrent = 1 + (m?["meta_cluster"]?["replicas"]?.AsArray().Count(r => r?["current"]?.GetValue<bool>() == true) ?? 0);
            return (streamCurrent, metaCurrent);
        }
        catch (Exception)
        {
            return (0, 0);
        }
    }

    private static void AssertNothingLeftBehind(Exposition m, NatsCluster cluster, params string[] streams)
    {
        Assert.Equal(cluster.Nodes.Select(n => n.Name).Order(), m.Find("natsjs_up").Select(s => s["server"]).Order());
        Assert.Equal(cluster.Nodes.Count, m.Find("natsjs_server_info").Count());
        Assert.Equal(streams.Order(), m.Find("natsjs_stream_info").Select(s => s["stream"]).Distinct().Order());
        Assert.DoesNotContain(m.Samples, s => s.Labels.Values.Any(v => v.StartsWith("http://", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task All_nodes_restarted_one_at_a_time_converge_after_each_restart()
    {
        await using var cluster = await NatsCluster.StartAsync();
        await using (var demo = await Demo.ConnectAsync(cluster))
        {
            await demo.CreateStreamAsync("ORDERS", replicas: 3);
            await demo.CreateConsumerAsync("ORDERS", "PROCESSOR");
            await demo.PublishAsync("ORDERS", 25);
        }
        await using var exporter = await StartExporterAsync(cluster);

        async Task<Truth?> ReadTruth()
        {
            var stream = await cluster.StreamLeaderAsync("ORDERS");
            var meta = await cluster.MetaLeaderAsync();
            if (stream is null || meta is null) return null;
            var (streamCurrent, metaCurrent) = await CurrentPeersAsync(cluster, stream, meta, "ORDERS");
            return new Truth(stream, meta, 25, streamCurrent, metaCurrent);
        }
        bool Matches(Exposition e, Truth t) =>
            cluster.Nodes.All(n => e.Value("natsjs_up", L("server", n.Name)) == 1)
            && e.Value("natsjs_stream_messages", L("stream", "ORDERS")) == t.Messages
            && e.Find("natsjs_stream_peer_is_leader", L("stream", "ORDERS"), L("peer", t.StreamLeader)).SingleOrDefault()?.Value == 1
            && e.Find("natsjs_stream_peer_current", L("stream", "ORDERS")).Count(s => s.Value == 1) == t.StreamCurrent
            && e.Find("natsjs_meta_is_leader", L("server", t.MetaLeader)).SingleOrDefault()?.Value == 1
            && e.Find("natsjs_meta_peer_current").Count(s => s.Value == 1) == t.MetaCurrent
            && e.Value("natsjs_consumer_pending_messages", L("consumer", "PROCESSOR")) == 25;

        output.WriteLine($"healthy: converged {(await ConvergeAsync(exporter, "healthy", ReadTruth, Matches)).TotalMilliseconds:0} ms after the truth settled");
        foreach (var node in cluster.Nodes.Select(n => n.Name).ToList())
        {
            cluster.Restart(node);
            // Not cluster.WaitReadyAsync: on 2.9.10 a restarted node's /healthz can stay 503 for minutes
            // ("consumer ... is not current") on an idle consumer; the truth below is what matters.
            // Converged to the full recovery: all three current again, as the leaders say.
            var took = await ConvergeAsync(exporter, $"after restarting {node}", async () => await ReadTruth() is { StreamCurrent: 3, MetaCurrent: 3 } t ? t : null, Matches);
            output.WriteLine($"restart {node}: converged {took.TotalMilliseconds:0} ms after the truth settled");
            AssertNothingLeftBehind(await exporter.MetricsAsync(), cluster, "ORDERS");
        }
    }

    [Fact]
    public async Task Streams_created_and_deleted_in_a_loop_while_polling_appear_and_vanish_in_time()
    {
        await using var cluster = await NatsCluster.StartAsync();
        await using var demo = await Demo.ConnectAsync(cluster);
        await demo.CreateStreamAsync("ORDERS", replicas: 3);
        await using var exporter = await StartExporterAsync(cluster);
        await exporter.WaitForAsync("ORDERS seen", e => e.Find("natsjs_stream_info", L("stream", "ORDERS")).Any(), Settle);

        var worst = TimeSpan.Zero;
        for (int round = 0; round < 6; round++)
        {
            var name = $"LOOP{round}";
            int replicas = round % 2 == 0 ? 3 : 1;
            await demo.CreateStreamAsync(name, replicas);
            await demo.CreateConsumerAsync(name, "C1");
            await demo.PublishAsync(name, round + 1);
            var appeared = await ConvergeAsync(exporter, $"{name} created",
                async () => await cluster.StreamLeaderAsync(name) is { } leader ? new Truth(leader, "", round + 1) : null,
                (e, t) => e.Value("natsjs_stream_messages", L("stream", name)) == t.Messages
                    && e.Find("natsjs_stream_peer_is_leader", L("stream", name)).Count() == replicas
                    && e.Find("natsjs_stream_peer_is_leader", L("stream", name), L("peer", t.StreamLeader)).SingleOrDefault()?.Value == 1
                    && e.Find("natsjs_consumer_info", L("stream", name), L("consumer", "C1")).Any());

            await demo.DeleteStreamAsync(name);
            var gone = await ConvergeAsync(exporter, $"{name} deleted",
                async () => await cluster.StreamLeaderAsync(name) is null ? new Truth("", "", 0) : null,
                (e, _) => !e.Samples.Any(s => s["stream"] == name));
            worst = new[] { worst, appeared, gone }.Max();
            output.WriteLine($"{name} (R{replicas}): appeared {appeared.TotalMilliseconds:0} ms, vanished {gone.TotalMilliseconds:0} ms after the truth settled");
        }
        output.WriteLine($"worst: {worst.TotalMilliseconds:0} ms (bound {Bound.TotalMilliseconds:0} ms)");
        AssertNothingLeftBehind(await exporter.MetricsAsync(), cluster, "ORDERS");
    }
}
