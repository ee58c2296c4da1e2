using System.Diagnostics;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Net;
using NatsJsExporter.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// The super-cluster of the JetStream cluster administration guide with real processes: clusters
/// c1 (n1-c1..n3-c1) and c2 (n1-c2..n3-c2) joined by gateways, one meta group of six, R3 streams
/// placed in each cluster, and the real exporter through both sources. Runs on Debian's
/// nats-server 2.9.10 (the peer-removal scenario depends on its behaviour, see there).
/// </summary>
[Collection("real processes")]
public sealed class SuperClusterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(45);
    private static readonly string[] C1 = ["n1-c1", "n2-c1", "n3-c1"];
    private static readonly string[] C2 = ["n1-c2", "n2-c2", "n3-c2"];

    private static (string, string) L(string label, string value) => (label, value);

    /// <summary>HTTP: all six monitor ports. System account: ONE connection to one server (the PING crosses the gateways).</summary>
    private static Task<ExporterProcess> StartExporterAsync(NatsSuperCluster sc, string mode, string connectTo = "n2-c2") => mode switch
    {
        "http" => ExporterProcess.StartAsync("--monitor-urls", sc.MonitorUrls, "--interval", "1s", "--timeout", "900ms"),
        "system" => ExporterProcess.StartWithEnvironmentAsync(new Dictionary<string, string> { ["NATSJS_NATS_PASSWORD"] = "sys" },
            "--nats-url", sc[connectTo].ClientUrl, "--nats-user", "sys", "--interval", "1s", "--timeout", "900ms"),
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    private static async Task<NatsClient> ConnectAppAsync(NatsSuperCluster sc, string node)
    {
        var client = new NatsClient(new NatsOpts
        {
            Url = sc[node].ClientUrl,
            AuthOpts = new NatsAuthOpts { Username = "app", Password = "app" },
            RequestTimeout = TimeSpan.FromSeconds(10),
        });
        await client.ConnectAsync();
        return client;
    }

    private static async Task CreateStreamAsync(INatsJSContext js, string name, string cluster, int replicas = 3)
    {
        var deadline = DateTime.UtcNow.AddSeconds(45);
        while (true)
        {
            try
            {
                await js.CreateStreamAsync(new StreamConfig(name, [name.ToLowerInvariant() + ".>"])
                {
                    NumReplicas = replicas,
                    Placement = new Placement { Cluster = cluster },
                });
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500); // placement needs the meta leader to know the other cluster's servers
            }
        }
    }

    private static Task PublishAsync(INatsJSContext js, string stream, int count) => Demo.PublishAsync(js, stream, count);

    private static Func<Exposition, bool> AllCurrent(string stream, int peers) => e =>
        e.Find("natsjs_stream_peer_current", L("stream", stream)).Count(s => s.Value == 1) == peers;

    private static string[] Peers(Exposition m, string stream) =>
        m.Find("natsjs_stream_peer_is_leader", L("stream", stream)).Select(s => s["peer"]).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Both sources at once on one super-cluster (an HTTP-mode and a system-account exporter), the same assertions on each.</summary>
    [Fact]
    public async Task Streams_belong_to_their_cluster_and_the_meta_group_spans_both()
    {
        var sw = Stopwatch.StartNew();
        await using var sc = await NatsSuperCluster.StartAsync();
        output.WriteLine($"super-cluster ready after {sw.Elapsed.TotalSeconds:0.0}s");
        await using var app = await ConnectAppAsync(sc, "n1-c1");
        var js = app.CreateJetStreamContext();
        await CreateStreamAsync(js, "ORDERS", "c1");
        await CreateStreamAsync(js, "SHIPMENTS", "c2");
        await js.CreateOrUpdateConsumerAsync("SHIPMENTS", new ConsumerConfig("TRACKER") { AckPolicy = ConsumerConfigAckPolicy.Explicit });
        await PublishAsync(js, "ORDERS", 20);
        await PublishAsync(js, "SHIPMENTS", 7);
        await using var httpExporter = await StartExporterAsync(sc, "http");
        await using var systemExporter = await StartExporterAsync(sc, "system");
        await Task.WhenAll(new[] { ("http", httpExporter), ("system", systemExporter) }.Select(async x =>
        {
            var (mode, exporter) = x;
            await AssertStreamsBelongToTheirClusterAsync(sc, mode, exporter, sw);
        }));
    }

    private async Task AssertStreamsBelongToTheirClusterAsync(NatsSuperCluster sc, string mode, ExporterProcess exporter, Stopwatch sw)
    {
        var m = await exporter.WaitForAsync($"[{mode} mode] both streams with 3 current peers, six servers up", e =>
            AllCurrent("ORDERS", 3)(e) && AllCurrent("SHIPMENTS", 3)(e)
            && e.Value("natsjs_stream_messages", L("stream", "ORDERS")) == 20
            && e.Value("natsjs_stream_messages", L("stream", "SHIPMENTS")) == 7
            && e.Find("natsjs_up").Count(s => s.Value == 1) == 6
            && e.Find("natsjs_meta_peer_current").Count(s => s.Value == 1) == 6, Converge);
        output.WriteLine($"{mode}: converged after {sw.Elapsed.TotalSeconds:0.0}s");

        // Every server in its own cluster, all six seen (over one connection in system mode).
        foreach (var n in sc.Nodes)
            Assert.Equal(1, m.Value("natsjs_server_info", L("server", n.Name), L("cluster", n.Cluster)));
        Assert.Equal(6, m.Value("natsjs_servers_responded"));

        // Each stream once, labelled with the cluster it is placed in, with that cluster's peers only.
        Assert.Single(m.Find("natsjs_stream_info", L("stream", "ORDERS")));
        Assert.Single(m.Find("natsjs_stream_info", L("stream", "ORDERS"), L("cluster", "c1")));
        Assert.Single(m.Find("natsjs_stream_info", L("stream", "SHIPMENTS"), L("cluster", "c2")));
        Assert.Equal(C1, Peers(m, "ORDERS"));
        Assert.Equal(C2, Peers(m, "SHIPMENTS"));
        Assert.All(m.Find("natsjs_stream_peer_current", L("stream", "SHIPMENTS")), s => Assert.Equal("c2", s["cluster"]));
        Assert.Equal(C2, m.Find("natsjs_consumer_peer_is_leader", L("consumer", "TRACKER")).Select(s => s["peer"]).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(m.Samples, s => s.Name.StartsWith("natsjs_stream_", StringComparison.Ordinal) && s.Labels.ContainsKey("domain"));

        // ONE meta group for the super-cluster: one has_leader series, six peers, one leader.
        var hasLeader = Assert.Single(m.Find("natsjs_meta_has_leader"));
        Assert.Equal(1, hasLeader.Value);
        Assert.Equal("c1", hasLeader["cluster"]);
        Assert.Equal(6, m.Value("natsjs_meta_cluster_size"));
        Assert.Equal(C1.Concat(C2).Order(StringComparer.Ordinal), m.Find("natsjs_meta_is_leader").Select(s => s["server"]).Order(StringComparer.Ordinal));
        var metaLeader = Assert.Single(m.Find("natsjs_meta_is_leader"), s => s.Value == 1)["server"];
        Assert.Equal(await sc.MetaLeaderAsync(), metaLeader);
        Assert.All(m.Find("natsjs_meta_peer_current"), s => Assert.Equal("c1", s["cluster"]));
    }

    [Fact]
    public async Task Freezing_a_node_in_c2_marks_only_c2_replicas_outdated_and_its_meta_peer_not_current()
    {
        await using var sc = await NatsSuperCluster.StartAsync();
        await using var app = await ConnectAppAsync(sc, "n1-c1");
        var js = app.CreateJetStreamContext();
        await CreateStreamAsync(js, "ORDERS", "c1");
        await CreateStreamAsync(js, "SHIPMENTS", "c2");
        await PublishAsync(js, "ORDERS", 5);
        await PublishAsync(js, "SHIPMENTS", 5);
        // A c2 follower that leads neither SHIPMENTS nor the meta group.
        var (streamLeader, _) = await sc.StreamGroupAsync("SHIPMENTS");
        var metaLeader = await sc.MetaLeaderAsync();
        var victim = C2.First(n => n != streamLeader && n != metaLeader);
        // System-account mode through a server in c1: c2's answers arrive over the gateway. Each c1
        // server sends to c2 through one c2 server (its outbound gateway); through the victim, the
        // PING would reach no c2 server until the gateway's pings give up on it (a real blind spot,
        // see README "Failure behaviour"), so connect through a c1 server whose gateway avoids it.
        var gateways = new Dictionary<string, string?>();
        foreach (var n in C1) gateways[n] = await sc.OutboundGatewayPeerAsync(n, "c2");
        // When every c1 server's gateway runs through the victim (seen on a fresh CI run: the PING then
        // reached no c2 server for the whole test), connect through another c2 server instead: c2
        // answers directly and c1 over that server's own gateway, which does not touch the victim.
        var connectTo = C1.FirstOrDefault(n => gateways[n] is { } peer && peer != victim)
            ?? C2.First(n => n != victim);
        output.WriteLine($"SHIPMENTS leader {streamLeader}, meta leader {metaLeader}, freezing {victim}; "
            + $"c1 gateways to c2: {string.Join(", ", gateways.Select(kv => $"{kv.Key}->{kv.Value}"))}; exporter connects to {connectTo}");
        await using var exporter = await StartExporterAsync(sc, "system", connectTo: connectTo);
        await exporter.WaitForAsync("both streams current, meta group current", e =>
            AllCurrent("ORDERS", 3)(e) && AllCurrent("SHIPMENTS", 3)(e)
            && e.Find("natsjs_meta_peer_current").Count(s => s.Value == 1) == 6, Converge);
        using var publishing = new CancellationTokenSource();
        var publisher = Task.Run(async () =>
        {
            while (!publishing.IsCancellationRequested)
            {
                try
                {
                    await js.PublishAsync("shipments.new", "x", cancellationToken: publishing.Token);
                    await js.PublishAsync("orders.new", "x", cancellationToken: publishing.Token);
                    await Task.Delay(50, publishing.Token);
                }
                catch (Exception) when (!publishing.IsCancellationRequested) { }
                catch (OperationCanceledException) { }
            }
        });
        var sw = Stopwatch.StartNew();
        sc.Freeze(victim);
        try
        {
            var m = await exporter.WaitForAsync($"{victim} outdated on SHIPMENTS and not current in the meta group", e =>
                e.Value("natsjs_stream_peer_current", L("stream", "SHIPMENTS"), L("peer", victim)) == 0
                && e.Value("natsjs_meta_peer_current", L("peer", victim)) == 0, Converge);
            output.WriteLine($"{victim} outdated and meta peer not current {sw.Elapsed.TotalSeconds:0.0}s after SIGSTOP");

            // Only c2's replicas suffer; c1's stream stays fully current, labelled c1.
            Assert.Equal("c2", m.Find("natsjs_stream_peer_current", L("peer", victim)).Single()["cluster"]);
            Assert.Equal(3, m.Find("natsjs_stream_peer_current", L("stream", "ORDERS"), L("cluster", "c1")).Count(s => s.Value == 1));
            Assert.Equal(2, m.Find("natsjs_stream_peer_current", L("stream", "SHIPMENTS")).Count(s => s.Value == 1));
            Assert.DoesNotContain(m.Find("natsjs_stream_peer_current"), s => s.Value == 0 && s["peer"] != victim);
            // The meta group is still one group of six with its leader. (An idle meta follower
            // elsewhere may flap to not current for a moment on 2.9.10, so only the victim is asserted.)
            Assert.Equal(1, Assert.Single(m.Find("natsjs_meta_has_leader")).Value);
            Assert.Equal(6, m.Find("natsjs_meta_peer_current").Count());
            Assert.Equal("c1", m.Find("natsjs_meta_peer_current", L("peer", victim)).Single()["cluster"]);
            Assert.Equal(0, m.Value("natsjs_up", L("server", victim)));
            Assert.Equal(5, m.Find("natsjs_up").Count(s => s.Value == 1));
        }
        finally
        {
            sc.Resume(victim);
        }
        await exporter.WaitForAsync($"{victim} current again", e =>
            e.Value("natsjs_stream_peer_current", L("stream", "SHIPMENTS"), L("peer", victim)) == 1
            && e.Value("natsjs_meta_peer_current", L("peer", victim)) == 1
            && e.Value("natsjs_up", L("server", victim)) == 1, Converge);
        publishing.Cancel();
        await publisher;
    }

    [Fact]
    public async Task Leader_step_down_is_counted_and_a_removed_peer_leaves_the_stream_under_replicated_until_replaced()
    {
        await using var sc = await NatsSuperCluster.StartAsync();
        await using var app = await ConnectAppAsync(sc, "n1-c1");
        var js = app.CreateJetStreamContext();
        await CreateStreamAsync(js, "SHIPMENTS", "c2");
        await PublishAsync(js, "SHIPMENTS", 10);
        await using var exporter = await StartExporterAsync(sc, "http");
        var before = await exporter.WaitForAsync("SHIPMENTS current with a leader", AllCurrent("SHIPMENTS", 3), Converge);
        var oldLeader = Assert.Single(before.Find("natsjs_stream_peer_is_leader", L("stream", "SHIPMENTS")), s => s.Value == 1)["peer"];
        Assert.Equal(0, before.Value("natsjs_stream_leader_changes_total", L("stream", "SHIPMENTS")));

        // `nats stream cluster step-down SHIPMENTS`, as the APP user, through a server in c1.
        var stepdown = await app.RequestAsync<string, string>("$JS.API.STREAM.LEADER.STEPDOWN.SHIPMENTS", "");
        output.WriteLine("step-down: " + stepdown.Data);
        var afterStepdown = await exporter.WaitForAsync("a new SHIPMENTS leader, counted", e =>
            e.Value("natsjs_stream_leader_changes_total", L("stream", "SHIPMENTS")) >= 1
            && e.Find("natsjs_stream_peer_is_leader", L("stream", "SHIPMENTS")).Count(s => s.Value == 1) == 1
            && e.Find("natsjs_stream_peer_is_leader", L("stream", "SHIPMENTS")).Single(s => s.Value == 1)["peer"] != oldLeader, Converge);
        var leader = afterStepdown.Find("natsjs_stream_peer_is_leader", L("stream", "SHIPMENTS")).Single(s => s.Value == 1)["peer"];
        Assert.Equal((await sc.StreamGroupAsync("SHIPMENTS")).Leader, leader);
        Assert.Equal("c2", afterStepdown.Find("natsjs_stream_leader_changes_total", L("stream", "SHIPMENTS")).Single()["cluster"]);

        // `nats stream cluster peer-remove SHIPMENTS <follower>`. c2 has no fourth server to place a
        // replacement on: 2.9.10 answers "peer remap failed" but removes the peer anyway (2.10+
        // refuses and keeps it), so the stream runs on two peers, under-replicated.
        var victim = C2.First(n => n != leader);
        var remove = await app.RequestAsync<string, string>("$JS.API.STREAM.PEER.REMOVE.SHIPMENTS", $$"""{"peer":"{{victim}}"}""");
        output.WriteLine($"peer-remove {victim}: {remove.Data}");
        var under = await exporter.WaitForAsync($"SHIPMENTS without {victim}: 2 peers < 3 configured", e =>
            e.Find("natsjs_stream_peer_is_leader", L("stream", "SHIPMENTS")).Count() == 2
            && e.Find("natsjs_stream_peer_current", L("stream", "SHIPMENTS")).All(s => s.Value == 1), Converge);
        Assert.Equal(3, under.Value("natsjs_stream_replicas_configured", L("stream", "SHIPMENTS")));
        Assert.DoesNotContain(victim, Peers(under, "SHIPMENTS"));
        Assert.Equal(1, under.Value("natsjs_stream_has_leader", L("stream", "SHIPMENTS")));

        // The server places a new replica when the stream is re-scaled (R2, then R3 again): the
        // removed server is eligible again, joins, catches up, and every peer is current.
        var cfg = (await js.GetStreamAsync("SHIPMENTS")).Info.Config;
        await js.UpdateStreamAsync(cfg with { NumReplicas = 2 });
        await js.UpdateStreamAsync(cfg with { NumReplicas = 3 });
        var healed = await exporter.WaitForAsync("SHIPMENTS back to 3 current peers", AllCurrent("SHIPMENTS", 3), Converge);
        Assert.Equal(C2, Peers(healed, "SHIPMENTS"));
        Assert.Equal(10, healed.Value("natsjs_stream_messages", L("stream", "SHIPMENTS")));
    }
}
