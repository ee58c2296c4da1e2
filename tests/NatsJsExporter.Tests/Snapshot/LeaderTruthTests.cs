using System.Text;
using NatsJsExporter.Metrics;
using NatsJsExporter.Model;
using NatsJsExporter.Sources;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Snapshot;

/// <summary>The merge rules: whose report is believed for what.</summary>
public class LeaderTruthTests
{
    private static PeerInfoDto Peer(string name, bool current = true, long activeNs = 100_000_000, ulong lag = 0, bool offline = false) =>
        new() { Name = name, Current = current, Active = activeNs, Lag = lag, Offline = offline };

    private static StreamDetailDto Stream(string leader, ulong lastSeq, ulong messages, params PeerInfoDto[] replicas) => new()
    {
        Name = "ORDERS",
        Cluster = new ClusterInfoDto { Name = "c1", Leader = leader, Replicas = [.. replicas] },
        Config = new StreamConfigDto { Name = "ORDERS", Storage = "file", Retention = "limits", NumReplicas = 3, MaxBytes = -1, MaxMsgs = -1 },
        State = new StreamStateDto { Messages = messages, LastSeq = lastSeq, FirstSeq = 1, ConsumerCount = 1 },
    };

    private static ServerReport Report(string server, string metaLeader, params StreamDetailDto[] streams) => new()
    {
        Target = server,
        ServerName = server,
        Jsz = new JszResponse
        {
            ServerId = "ID" + server,
            MetaCluster = new MetaClusterDto
            {
                Name = "c1",
                Leader = metaLeader,
                ClusterSize = 3,
                Replicas = server == metaLeader ? [.. new[] { "n1", "n2", "n3" }.Where(n => n != server).Select(n => Peer(n))] : null,
            },
            AccountDetails = [new AccountDetailDto { Name = "APP", StreamDetail = [.. streams], ReservedMemory = ulong.MaxValue, ReservedStorage = ulong.MaxValue }],
        },
    };

    [Fact]
    public void Replica_health_comes_from_the_stream_leader_not_from_followers()
    {
        // n2 leads. n1 (a follower, pre-2.12.5) reports nonsense for n3: not current, whole-log lag.
        var reports = new[]
        {
            Report("n1", "n1", Stream("n2", 100, 100, Peer("n2"), Peer("n3", current: false, activeNs: 0, lag: 100))),
            Report("n2", "n1", Stream("n2", 100, 100, Peer("n1"), Peer("n3", activeNs: 250_000_000))),
            Report("n3", "n1", Stream("n2", 100, 100, Peer("n1", current: false, activeNs: 0, lag: 100), Peer("n2"))),
        };
        var stream = Assert.Single(Fixtures.Build(reports).Snapshot.Streams);

        Assert.True(stream.HasLeader);
        Assert.Equal("n2", stream.StateFrom);
        Assert.Equal(["n1", "n2", "n3"], stream.Peers.Select(p => p.Name));
        Assert.All(stream.Peers, p => Assert.True(p.Current));
        Assert.All(stream.Peers, p => Assert.Equal(0UL, p.Lag));
        Assert.Equal(0.25, stream.Peers.Single(p => p.Name == "n3").LastSeenSeconds);
        Assert.True(stream.Peers.Single(p => p.Name == "n2").IsLeader);
    }

    [Fact]
    public void Stream_state_comes_from_the_leader_even_when_a_follower_is_ahead_or_behind()
    {
        var reports = new[]
        {
            Report("n1", "n1", Stream("n3", 90, 90, Peer("n2"), Peer("n3"))),
            Report("n3", "n1", Stream("n3", 100, 100, Peer("n1"), Peer("n2"))),
            Report("n2", "n1", Stream("n3", 95, 95, Peer("n1"), Peer("n3"))),
        };
        var stream = Assert.Single(Fixtures.Build(reports).Snapshot.Streams);
        Assert.Equal(100UL, stream.Messages);
        Assert.Equal("n3", stream.StateFrom);
    }

