using System.Diagnostics;
using NatsJsExporter.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// A real 3-node JetStream cluster, the real exporter process, and what an operator would
/// check on /metrics while replicas fall behind, leaders die and streams come and go.
/// </summary>
[Collection("real processes")]
public sealed class ClusterScenarioTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Every scenario runs on every server generation, through both sources at once: one cluster,
    /// an HTTP-mode and a system-account exporter side by side, the same assertions on each (the
    /// two watch the same events, and one cluster per generation instead of two halves the matrix's time).
    /// </summary>
    public static TheoryData<string> Versions => NatsVersions.All;

    private static readonly string[] Modes = ["http", "system"];

    /// <summary>One exporter per mode on the same cluster; disposing stops them all.</summary>
    private sealed class Exporters(List<(string Mode, ExporterProcess Exporter)> all) : IAsyncDisposable
    {
        public IReadOnlyList<(string Mode, ExporterProcess Exporter)> All => all;

        public static async Task<Exporters> StartAsync(NatsCluster cluster)
        {
            // Side by side: each start waits for its first poll.
            var starts = Modes.Select(mode => (mode, Task: StartExporterAsync(cluster, mode))).ToList();
            try
            {
                await Task.WhenAll(starts.Select(x => x.Task));
                return new Exporters(starts.Select(x => (x.mode, x.Task.Result)).ToList());
            }
            catch
            {
                foreach (var (_, t) in starts)
                    if (t.IsCompletedSuccessfully) await t.Result.DisposeAsync();
                throw;
            }
        }

        /// <summary>Each exporter waits for the condition at the same time (the same deadline after the same event).</summary>
        public async Task<Exposition[]> WaitForAsync(string what, Func<Exposition, bool> condition, TimeSpan timeout) =>
            await Task.WhenAll(all.Select(x => x.Exporter.WaitForAsync($"[{x.Mode} mode] {what}", condition, timeout)));

        public async ValueTask DisposeAsync()
        {
            foreach (var (_, e) in all) await e.DisposeAsync();
        }
    }

    /// <summary>The exporter in either mode: HTTP monitor ports, or one system-account connection.</summary>
    internal static Task<ExporterProcess> StartExporterAsync(NatsCluster cluster, string mode) => mode switch
    {
        "http" => ExporterProcess.StartAsync("--monitor-urls", cluster.MonitorUrls, "--interval", "1s", "--timeout", "1s"),
        "system" => ExporterProcess.StartWithEnvironmentAsync(new Dictionary<string, string> { ["NATSJS_NATS_PASSWORD"] = "sys" },
            "--nats-url", cluster.ClientUrls, "--nats-user", "sys", "--interval", "1s", "--timeout", "1s"),
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    private static (string, string) L(string label, string value) => (label, value);

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Healthy_cluster_shows_each_stream_once_with_its_leader_and_all_peers_current_and_a_deleted_stream_leaves_on_the_next_poll(string version)
    {
        await using var cluster = await NatsCluster.StartAsync(binary: NatsVersions.Binary(version));
        await using var demo = await Demo.ConnectAsync(cluster);
        await demo.CreateStreamAsync("ORDERS", replicas: 3);
        await demo.CreateConsumerAsync("ORDERS", "PROCESSOR");
        await demo.CreateStreamAsync("EVENTS", replicas: 1, NATS.Client.JetStream.Models.StreamConfigStorage.Memory);
        await demo.PublishAsync("ORDERS", 25);
        await demo.PublishAsync("EVENTS", 5);
        await using var exporters = await Exporters.StartAsync(cluster);

        var ms = await exporters.WaitForAsync("ORDERS has 25 messages, EVENTS 5, and ORDERS and PROCESSOR 3 current peers each", e =>
            e.Value("natsjs_stream_messages", L("stream", "ORDERS")) == 25
            && e.Value("natsjs_stream_messages", L("stream", "EVENTS")) == 5
            && e.Find("natsjs_stream_peer_current", L("stream", "ORDERS")).Count(s => s.Value == 1) == 3
            && e.Find("natsjs_consumer_peer_current", L("consumer", "PROCESSOR")).Count(s => s.Value == 1) == 3, Converge);
        var leader = await cluster.StreamLeaderAsync("ORDERS");
        var metaLeader = await cluster.MetaLeaderAsync();
        for (int i = 0; i < Modes.Length; i++)
            await AssertHealthyAsync(ms[i], exporters.All[i].Exporter, cluster, leader, metaLeader);

        // Deleting the R3 stream (with its consumer) removes every series of it on the next poll;
        // the other stream stays. (The same cluster: one start per server generation, not two.)
        await demo.DeleteStreamAsync("ORDERS");
        var afters = await exporters.WaitForAsync("no ORDERS series", e =>
            !e.Samples.Any(s => s["stream"] == "ORDERS"), TimeSpan.FromSeconds(10));
        Assert.All(afters, after => Assert.NotEmpty(after.Find("natsjs_stream_info", L("stream", "EVENTS"))));
    }

    private static async Task AssertHealthyAsync(Exposition m, ExporterProcess exporter, NatsCluster cluster, string? leader, string? metaLeader)
    {
        // One series set per stream, whichever servers host it.
        Assert.Single(m.Find("natsjs_stream_messages", L("stream", "ORDERS")));
        Assert.Single(m.Find("natsjs_stream_info", L("stream", "ORDERS"), L("storage", "file"), L("cluster", "c1")));
        Assert.Equal(5, m.Value("natsjs_stream_messages", L("stream", "EVENTS")));
        Assert.Equal(3, m.Value("natsjs_stream_replicas_configured", L("stream", "ORDERS")));
        Assert.Equal(1, m.Value("natsjs_stream_has_leader", L("stream", "ORDERS")));
        Assert.Equal(1, m.Value("natsjs_stream_consumers", L("stream", "ORDERS")));

        // The durable consumer is one series set, led by one peer, with its replicas.
        Assert.Single(m.Find("natsjs_consumer_info", L("stream", "ORDERS"), L("consumer", "PROCESSOR"), L("durable", "true"), L("ack_policy", "explicit")));
        Assert.Equal(25, m.Value("natsjs_consumer_pending_messages", L("consumer", "PROCESSOR")));
        Assert.Single(m.Find("natsjs_consumer_peer_is_leader", L("consumer", "PROCESSOR")), s => s.Value == 1);

        // The leader is marked, on the server the cluster says leads.
        var marked = Assert.Single(m.Find("natsjs_stream_peer_is_leader", L("stream", "ORDERS")), s => s.Value == 1);
        Assert.Equal(leader, marked["peer"]);
        Assert.Equal(["n1", "n2", "n3"], m.Find("natsjs_stream_peer_is_leader", L("stream", "ORDERS")).Select(s => s["peer"]).Order());

        // Every server answers, with its JetStream summary; the meta group has one leader and three peers.
        foreach (var n in cluster.Nodes)
        {
            Assert.Equal(1, m.Value("natsjs_up", L("server", n.Name)));
            Assert.Equal(1, m.Value("natsjs_server_info", L("server", n.Name), L("cluster", "c1")));
        }
        // Server-level counts are per replica: ORDERS (R3) counts on all three, EVENTS (R1) on one.
        Assert.Equal(4, m.Find("natsjs_server_streams").Sum(s => s.Value));
        Assert.Equal(1, m.Value("natsjs_meta_has_leader", L("cluster", "c1")));
        Assert.Equal(metaLeader, Assert.Single(m.Find("natsjs_meta_is_leader"), s => s.Value == 1)["server"]);
        Assert.Equal(3, m.Find("natsjs_meta_peer_current").Count(s => s.Value == 1));
        Assert.Equal(25 + 5, m.Find("natsjs_stream_messages").Sum(s => s.Value));

        // The live output is valid exposition text.
        var text = await exporter.MetricsTextAsync();
        var psi = new ProcessStartInfo("promtool", "check metrics") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var promtool = Process.Start(psi)!;
        await promtool.StandardInput.WriteAsync(text);
        promtool.StandardInput.Close();
        var problems = await promtool.StandardOutput.ReadToEndAsync() + await promtool.StandardError.ReadToEndAsync();
        await promtool.WaitForExitAsync();
        Assert.True(promtool.ExitCode == 0, "promtool check metrics: " + problems);
    }

    /// <summary>How long a system-account exporter connected to a frozen server may stay blind (pings, then reconnect).</summary>
    private static readonly TimeSpan SystemReconnect = TimeSpan.FromSeconds(90);

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task A_frozen_replica_turns_outdated_with_growing_lag_and_recovers_when_resumed_then_killing_the_meta_leader_moves_leadership(string version)
    {
        await using var cluster = await NatsCluster.StartAsync(binary: NatsVersions.Binary(version));
        await using var demo = await Demo.ConnectAsync(cluster);
        await demo.CreateStreamAsync("ORDERS", replicas: 3);
        await demo.PublishAsync("ORDERS", 10);
        await using var exporters = await Exporters.StartAsync(cluster);
        await exporters.WaitForAsync("all ORDERS peers current", e =>
            e.Find("natsjs_stream_peer_current", L("stream", "ORDERS")).Count(s => s.Value == 1) == 3, Converge);

        // Freeze a follower that does not lead the meta group either, so only the replica suffers.
        var streamLeader = await cluster.StreamLeaderAsync("ORDERS");
        var metaLeader = await cluster.MetaLeaderAsync();
        var victim = cluster.Nodes.Select(n => n.Name).First(n => n != streamLeader && n != metaLeader);
        // Publish through the stream leader: a client connected to the frozen node would stall.
        await using var leaderClient = await Demo.ConnectAsync(cluster, streamLeader);
        using var publishing = new CancellationTokenSource();
        var publisher = leaderClient.PublishUntilAsync("ORDERS", publishing.Token);
        var sw = Stopwatch.StartNew();
        cluster.Freeze(victim);
        try
        {
            await Task.WhenAll(exporters.All.Select(async x =>
            {
                var (mode, exporter) = x;
                // The system-account exporter's one connection may sit on the frozen server: it
                // notices only by missed pings (10 s x 2) and then reconnects, maybe trying the
                // frozen server first (5 s connect timeout): up to ~45 s blind (seen in a fresh CI run).
                var outdated = await exporter.WaitForAsync($"[{mode} mode] {victim} outdated on ORDERS", e =>
                    e.Value("natsjs_stream_peer_current", L("stream", "ORDERS"), L("peer", victim)) == 0,
                    mode == "system" ? SystemReconnect : Converge);
                output.WriteLine($"{mode}: {victim} reported outdated {sw.Elapsed.TotalSeconds:0.0}s after SIGSTOP");
                var lag1 = outdated.Value("natsjs_stream_peer_lag", L("stream", "ORDERS"), L("peer", victim))!.Value;
                await exporter.WaitForAsync($"[{mode} mode] {victim} lag grows past {lag1}", e =>
                    e.Value("natsjs_stream_peer_lag", L("stream", "ORDERS"), L("peer", victim)) > lag1, Converge);
                var down = await exporter.MetricsAsync();
                Assert.True(down.Value("natsjs_up", L("server", victim)) == 0, $"[{mode} mode] natsjs_up of frozen {victim}");
                Assert.True(down.Value("natsjs_up", L("server", streamLeader!)) == 1, $"[{mode} mode] natsjs_up of leader {streamLeader}");
                Assert.True(down.Value("natsjs_stream_has_leader", L("stream", "ORDERS")) == 1, $"[{mode} mode] ORDERS has a leader");
            }));
        }
        finally
        {
            cluster.Resume(victim);
        }

        await exporters.WaitForAsync($"{victim} current again", e =>
            e.Value("natsjs_stream_peer_current", L("stream", "ORDERS"), L("peer", victim)) == 1
            && e.Value("natsjs_up", L("server", victim)) == 1, Converge);
        publishing.Cancel();
        await publisher;

        // Then the meta leader is killed, on the same recovered cluster (one start per server
        // generation for both scenarios): leadership moves to another server.
        var before = await exporters.WaitForAsync("a meta leader", e => e.Find("natsjs_meta_is_leader").Count(s => s.Value == 1) == 1, Converge);
        var oldLeader = Assert.Single(before[0].Find("natsjs_meta_is_leader"), s => s.Value == 1)["server"];
        var named = before.Select(m => m.Find("natsjs_meta_is_leader").Single(s => s.Value == 1)["server"]).ToArray();
        Assert.True(named.All(n => n == oldLeader), $"the two modes name different meta leaders: {string.Join(", ", named)}");

        cluster.Kill(oldLeader);
        var afters = await exporters.WaitForAsync("a new meta leader", e =>
            e.Find("natsjs_meta_is_leader").Count(s => s.Value == 1) == 1
            && e.Find("natsjs_meta_is_leader").Single(s => s.Value == 1)["server"] != oldLeader, Converge);

        var newLeader = await cluster.MetaLeaderAsync();
        for (int i = 0; i < Modes.Length; i++)
        {
            var (mode, after) = (Modes[i], afters[i]);
            Assert.True(after.Value("natsjs_up", L("server", oldLeader)) == 0, $"[{mode} mode] natsjs_up of killed {oldLeader}");
            Assert.True(after.Value("natsjs_meta_is_leader", L("server", oldLeader)) == 0, $"[{mode} mode] {oldLeader} still leads");
            Assert.True(after.Value("natsjs_meta_has_leader", L("cluster", "c1")) == 1, $"[{mode} mode] natsjs_meta_has_leader");
            Assert.True(after.Value("natsjs_meta_leader_changes_total", L("cluster", "c1")) >= 1, $"[{mode} mode] the leader change is counted");
            Assert.Equal(newLeader, after.Find("natsjs_meta_is_leader").Single(s => s.Value == 1)["server"]);
        }
    }
}

[CollectionDefinition("real processes", DisableParallelization = true)]
public sealed class RealProcessesCollection;
