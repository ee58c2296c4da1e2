using System.Text;
using NatsJsExporter.Metrics;
using NatsJsExporter.Model;
using NatsJsExporter.Options;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Tests.Support;
using NatsJsExporter.Views;

namespace NatsJsExporter.Tests.Snapshot;

/// <summary>Each replica's own copy beside the leader's: behind, divergence (two consecutive polls), and leader claims.</summary>
public class ReplicaComparisonTests
{
    private static StreamView Stream(ClusterSnapshot s, string name) => s.Streams.Single(x => x.Name == name);

    private static ClusterSnapshot Polls(string fixture, int polls, SnapshotFilter? filter = null)
    {
        ClusterSnapshot? s = null;
        for (int i = 0; i < polls; i++) s = Fixtures.Build(Fixtures.Reports(fixture), filter, s).Snapshot;
        return s!;
    }

    [Fact]
    public void Healthy_real_capture_has_every_replica_level_and_nothing_diverged()
    {
        var s = Polls("2.15.1-cluster-features", 3);
        var orders = Stream(s, "ORDERS");
        Assert.Equal(["n1", "n2", "n3"], orders.Replicas.Select(r => r.Server));
        Assert.All(orders.Replicas, r => Assert.Equal(50UL, r.LastSeq));
        Assert.All(s.Streams.SelectMany(x => x.Replicas), r => Assert.Equal(0UL, r.BehindMessages));
        Assert.All(s.Streams.SelectMany(x => x.Replicas), r => Assert.False(r.Diverged));
        var processor = orders.Consumers.Single(c => c.Name == "PROCESSOR");
        Assert.Equal(3, processor.Replicas.Count);
        Assert.All(processor.Replicas, r => Assert.False(r.Diverged));
        // R1 streams have no replica to compare.
        Assert.Empty(Stream(s, "EVENTS").Replicas);
        Assert.DoesNotContain(HealthCheck.Evaluate(s, Fixtures.CollectedAt).Problems, p => p.Kind is ProblemKind.ReplicaDiverged or ProblemKind.ReplicaBehind);
    }

    [Fact]
    public void One_disagreeing_poll_is_not_divergence_two_are()
    {
        var first = Polls("2.15.1-replica-diverged", 1);
        var n2 = Stream(first, "ORDERS").Replicas.Single(r => r.Server == "n2");
        Assert.Equal(1, n2.DisagreeingPolls);
        Assert.False(n2.Diverged);
        Assert.Equal("messages 25 (leader 50), first_seq 26 (leader 1), bytes 2491 (leader 4983)", n2.Difference);

        var second = Polls("2.15.1-replica-diverged", 2);
        var orders = Stream(second, "ORDERS");
        Assert.True(orders.Replicas.Single(r => r.Server == "n2").Diverged);
        Assert.False(orders.Replicas.Single(r => r.Server == "n1").Diverged);
        Assert.False(orders.Replicas.Single(r => r.Server == "n3").Diverged);
        Assert.Equal(0UL, orders.Replicas.Single(r => r.Server == "n2").BehindMessages);

        var processor = orders.Consumers.Single(c => c.Name == "PROCESSOR").Replicas;
        Assert.True(processor.Single(r => r.Server == "n2").Diverged);
        Assert.Equal("delivered consumer_seq 27 (leader 25)", processor.Single(r => r.Server == "n2").Difference);
        Assert.False(processor.Single(r => r.Server == "n3").Diverged);

        var archive = Stream(second, "ORDERS_ARCHIVE").Replicas.Single(r => r.Server == "n1");
        Assert.Equal(5UL, archive.BehindMessages);
        Assert.False(archive.Diverged);

        var text = Encoding.UTF8.GetString(MetricsRenderer.Render(second, "test"));
        Assert.Contains("natsjs_stream_replica_diverged{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\",peer=\"n2\"} 1", text);
        Assert.Contains("natsjs_stream_replica_diverged{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\",peer=\"n1\"} 0", text);
        Assert.Contains("natsjs_stream_replica_behind_messages{cluster=\"c1\",account=\"APP\",stream=\"ORDERS_ARCHIVE\",peer=\"n1\"} 5", text);
        Assert.Contains("natsjs_consumer_replica_diverged{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\",consumer=\"PROCESSOR\",peer=\"n2\"} 1", text);

        var problems = HealthCheck.Evaluate(second, Fixtures.CollectedAt).Problems;
        var diverged = problems.Where(p => p.Kind == ProblemKind.ReplicaDiverged).ToArray();
        Assert.Equal(2, diverged.Length);
        Assert.All(diverged, p => Assert.Equal(Severity.Critical, p.Severity));
        Assert.Contains(diverged, p => p.Stream == "ORDERS" && p.Server == "n2" && p.Consumer is null);
        Assert.Contains(diverged, p => p.Stream == "ORDERS" && p.Server == "n2" && p.Consumer == "PROCESSOR");
    }