    [Fact]
    public void Without_a_leader_report_state_comes_from_the_most_advanced_replica_and_peer_health_is_unknown()
    {
        // n1 is polled but down: followers still name it as leader.
        var reports = new List<ServerReport>
        {
            Report("n2", "n2", Stream("n1", 95, 95, Peer("n1"), Peer("n3", current: false, lag: 95))),
            Report("n3", "n2", Stream("n1", 97, 97, Peer("n1"), Peer("n2", current: false, lag: 97))),
            ServerReport.Failed("n1", "n1", "timeout", "timed out", TimeSpan.FromSeconds(5)),
        };
        var snap = Fixtures.Build(reports).Snapshot;
        var stream = Assert.Single(snap.Streams);
        Assert.False(stream.HasLeader);
        Assert.Equal("n3", stream.StateFrom);
        Assert.Equal(97UL, stream.LastSeq);
        Assert.All(stream.Peers, p => Assert.Null(p.Current));
        Assert.All(stream.Peers, p => Assert.False(p.IsLeader));

        var text = Encoding.UTF8.GetString(MetricsRenderer.Render(snap, "test"));
        Assert.Contains("natsjs_stream_has_leader{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\"} 0", text);
        Assert.DoesNotContain("natsjs_stream_peer_current{", text);
    }

    [Fact]
    public void A_leader_named_by_followers_but_not_polled_is_trusted()
    {
        var reports = new[]
        {
            Report("n2", "n2", Stream("n9", 95, 95, Peer("n9"), Peer("n3"))),
        };
        var stream = Assert.Single(Fixtures.Build(reports).Snapshot.Streams);
        Assert.True(stream.HasLeader);
        Assert.True(stream.Peers.Single(p => p.Name == "n9").IsLeader);
        Assert.Null(stream.Peers.Single(p => p.Name == "n9").Current);
    }

    [Fact]
    public void Two_servers_claiming_the_same_stream_are_resolved_deterministically_and_counted()
    {
        var older = Stream("n1", 100, 100, Peer("n2"), Peer("n3")) with { };
        older = older with { Cluster = older.Cluster! with { LeaderSince = DateTimeOffset.Parse("2026-01-01T00:00:00Z") } };
        var newer = Stream("n2", 100, 100, Peer("n1"), Peer("n3"));
        newer = newer with { Cluster = newer.Cluster! with { LeaderSince = DateTimeOffset.Parse("2026-01-01T00:00:05Z") } };
        var reports = new[] { Report("n1", "n1", older), Report("n2", "n1", newer) };

        var first = Fixtures.Build(reports);
        var second = Fixtures.Build(reports.Reverse().ToArray());
        Assert.Equal("n2", Assert.Single(first.Snapshot.Streams).Leader);
        Assert.Equal("n2", Assert.Single(second.Snapshot.Streams).Leader);
        Assert.Equal(1, first.Snapshot.ConflictsTotal);
        Assert.Contains("APP/ORDERS", Assert.Single(first.Conflicts));
    }

    [Fact]
    public void Meta_peers_come_from_the_meta_leader_with_the_leader_added()
    {
        var reports = new[] { Report("n1", "n2"), Report("n2", "n2"), Report("n3", "n2") };
        var meta = Assert.Single(Fixtures.Build(reports).Snapshot.MetaGroups);
        Assert.True(meta.HasLeader);
        Assert.Equal("n2", meta.Leader);
        Assert.Equal(["n1", "n2", "n3"], meta.Peers.Select(p => p.Name));
        Assert.True(meta.Peers.Single(p => p.Name == "n2").IsLeader);
    }

    [Fact]
    public void Leaderless_meta_group_is_one_group_per_cluster_not_one_per_server()
    {
        var reports = new[] { Report("n1", ""), Report("n2", ""), Report("n3", "") };
        var meta = Assert.Single(Fixtures.Build(reports).Snapshot.MetaGroups);
        Assert.False(meta.HasLeader);
        Assert.Equal(3, meta.Peers.Count);
    }

    [Fact]
    public void Leader_changes_are_counted_across_polls_including_through_a_leaderless_poll()
    {
        var p1 = Fixtures.Build([Report("n1", "n1", Stream("n1", 1, 1, Peer("n2"), Peer("n3")))]).Snapshot;
        Assert.Equal(0, p1.Streams[0].LeaderChanges);
        var p2 = Fixtures.Build([Report("n1", "n1", Stream("", 1, 1, Peer("n2"), Peer("n3")))], previous: p1).Snapshot;
        Assert.Equal(0, p2.Streams[0].LeaderChanges);
        var p3 = Fixtures.Build([Report("n2", "n1", Stream("n2", 1, 1, Peer("n1"), Peer("n3")))], previous: p2).Snapshot;
        Assert.Equal(1, p3.Streams[0].LeaderChanges);
        var p4 = Fixtures.Build([Report("n2", "n1", Stream("n2", 1, 1, Peer("n1"), Peer("n3")))], previous: p3).Snapshot;
        Assert.Equal(1, p4.Streams[0].LeaderChanges);
    }

