using NatsJsExporter.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// /raftz on a real 2.15.1 cluster: a frozen follower's last replicated index stalls in its leader's
/// raftz (the exported lag grows) and the R3 quorum margin drops to 0; resumed, it catches up and
/// the margins recover; killed, the margins drop again.
/// </summary>
[Collection("real processes")]
public sealed class RaftzScenarioTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    private static (string, string) L(string label, string value) => (label, value);

    [Fact]
    public async Task A_frozen_follower_lags_in_the_leaders_raftz_and_the_quorum_margins_follow_it()
    {
        await using var cluster = await NatsCluster.StartAsync(binary: NatsVersions.Binary("2.15.1"));
        await using var demo = await Demo.ConnectAsync(cluster);
        await demo.CreateStreamAsync("ORDERS", replicas: 3);
        await demo.CreateConsumerAsync("ORDERS", "PROCESSOR");
        await demo.PublishAsync("ORDERS", 10);
        await using var exporter = await ExporterProcess.StartAsync("--monitor-urls", cluster.MonitorUrls, "--interval", "1s", "--timeout", "1s",
            "--raftz-groups", "all");
        var healthy = await exporter.WaitForAsync("raftz for ORDERS from its leader, margins 1", e =>
            e.Find("natsjs_stream_raft_peer_lag", L("stream", "ORDERS")).Count() == 2
            && e.Value("natsjs_stream_quorum_margin", L("stream", "ORDERS")) == 1
            && e.Value("natsjs_meta_quorum_margin", L("cluster", "c1")) == 1, Converge);
        Assert.Equal(3, healthy.Find("natsjs_meta_raft_term_total").Count());
        Assert.Equal(3, healthy.Find("natsjs_consumer_raft_applied_behind", L("consumer", "PROCESSOR")).Count());
        Assert.Equal(1, healthy.Value("natsjs_meta_leaders_named", L("cluster", "c1")));

        var streamLeader = await cluster.StreamLeaderAsync("ORDERS");
        var metaLeader = await cluster.MetaLeaderAsync();
        var victim = cluster.Nodes.Select(n => n.Name).First(n => n != streamLeader && n != metaLeader);
        await using var leaderClient = await Demo.ConnectAsync(cluster, streamLeader);
        using var publishing = new CancellationTokenSource();
        var publisher = leaderClient.PublishUntilAsync("ORDERS", publishing.Token);
        cluster.Freeze(victim);
        try
        {
            var behind = await exporter.WaitForAsync($"{victim} behind in {streamLeader}'s raftz, margin 0", e =>
                e.Value("natsjs_stream_raft_peer_lag", L("stream", "ORDERS"), L("peer", victim)) > 0
                && e.Value("natsjs_stream_quorum_margin", L("stream", "ORDERS")) == 0, Converge);
            var lag1 = behind.Value("natsjs_stream_raft_peer_lag", L("stream", "ORDERS"), L("peer", victim))!.Value;
            var grown = await exporter.WaitForAsync($"{victim}'s raftz lag grows past {lag1}", e =>
                e.Value("natsjs_stream_raft_peer_lag", L("stream", "ORDERS"), L("peer", victim)) > lag1, Converge);
            output.WriteLine($"{victim} raftz lag {lag1} -> {grown.Value("natsjs_stream_raft_peer_lag", L("stream", "ORDERS"), L("peer", victim))}");
            // The other follower keeps up.
            var other = cluster.Nodes.Select(n => n.Name).First(n => n != streamLeader && n != victim);
            Assert.True(grown.Value("natsjs_stream_raft_peer_lag", L("stream", "ORDERS"), L("peer", other)) < lag1);
        }
        finally
        {
            publishing.Cancel();
            await publisher;
            cluster.Resume(victim);
        }

        await exporter.WaitForAsync($"{victim} caught up, margins back to 1", e =>
            e.Value("natsjs_stream_raft_peer_lag", L("stream", "ORDERS"), L("peer", victim)) == 0
            && e.Value("natsjs_stream_quorum_margin", L("stream", "ORDERS")) == 1
            && e.Value("natsjs_meta_quorum_margin", L("cluster", "c1")) == 1, Converge);

        cluster.Kill(victim);
        var killed = await exporter.WaitForAsync($"{victim} killed: margins 0", e =>
            e.Value("natsjs_stream_quorum_margin", L("stream", "ORDERS")) == 0
            && e.Value("natsjs_meta_quorum_margin", L("cluster", "c1")) == 0, Converge);
        Assert.Equal(2, killed.Value("natsjs_meta_servers_answering", L("cluster", "c1")));
        Assert.Equal(3, killed.Value("natsjs_meta_cluster_size", L("cluster", "c1")));
    }
}
