using static NatsJsExporter.Views.ProblemKinds;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Tests.Support;
using NatsJsExporter.Views;

namespace NatsJsExporter.Tests.Views;

/// <summary>What counts as a problem, and how bad, over real captures and hand-built snapshots.</summary>
public class HealthCheckTests
{
    private static readonly DateTimeOffset Now = Fixtures.CollectedAt.AddSeconds(2);

    private static HealthReport Health(string fixture) => HealthCheck.Evaluate(Fixtures.Snapshot(fixture), Now);

    [Theory]
    [InlineData("2.9.10-cluster-healthy")]
    [InlineData("2.10-cluster")]
    [InlineData("2.9.10-single")]
    public void A_healthy_cluster_has_no_problems_and_exit_code_0(string fixture)
    {
        var health = Health(fixture);
        Assert.Empty(health.Problems);
        Assert.Equal("healthy", health.Status);
        Assert.Equal(0, health.ExitCode);
    }

    [Theory]
    [InlineData("2.12-cluster")]
    [InlineData("2.14-cluster")]
    public void The_authored_stalled_payments_replica_is_the_only_problem(string fixture)
    {
        // scenario.md: "PAYMENTS replica n3 is behind"; followers' nonsense views are not problems.
        // With one of three replicas behind, PAYMENTS is also one failure away from losing its quorum.
        var problems = Health(fixture).Problems;
        var p = Assert.Single(problems, x => x.Kind != ProblemKind.QuorumAtRisk);
        Assert.Equal(("replica_outdated", "PAYMENTS", "n3", Severity.Warning), (Id(p.Kind), p.Stream, p.Peer, p.Severity));
        var risk = Assert.Single(problems, x => x.Kind == ProblemKind.QuorumAtRisk);
        Assert.Equal(("PAYMENTS", null, Severity.Warning), (risk.Stream, risk.Server, risk.Severity));
    }

    [Fact]
    public void A_frozen_replica_is_a_warning_naming_the_stream_and_the_peer()
    {
        var health = Health("2.9.10-cluster-replica-frozen");

        Assert.Equal(1, health.ExitCode);
        Assert.Equal("warning", health.Status);
        Assert.DoesNotContain(health.Problems, p => p.Severity == Severity.Critical);
        var orders = Assert.Single(health.Problems, p => Id(p.Kind) == "replica_outdated" && p.Stream == "ORDERS");
        Assert.Equal(("APP", "n3"), (orders.Account, orders.Peer));
        Assert.Equal("stream APP > ORDERS: replica n3 is outdated (outdated, seen 15.03s ago, 150 operations behind)", orders.Message);
        Assert.Single(health.Problems, p => Id(p.Kind) == "replica_outdated" && p.Stream == "ORDERS_ARCHIVE" && p.Peer == "n3");
        Assert.Single(health.Problems, p => Id(p.Kind) == "target_down" && p.Peer == "n3");
        Assert.Single(health.Problems, p => Id(p.Kind) == "meta_peer_outdated" && p.Peer == "n3");
        Assert.Equal(2, health.Problems.Count(p => Id(p.Kind) == "consumer_replica_outdated" && p.Peer == "n3"));
        // Two current replicas of three keep the quorum: not critical.
        Assert.DoesNotContain(health.Problems, p => Id(p.Kind) == "stream_quorum_lost");
    }

    [Fact]
    public void A_leaderless_meta_group_is_critical()
    {
        var health = Health("2.9.10-cluster-meta-leaderless");
        Assert.Equal(2, health.ExitCode);
        var p = health.Problems[0];
        Assert.Equal((Severity.Critical, "meta_leader_missing"), (p.Severity, Id(p.Kind)));
        Assert.Contains(health.Problems, x => Id(x.Kind) == "target_down" && x.Peer == "n2");
    }

    [Fact]
    public void A_killed_node_is_an_offline_replica_and_a_down_target()
    {
        var health = Health("2.9.10-cluster-node-killed");
        Assert.Equal(1, health.ExitCode);
        Assert.Contains(health.Problems, p => Id(p.Kind) == "replica_offline" && p.Stream == "ORDERS" && p.Peer == "n1");
        Assert.Contains(health.Problems, p => Id(p.Kind) == "meta_peer_offline" && p.Peer == "n1");
        Assert.Contains(health.Problems, p => Id(p.Kind) == "target_down" && p.Peer == "n1");
        Assert.DoesNotContain(health.Problems, p => Id(p.Kind) == "replica_outdated" && p.Peer == "n1"); // offline, not both
    }