    [Fact]
    public void A_leader_change_across_a_poll_where_the_group_was_missing_is_still_counted()
    {
        var p1 = Fixtures.Build([Report("n1", "n1", Stream("n1", 1, 1, Peer("n2"), Peer("n3")))]).Snapshot;
        var gap = Fixtures.Build([ServerReport.Failed("n1", "n1", "timeout", "timed out", TimeSpan.FromSeconds(1))], previous: p1).Snapshot;
        Assert.Empty(gap.Streams);
        Assert.Empty(gap.MetaGroups);
        var p3 = Fixtures.Build([Report("n2", "n2", Stream("n2", 1, 1, Peer("n1"), Peer("n3")))], previous: gap).Snapshot;
        Assert.Equal(1, p3.Streams[0].LeaderChanges);
        Assert.Equal(1, p3.MetaGroups[0].LeaderChanges);
    }

    [Fact]
    public void A_stream_whose_only_server_stops_answering_stays_with_no_leader_and_is_dropped_once_deleted()
    {
        var r1 = Stream("n2", 7, 7) with { Name = "EVENTS", Config = new StreamConfigDto { NumReplicas = 1, Storage = "memory" } };
        var first = Fixtures.Build([Report("n1", "n1", Stream("n1", 1, 1, Peer("n2"), Peer("n3"))), Report("n2", "n1", r1)]).Snapshot;
        Assert.True(first.Streams.Single(s => s.Name == "EVENTS").HasLeader);

        // n2 down: EVENTS is unreachable, not deleted.
        var down = Fixtures.Build([Report("n1", "n1", Stream("n1", 1, 1, Peer("n2"), Peer("n3"))),
            ServerReport.Failed("n2", "n2", "timeout", "timed out", TimeSpan.FromSeconds(1))], previous: first).Snapshot;
        var events = down.Streams.Single(s => s.Name == "EVENTS");
        Assert.False(events.Reachable);
        Assert.False(events.HasLeader);
        Assert.Null(events.Messages); // the last known 7 would be stale: nobody can say
        Assert.Null(events.StateFrom);
        Assert.Equal(["n2"], events.Peers.Select(p => p.Name));
        Assert.All(events.Peers, p => Assert.Null(p.Current));
        var text = Encoding.UTF8.GetString(MetricsRenderer.Render(down, "test"));
        Assert.Contains("natsjs_stream_has_leader{cluster=\"c1\",account=\"APP\",stream=\"EVENTS\"} 0", text);
        Assert.DoesNotContain("natsjs_stream_messages{cluster=\"c1\",account=\"APP\",stream=\"EVENTS\"}", text);

        // Still unreachable one poll later: kept, not forgotten.
        var still = Fixtures.Build([Report("n1", "n1", Stream("n1", 1, 1, Peer("n2"), Peer("n3"))),
            ServerReport.Failed("n2", "n2", "timeout", "timed out", TimeSpan.FromSeconds(1))], previous: down).Snapshot;
        Assert.False(still.Streams.Single(s => s.Name == "EVENTS").Reachable);

        // n2 answers again without EVENTS: it was deleted meanwhile, and its series go.
        var back = Fixtures.Build([Report("n1", "n1", Stream("n1", 1, 1, Peer("n2"), Peer("n3"))), Report("n2", "n1")], previous: down).Snapshot;
        Assert.DoesNotContain(back.Streams, s => s.Name == "EVENTS");
    }

    [Fact]
    public void Unlimited_limits_export_nothing()
    {
        var snap = Fixtures.Build([Report("n1", "n1", Stream("n1", 1, 1))]).Snapshot;
        var text = Encoding.UTF8.GetString(MetricsRenderer.Render(snap, "test"));
        Assert.DoesNotContain("natsjs_account_max_memory_bytes{", text);
        Assert.DoesNotContain("natsjs_stream_max_bytes{", text);
        Assert.DoesNotContain("1.8446744073709552E+19", text);
        Assert.DoesNotContain("18446744073709551615", text);
    }

    [Fact]
    public void An_R3_stream_is_one_series_set_however_many_servers_host_it()
    {
        var snap = Fixtures.Snapshot("2.9.10-cluster-healthy");
        var text = Encoding.UTF8.GetString(MetricsRenderer.Render(snap, "test"));
        var lines = text.Split('\n').Where(l => l.StartsWith("natsjs_stream_messages{", StringComparison.Ordinal) && l.Contains("stream=\"ORDERS\"")).ToArray();
        Assert.Single(lines);
    }
}
