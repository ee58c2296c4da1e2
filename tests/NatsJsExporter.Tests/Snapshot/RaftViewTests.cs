using System.Text;
using System.Text.Json;
using NatsJsExporter.Metrics;
using NatsJsExporter.Model;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Sources;
using NatsJsExporter.Tests.Support;
using NatsJsExporter.Views;

namespace NatsJsExporter.Tests.Snapshot;

/// <summary>/raftz state (real 2.15.1 captures) mapped to streams and consumers, quorum margins, and the problems they raise.</summary>
public sealed class RaftViewTests
{
    private const string Healthy = "2.15.1-cluster-raftz", Frozen = "2.15.1-cluster-raftz-frozen";

    private static string Prom(ClusterSnapshot s) => Encoding.UTF8.GetString(MetricsRenderer.Render(s, "test", includeExporter: false));

    private static HealthReport Health(ClusterSnapshot s) => HealthCheck.Evaluate(s, s.CollectedAt);

    private static string RaftGroupOf(List<ServerReport> reports, string stream) =>
        reports.Where(r => r.Jsz is not null).SelectMany(r => r.Jsz!.AccountDetails ?? []).SelectMany(a => a.StreamDetail ?? [])
            .First(s => s.Name == stream && s.Cluster?.RaftGroup is not null).Cluster!.RaftGroup!;

    [Fact]
    public void A_frozen_follower_lags_in_its_leaders_raftz_and_leaves_the_stream_at_quorum_margin_0()
    {
        var reports = Fixtures.Reports(Frozen);
        var s = Fixtures.Build(reports).Snapshot;
        var orders = s.Streams.Single(x => x.Name == "ORDERS");
        var frozen = File.ReadAllLines(Path.Combine(Fixtures.Dir(Frozen), "targets-down.txt")).Single(l => !l.StartsWith('#')).Trim();

        // Expected from the leader's raw /raftz: its pindex minus the frozen peer's last replicated index.
        string group = RaftGroupOf(reports, "ORDERS");
        var raw = reports.Single(r => r.ServerName == orders.Leader).Raftz!["APP"][group];
        ulong stalledAt = raw.Peers!.Values.Single(p => p.Name == frozen).LastReplicatedIndex!.Value;
        Assert.True(raw.Pindex > stalledAt);

        var view = s.Raft.Groups.Single(g => g.Kind == RaftGroupKind.Stream && g.Stream == "ORDERS");
        var leader = view.Replicas.Single(r => r.Server == orders.Leader);
        Assert.Equal(raw.Pindex - stalledAt, leader.Peers.Single(p => p.Peer == frozen).Lag);
        Assert.Contains($"natsjs_stream_raft_peer_lag{{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\",peer=\"{frozen}\"}} {raw.Pindex - stalledAt}\n", Prom(s));

        Assert.Equal(0, Quorum.Margin(orders));
        Assert.Contains("natsjs_stream_quorum_margin{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\"} 0\n", Prom(s));
        Assert.Contains(Health(s).Problems, p => p.Kind == ProblemKind.QuorumAtRisk && p.Stream == "ORDERS" && p.Consumer is null);
    }

    [Fact]
    public void A_healthy_cluster_has_full_margins_no_lag_and_no_raft_problem()
    {
        var s = Fixtures.Snapshot(Healthy);
        Assert.All(s.Streams.Where(x => x.ReplicasConfigured == 3), x => Assert.Equal(1, Quorum.Margin(x)));
        Assert.Equal(1, Quorum.Margin(s.MetaGroups.Single()));
        Assert.All(s.Raft.Groups.SelectMany(g => g.Replicas), r => Assert.Equal(0UL, r.AppliedBehind));
        Assert.Empty(Health(s).Problems);
        Assert.Equal(1, s.Raft.Meta.Single().LeadersNamed);
        Assert.Equal(3, s.Raft.Meta.Single().ServersAnswering);
    }