    [Fact]
    public void A_poll_that_agrees_clears_divergence_and_a_single_disagreement_between_agreements_never_sets_it()
    {
        var diverged = Fixtures.Reports("2.15.1-replica-diverged");
        var healthy = Fixtures.Reports("2.15.1-cluster-features");
        ClusterSnapshot? s = null;
        foreach (var poll in new[] { diverged, healthy, diverged, healthy, diverged })
        {
            s = Fixtures.Build(poll, previous: s).Snapshot;
            Assert.All(s.Streams.SelectMany(x => x.Replicas), r => Assert.False(r.Diverged));
        }
        s = Fixtures.Build(diverged, previous: s).Snapshot;
        Assert.True(Stream(s, "ORDERS").Replicas.Single(r => r.Server == "n2").Diverged);
        s = Fixtures.Build(healthy, previous: s).Snapshot;
        Assert.False(Stream(s, "ORDERS").Replicas.Single(r => r.Server == "n2").Diverged);
    }

    [Fact]
    public void Replicas_at_different_positions_are_not_compared()
    {
        // Steady publishing: the follower is polled a moment before the leader and is 3 behind,
        // with fewer messages and bytes: that is progress, not disagreement.
        var reports = Fixtures.Reports("2.15.1-cluster-features");
        ClusterSnapshot? s = null;
        for (int i = 0; i < 4; i++)
        {
            ulong delta = (ulong)(i + 1) * 100;
            var poll = reports.Select(r => r with { Jsz = Publish(r.Jsz!, "ORDERS", r.ServerName == "n2" ? delta - 3 : delta) }).ToList();
            s = Fixtures.Build(poll, previous: s).Snapshot;
            var n2 = Stream(s, "ORDERS").Replicas.Single(r => r.Server == "n2");
            Assert.Equal(3UL, n2.BehindMessages);
            Assert.Equal(0, n2.DisagreeingPolls);
            Assert.False(n2.FallingBehind);
        }
    }

    [Fact]
    public void A_replica_that_does_not_reach_the_leaders_previous_position_is_falling_behind()
    {
        var reports = Fixtures.Reports("2.15.1-cluster-features");
        ClusterSnapshot? s = null;
        for (int i = 0; i < 3; i++)
        {
            ulong delta = (ulong)(i + 1) * 100;
            var poll = reports.Select(r => r with { Jsz = Publish(r.Jsz!, "ORDERS", r.ServerName == "n2" ? 0 : delta) }).ToList();
            s = Fixtures.Build(poll, previous: s).Snapshot;
        }
        var n2 = Stream(s!, "ORDERS").Replicas.Single(r => r.Server == "n2");
        Assert.Equal(300UL, n2.BehindMessages);
        Assert.True(n2.FallingBehind);
        var problem = HealthCheck.Evaluate(s!, Fixtures.CollectedAt).Problems.Single(p => p.Kind == ProblemKind.ReplicaBehind);
        Assert.Equal(("ORDERS", "n2", Severity.Warning), (problem.Stream!, problem.Server!, problem.Severity));
    }

    [Fact]
    public void The_switch_turns_the_comparison_off()
    {
        var s = Polls("2.15.1-replica-diverged", 2, SnapshotFilter.None with { ReplicaComparison = false });
        Assert.All(s.Streams, x => Assert.Empty(x.Replicas));
        var text = Encoding.UTF8.GetString(MetricsRenderer.Render(s, "test"));
        Assert.DoesNotContain("_replica_", text);
    }

