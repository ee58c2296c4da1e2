using NatsJsExporter.Sources;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Snapshot;

/// <summary>Identity in a super-cluster (2.10-supercluster) and across JetStream domains (2.10-domains).</summary>
public class SuperClusterIdentityTests
{
    [Fact]
    public void A_super_cluster_has_one_meta_group_of_six_labelled_with_its_first_cluster()
    {
        var s = Fixtures.Snapshot("2.10-supercluster");
        var meta = Assert.Single(s.MetaGroups);
        Assert.Equal("c1", meta.Cluster);
        Assert.Equal(["c1", "c2"], meta.Clusters);
        Assert.Equal("n2-c2", meta.Leader);
        Assert.Equal(6, meta.Peers.Count);
        Assert.Equal("c1", s.Streams.Single(x => x.Name == "ORDERS").Cluster);
        Assert.Equal("c2", s.Streams.Single(x => x.Name == "SHIPMENTS").Cluster);
        Assert.All(s.Servers, v => Assert.Equal(v.Name[^2..], v.Cluster));
    }

    [Fact]
    public void The_meta_label_stays_while_the_whole_first_cluster_is_down()
    {
        // c1 answered before (its cluster is known) and is silent now: still one group, still "c1".
        var reports = Fixtures.Reports("2.10-supercluster")
            .Select(r => r.ServerName!.EndsWith("-c1", StringComparison.Ordinal)
                ? ServerReport.Failed(r.Target, r.ServerName, "timeout", "down", TimeSpan.FromSeconds(5)) with { ClusterName = "c1" }
                : r)
            .ToList();
        var meta = Assert.Single(Fixtures.Build(reports).Snapshot.MetaGroups);
        Assert.Equal("c1", meta.Cluster);
        Assert.Equal(6, meta.Peers.Count);

        // Never seen (exporter started during the outage): the label can only be c2.
        var unknown = reports.Select(r => r.Succeeded ? r : r with { ClusterName = null }).ToList();
        Assert.Equal("c2", Assert.Single(Fixtures.Build(unknown).Snapshot.MetaGroups).Cluster);
    }

    [Fact]
    public void Two_domains_with_equal_cluster_and_stream_names_stay_apart()
    {
        var s = Fixtures.Snapshot("2.10-domains");
        Assert.Equal([("east", "edge", 3), ("west", "edge", 3)], s.MetaGroups.Select(g => (g.Domain, g.Cluster, g.Peers.Count)));
        Assert.Equal([("east", 7UL), ("west", 3UL)], s.Streams.Select(x => (x.Domain, x.Messages)));
        Assert.Equal(["east", "west"], s.Accounts.Select(a => a.Domain));
        Assert.All(s.Accounts, a => Assert.Equal(1, a.Streams));
    }

    [Fact]
    public void Leader_changes_are_counted_per_domain()
    {
        var first = Fixtures.Snapshot("2.10-domains");
        var again = Fixtures.Build(Fixtures.Reports("2.10-domains"), previous: first).Snapshot;
        Assert.All(again.Streams, x => Assert.Equal(0, x.LeaderChanges));
        Assert.All(again.MetaGroups, g => Assert.Equal(0, g.LeaderChanges));
    }
}