    [Fact]
    public void Data_older_than_three_intervals_is_stale_and_critical()
    {
        var s = Fixtures.Snapshot("2.9.10-cluster-healthy");
        Assert.Empty(HealthCheck.Evaluate(s, s.CollectedAt + 3 * s.PollInterval).Problems);
        var stale = HealthCheck.Evaluate(s, s.CollectedAt + 3 * s.PollInterval + TimeSpan.FromSeconds(1));
        var p = Assert.Single(stale.Problems);
        Assert.Equal((Severity.Critical, "stale_data"), (p.Severity, Id(p.Kind)));
        Assert.Equal(2, stale.ExitCode);
    }

    [Fact]
    public void All_targets_down_is_critical_no_data()
    {
        var s = Fixtures.Snapshot("2.9.10-cluster-healthy");
        s = s with { Targets = s.Targets.Select(t => t with { Up = false, LastError = "connection refused" }).ToArray(), Servers = [], MetaGroups = [], Streams = [] };
        var health = HealthCheck.Evaluate(s, Now);
        Assert.Equal("no_data", Id(health.Problems[0].Kind));
        // Each down server still says why it is down.
        Assert.Equal("no server answered the last poll (3 targets down): n1: connection refused; n2: connection refused; n3: connection refused",
            Assert.Single(health.Problems).Message);
        Assert.Equal(2, health.ExitCode);
    }

    [Fact]
    public void Fewer_servers_known_than_expected_is_a_warning_and_the_summary_counts_the_expected()
    {
        // One-shot system-account poll while a gateway peer of the other cluster is frozen: only
        // this cluster's three servers answer, the meta group says five. Not "all healthy".
        var s = Fixtures.Snapshot("2.9.10-cluster-healthy") with { ServersExpected = 5 };
        var health = HealthCheck.Evaluate(s, Now);

        var p = Assert.Single(health.Problems);
        Assert.Equal((Severity.Warning, "servers_missing"), (p.Severity, Id(p.Kind)));
        Assert.StartsWith("3 of 5 expected servers answered; 2 not heard from at all", p.Message);
        Assert.Equal(1, health.ExitCode);
        Assert.Equal((3, 5L), HealthCheck.Answered(s));

        // Servers already listed as down are named by target_down, not counted twice.
        var oneDown = s with { ServersExpected = 3, Targets = s.Targets.Select((t, i) => i == 0 ? t with { Up = false } : t).ToArray() };
        var h2 = HealthCheck.Evaluate(oneDown, Now);
        Assert.DoesNotContain(h2.Problems, x => Id(x.Kind) == "servers_missing");
        Assert.Single(h2.Problems, x => Id(x.Kind) == "target_down");
        Assert.Equal((2, 3L), HealthCheck.Answered(oneDown));
    }

    [Fact]
    public void Under_replicated_leaderless_and_quorum_lost_streams()
    {
        var s = Fixtures.Snapshot("2.9.10-cluster-healthy");
        var orders = s.Streams.Single(x => x.Name == "ORDERS");
        var under = orders with { Name = "UNDER", Peers = orders.Peers.Take(2).ToArray() };
        if (!under.Peers.Any(p => p.IsLeader)) under = under with { Peers = [orders.Peers.Single(p => p.IsLeader), orders.Peers.First(p => !p.IsLeader)] };
        var leaderless = orders with { Name = "NOLEADER", HasLeader = false, Leader = null, Peers = orders.Peers.Select(p => new PeerView { Name = p.Name, IsLeader = false }).ToArray() };
        var noQuorum = orders with { Name = "NOQUORUM", Peers = orders.Peers.Select(p => p.IsLeader ? p : p with { Current = false, Offline = true }).ToArray() };
        s = s with { Streams = [under, leaderless, noQuorum] };

        var health = HealthCheck.Evaluate(s, Now);

        Assert.Equal(2, health.ExitCode);
        Assert.Equal("stream APP > UNDER has 2 of 3 configured replicas (" + string.Join(", ", under.Peers.Select(p => p.Name)) + ")",
            Assert.Single(health.Problems, p => Id(p.Kind) == "stream_under_replicated").Message);
        Assert.Equal(Severity.Warning, health.Problems.Single(p => Id(p.Kind) == "stream_under_replicated").Severity);
        Assert.Equal(Severity.Critical, Assert.Single(health.Problems, p => Id(p.Kind) == "stream_leader_missing" && p.Stream == "NOLEADER").Severity);
        Assert.Equal(Severity.Critical, Assert.Single(health.Problems, p => Id(p.Kind) == "stream_quorum_lost" && p.Stream == "NOQUORUM").Severity);
        Assert.Equal(2, health.Problems.Count(p => Id(p.Kind) == "replica_offline" && p.Stream == "NOQUORUM"));
        // Worst first.
        Assert.True(health.Problems.TakeWhile(p => p.Severity == Severity.Critical).Count() == health.Count(Severity.Critical));
    }