    [Fact]
    public void Groups_are_labelled_by_stream_and_consumer_and_node_ids_become_server_names()
    {
        var reports = Fixtures.Reports(Healthy);
        var s = Fixtures.Build(reports).Snapshot;
        // Every group a server listed in /raftz is mapped (meta, 2 streams, 2 consumers in the demo setup).
        int listed = reports.SelectMany(r => r.Raftz!.Values.SelectMany(a => a.Keys)).Distinct().Count();
        Assert.Equal(listed, s.Raft.Groups.Count);
        Assert.Contains(s.Raft.Groups, g => g.Kind == RaftGroupKind.Consumer && g.Stream == "ORDERS" && g.Consumer == "PROCESSOR");
        foreach (var g in s.Raft.Groups.Where(g => g.Kind == RaftGroupKind.Stream))
        {
            var stream = s.Streams.Single(x => x.Name == g.Stream);
            Assert.All(g.Replicas, r => Assert.Equal(stream.Leader, r.Leader));
        }
        Assert.All(s.Raft.Groups.Where(g => g.Kind == RaftGroupKind.Meta).SelectMany(g => g.Replicas), r => Assert.Equal(s.MetaGroups.Single().Leader, r.Leader));

        var prom = Prom(s);
        var nodeIds = reports.SelectMany(r => r.Raftz!.Values.SelectMany(a => a.Values)).SelectMany(g => g.Peers!.Keys.Append(g.Id!)).Distinct();
        Assert.All(nodeIds, id => Assert.DoesNotContain("\"" + id + "\"", prom));
        Assert.DoesNotContain("R3F-", prom);
        Assert.DoesNotContain("\"_meta_\"", prom);
    }

    private static List<ServerReport> WithGroup(List<ServerReport> reports, string server, string stream, Func<RaftzGroupDto, RaftzGroupDto> change)
    {
        string group = RaftGroupOf(reports, stream);
        var raftz = reports.Single(r => r.ServerName == server).Raftz!["APP"];
        raftz[group] = change(raftz[group]);
        return reports;
    }

    [Fact]
    public void Applied_behind_committed_is_a_problem_only_when_it_persists_across_polls()
    {
        // As seen on a real replica after its store was damaged: committed, not applied.
        List<ServerReport> Poll(ulong applied) =>
            WithGroup(Fixtures.Reports(Healthy), "n2", "ORDERS", g => g with { Committed = 1502, Pindex = 1502, Applied = applied });

        var first = Fixtures.Build(Poll(0)).Snapshot;
        Assert.Contains("natsjs_stream_raft_applied_behind{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\",server=\"n2\"} 1502\n", Prom(first));
        Assert.DoesNotContain(Health(first).Problems, p => p.Kind == ProblemKind.RaftAppliedBehind); // one poll is not a trend

        var second = Fixtures.Build(Poll(0), previous: first).Snapshot;
        var p = Assert.Single(Health(second).Problems, x => x.Kind == ProblemKind.RaftAppliedBehind);
        Assert.Equal(("ORDERS", "n2", Severity.Warning), (p.Stream, p.Server, p.Severity));

        // Applying moves on (past the last poll's commit index) while new entries keep coming: no problem.
        var moving = Fixtures.Build(WithGroup(Fixtures.Reports(Healthy), "n2", "ORDERS", g => g with { Committed = 1600, Pindex = 1600, Applied = 1590 }), previous: second).Snapshot;
        Assert.DoesNotContain(Health(moving).Problems, x => x.Kind == ProblemKind.RaftAppliedBehind);
    }

    [Fact]
    public void A_wal_error_is_critical_and_exported_as_1()
    {
        using var error = JsonDocument.Parse("{}");
        var reports = WithGroup(Fixtures.Reports(Healthy), "n1", "ORDERS", g => g with { WalError = error.RootElement.Clone() });
        var s = Fixtures.Build(reports).Snapshot;
        Assert.Contains("natsjs_stream_raft_wal_error{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\",server=\"n1\"} 1\n", Prom(s));
        var p = Assert.Single(Health(s).Problems);
        Assert.Equal((ProblemKind.RaftWalError, Severity.Critical, "n1"), (p.Kind, p.Severity, p.Server));
    }

