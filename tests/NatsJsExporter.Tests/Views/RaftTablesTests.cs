using NatsJsExporter.Tests.Support;
using NatsJsExporter.Views;

namespace NatsJsExporter.Tests.Views;

/// <summary>The meta group as each server sees it, in the report and on the page.</summary>
public sealed class RaftTablesTests
{
    private static string Report(NatsJsExporter.Snapshot.ClusterSnapshot s)
    {
        var w = new StringWriter();
        ReportText.Render(s, HealthCheck.Evaluate(s, s.CollectedAt), "meta", w, plain: true);
        return w.ToString();
    }

    [Fact]
    public void The_report_shows_margin_servers_answering_and_each_servers_raft_log()
    {
        var s = Fixtures.Snapshot("2.15.1-cluster-raftz-frozen");
        var text = Report(s);
        Assert.Contains("RAFT Meta Group State: quorum margin 1, 2 of 3 servers answering", text);
        var leader = s.MetaGroups.Single().Leader!;
        var n1 = s.Raft.Groups.Single(g => g.Kind == NatsJsExporter.Snapshot.RaftGroupKind.Meta).Replicas.Single(r => r.Server == "n1");
        Assert.Contains(text.Split('\n'), l => l.Contains(" n1 ") && l.Contains(" " + leader + " ") && l.Contains(n1.State) && l.Contains(" " + n1.Committed + " "));
    }

    [Fact]
    public void Older_servers_show_the_leader_each_names_without_raft_columns()
    {
        var text = Report(Fixtures.Snapshot("2.9.10-cluster-meta-leaderless"));
        Assert.Contains("RAFT Meta Group State", text);
        Assert.Contains("none", text); // the server that names no leader
    }
}