    [Fact]
    public void Peer_state_reads_like_the_nats_cli()
    {
        Assert.Equal("2,946", Format.Count(2946UL));
        Assert.Equal("current, seen 70ms ago", Format.PeerState(new PeerView { Name = "n4-c1", IsLeader = false, Current = true, Offline = false, LastSeenSeconds = 0.07, Lag = 0 }));
        Assert.Equal("outdated, OFFLINE, seen 9.00s ago, 2 operations behind",
            Format.PeerState(new PeerView { Name = "n2-c1", IsLeader = false, Current = false, Offline = true, LastSeenSeconds = 9, Lag = 2 }));
        Assert.Equal("outdated, seen 420ms ago, 1 operation behind",
            Format.PeerState(new PeerView { Name = "n2-c1", IsLeader = false, Current = false, Offline = false, LastSeenSeconds = 0.42, Lag = 1 }));
    }

    [Fact]
    public void Cluster_information_reads_like_nats_stream_info_and_marks_the_lines_a_problem_is_about()
    {
        var s = Fixtures.Snapshot("2.9.10-cluster-replica-frozen");
        var health = HealthCheck.Evaluate(s, Now);
        var orders = s.Streams.Single(x => x.Name == "ORDERS");
        Assert.Equal(
        [
            new("Cluster Information:", false),
            new("", false),
            new("                 Name: c1", false),
            new("               Leader: n1", false),
            new("              Replica: n2, current, seen 34ms ago", false),
            new("              Replica: n3, outdated, seen 15.03s ago, 150 operations behind", true),
        ], Format.ClusterInformation(orders, health));
    }

    [Fact]
    public void Tables_hold_the_snapshot_numbers_with_totals_and_markers()
    {
        var s = Fixtures.Snapshot("2.9.10-cluster-replica-frozen");
        var health = HealthCheck.Evaluate(s, Now);
        var js = OperatorTables.JetStreamSummary(s, health);
        Assert.Equal(["n1", "n2*", "n3"], js.Rows.Select(r => r.Cells[0]));
        Assert.Equal("down", js.Rows.Single(r => r.Cells[0] == "n3").Cells[2]);
        Assert.True(js.Rows.Single(r => r.Cells[0] == "n3").Problem);
        Assert.Equal(Format.Count(s.Servers.Sum(x => x.Streams)), js.Footer![2]);
        Assert.Equal(Format.Count(s.Servers.Aggregate(0UL, (a, x) => a + x.Messages)), js.Footer[4]);

        var meta = Assert.Single(OperatorTables.MetaGroups(s, health));
        Assert.Equal(["n1", "", "true", "true"], meta.Rows[0].Cells.Take(4));
        Assert.Equal(["n2", "yes", "true", "true", "0s", "0"], meta.Rows[1].Cells);
        Assert.Equal("false", meta.Rows[2].Cells[2]);
        Assert.Equal([false, false, true], meta.Rows.Select(r => r.Problem));

        var streams = OperatorTables.StreamReport(s, health);
        Assert.Equal("Account", streams.Headers[0]); // no Domain column without domains
        var row = streams.Rows.Single(r => r.Cells[1] == "ORDERS");
        Assert.Equal(["APP", "ORDERS", "2", "226"], row.Cells.Take(4));
        Assert.Equal("File", row.Cells[5]);
        Assert.Equal("n1*, n2, n3!", row.Cells[9]);
        Assert.True(row.Problem);
        Assert.False(streams.Rows.Single(r => r.Cells[1] == "ORDERS_MIRROR").Problem);
        // Every marked row has a problem about its stream, and every stream with one is marked.
        foreach (var r in streams.Rows)
            Assert.Equal(health.Problems.Any(p => p.StreamKey == r.Stream && p.Consumer is null), r.Problem);
    }
}