    [Fact]
    public void Servers_naming_different_meta_leaders_are_a_disagreement()
    {
        var reports = Fixtures.Reports(Healthy);
        string leader = reports[0].Jsz!.MetaCluster!.Leader!;
        var follower = reports.First(r => r.ServerName != leader);
        string other = reports.First(r => r.ServerName != leader && r != follower).ServerName!;
        reports[reports.IndexOf(follower)] = follower with { Jsz = follower.Jsz! with { MetaCluster = follower.Jsz.MetaCluster! with { Leader = other } } };
        var s = Fixtures.Build(reports).Snapshot;
        Assert.Equal(2, s.Raft.Meta.Single().LeadersNamed);
        Assert.Contains("natsjs_meta_leaders_named{cluster=\"c1\"} 2\n", Prom(s));
        var p = Assert.Single(Health(s).Problems, x => x.Kind == ProblemKind.MetaLeaderDisagreement);
        Assert.Contains($"{follower.ServerName} says {other}", p.Message);
    }

    [Fact]
    public void A_cluster_size_larger_than_the_peers_the_leader_knows_is_a_size_mismatch()
    {
        // nats-server issue 6403: cluster_size counts servers that do not exist.
        var reports = Fixtures.Reports(Healthy);
        string leader = reports[0].Jsz!.MetaCluster!.Leader!;
        var r = reports.Single(x => x.ServerName == leader);
        reports[reports.IndexOf(r)] = r with { Jsz = r.Jsz! with { MetaCluster = r.Jsz.MetaCluster! with { ClusterSize = 5 } } };
        var s = Fixtures.Build(reports).Snapshot;
        Assert.Contains(Health(s).Problems, p => p.Kind == ProblemKind.MetaSizeMismatch);
        Assert.Equal(0, Quorum.Margin(s.MetaGroups.Single())); // 3 healthy of 5: quorum 3
        Assert.Contains("natsjs_meta_servers_answering{cluster=\"c1\"} 3\n", Prom(s));
    }

    [Fact]
    public void Older_versions_get_margins_but_no_raft_families()
    {
        var s = Fixtures.Snapshot("2.9.10-cluster-replica-frozen");
        Assert.Empty(s.Raft.Groups);
        var prom = Prom(s);
        Assert.DoesNotContain("_raft_", prom);
        Assert.Contains("natsjs_stream_quorum_margin{", prom);
    }

    [Theory]
    [InlineData(3, 3, 0, 1)]
    [InlineData(3, 2, 0, 0)]
    [InlineData(3, 1, 0, -1)]
    [InlineData(3, 1, 1, -1)] // an offline peer does not count even if reported current
    [InlineData(5, 3, 0, 0)]
    [InlineData(1, 1, 0, 0)]
    public void Quorum_margin_is_current_and_online_minus_majority(long replicas, int current, int currentButOffline, long expected)
    {
        var peers = Enumerable.Range(0, (int)replicas).Select(i => new PeerView
        {
            Name = "n" + i,
            IsLeader = i == 0,
            Current = i < current + currentButOffline,
            Offline = i >= current && i < current + currentButOffline,
        }).ToArray();
        Assert.Equal(expected, Quorum.Margin(replicas, peers));
    }

    [Fact]
    public void Margin_is_unknown_without_a_leaders_view()
    {
        Assert.Null(Quorum.Margin(3, [new PeerView { Name = "n1", IsLeader = false }, new PeerView { Name = "n2", IsLeader = false, Current = true }]));
    }

    [Theory]
    [InlineData("15.53s", 15.53)]
    [InlineData("12m8.6s", 728.6)]
    [InlineData("782.236366ms", 0.782236366)]
    [InlineData("1h2m3s", 3723.0)]
    [InlineData("bogus", null)]
    public void Go_durations_parse(string text, double? seconds)
    {
        var got = RaftViews.GoDuration(text);
        if (seconds is null) Assert.Null(got);
        else Assert.Equal(seconds.Value, got!.Value, 6);
    }
}