    [Fact]
    public void Consumer_followers_of_2_9_servers_are_not_compared()
    {
        // On 2.9.10 a consumer follower reports delivered 0 while its leader has 25 (real capture).
        var s = Polls("2.9.10-cluster-healthy", 2);
        var processor = Stream(s, "ORDERS").Consumers.Single(c => c.Name == "PROCESSOR");
        Assert.All(processor.Replicas.Where(r => !r.IsLeader), r => Assert.Null(r.BehindMessages));
        Assert.Equal(0UL, processor.Replicas.Single(r => r.IsLeader).BehindMessages);
        Assert.All(processor.Replicas, r => Assert.False(r.Diverged));
    }

    [Fact]
    public void A_leader_claim_from_a_server_without_a_meta_leader_is_not_believed()
    {
        var result = Fixtures.Build(Fixtures.Reports("2.15.1-leader-claims"));
        var s = result.Snapshot;
        foreach (var name in new[] { "ORDERS", "ORDERS_ARCHIVE", "LIMITED" })
        {
            Assert.Equal("n3", Stream(s, name).Leader);
            Assert.Equal("n3", Stream(s, name).StateFrom);
            Assert.Equal(["n3"], Stream(s, name).Peers.Where(p => p.IsLeader).Select(p => p.Name));
        }
        Assert.Equal("n3", Stream(s, "ORDERS").Consumers.Single(c => c.Name == "AUDIT").Leader);
        Assert.Equal("n1", Stream(s, "ORDERS").Consumers.Single(c => c.Name == "PROCESSOR").Leader);
        Assert.Equal("n2", Stream(s, "ORDERS_MIRROR").Leader);
        Assert.Contains(result.Conflicts, c => c.Contains("ORDERS:", StringComparison.Ordinal) && c.Contains("n2 (without a meta leader)", StringComparison.Ordinal));
    }

    [Fact]
    public void Without_any_server_knowing_a_meta_leader_claims_are_judged_as_before()
    {
        // Nobody vouches for another leader: the claim stands (nothing better is known).
        var reports = Fixtures.Reports("2.15.1-leader-claims")
            .Select(r => r with { Jsz = r.Jsz! with { MetaCluster = r.Jsz.MetaCluster! with { Leader = null } } }).ToList();
        var s = Fixtures.Build(reports).Snapshot;
        Assert.True(Stream(s, "ORDERS").HasLeader);
        Assert.Contains(Stream(s, "ORDERS").Leader, new[] { "n2", "n3" });
    }

    [Fact]
    public void Stream_page_and_report_show_each_replicas_own_copy_beside_the_leaders()
    {
        var s = Polls("2.15.1-replica-diverged", 2);
        var health = HealthCheck.Evaluate(s, Fixtures.CollectedAt);
        var orders = Stream(s, "ORDERS");
        var page = StatusPage.RenderStream(s, health, orders, StreamKey.Of(orders), Fixtures.CollectedAt, "test", "nonce");
        Assert.Contains("Replica Copies", page);
        // n2's own row: last seq 50 (level), 25 messages, first seq 26, marked as a problem row.
        Assert.Matches("<tr class=\"bad\"[^>]*><td>n2</td><td class=\"n\">50</td><td class=\"n\">25</td><td class=\"n\">26</td>", page);
        Assert.Contains("<td>n3*</td><td class=\"n\">50</td><td class=\"n\">50</td><td class=\"n\">1</td>", page);
        Assert.Contains("Consumer Replica Copies", page);

        var text = new StringWriter();
        ReportText.Render(s, health, "all", text, plain: true);
        var report = text.ToString();
        Assert.Contains("CRITICAL stream APP > ORDERS: replica n2's own copy differs from the leader's at the same last sequence 50", report);
        Assert.Contains("DIVERGED (2 polls): messages 25 (leader 50)", report);
    }

    private static JszResponse Publish(JszResponse j, string stream, ulong more) => j with
    {
        AccountDetails = j.AccountDetails!.Select(a => a with
        {
            StreamDetail = a.StreamDetail?.Select(sd => sd.Name != stream ? sd : sd with
            {
                State = sd.State! with { Messages = sd.State.Messages + more, LastSeq = sd.State.LastSeq + more, Bytes = sd.State.Bytes + more * 100 },
            }).ToList(),
        }).ToList(),
    };
}
