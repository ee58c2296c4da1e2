using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Views;

/// <summary>
/// What each server of a meta group says for itself: the leader it names (/jsz, every version) and
/// its copy of the meta group's Raft log (/raftz, where asked). The leader's `RAFT Meta Group
/// Information` table cannot show a server that names another leader or applies nothing.
/// </summary>
public static class RaftTables
{
    public static IReadOnlyList<TableView> MetaState(ClusterSnapshot s, HealthReport health) => s.MetaGroups.Select(g =>
    {
        var agreement = s.Raft.Meta.FirstOrDefault(a => a.Cluster == g.Cluster && a.Domain == g.Domain);
        var raft = s.Raft.Groups.FirstOrDefault(x => x.Kind == RaftGroupKind.Meta && x.Cluster == g.Cluster && x.Domain == g.Domain);
        var servers = (agreement?.NamedBy.Select(kv => kv.Key) ?? []).Concat(raft?.Replicas.Select(r => r.Server) ?? [])
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        string margin = Quorum.Margin(g) is { } m ? m.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unknown";
        var title = $"RAFT Meta Group State{(s.MetaGroups.Count > 1 ? $" ({(g.Domain.Length == 0 ? g.Cluster : $"domain {g.Domain}, {g.Cluster}")})" : "")}: " +
            $"quorum margin {margin}, {agreement?.ServersAnswering ?? 0} of {g.ClusterSize} servers answering" +
            (agreement?.LeadersNamed > 1 ? ", servers name different leaders" : "");
        return new TableView
        {
            Id = "meta-state",
            Title = title,
            Headers = ["Server", "Names Leader", "State", "Term", "Committed", "Applied", "Uncommitted"],
            Numeric = new HashSet<int> { 3, 4, 5, 6 },
            Rows = servers.Select(name =>
            {
                string named = agreement?.NamedBy.FirstOrDefault(kv => kv.Key == name).Value ?? "";
                var r = raft?.Replicas.FirstOrDefault(x => x.Server == name);
                return new TableRow(
                [
                    name, named.Length == 0 ? "none" : named, r?.State ?? "", r is null ? "" : Format.Count(r.Term),
                    r is null ? "" : Format.Count(r.Committed), r is null ? "" : Format.Count(r.Applied), r is null ? "" : Format.Count(r.Uncommitted),
                ], Problem: health.Problems.Any(p => p.Domain == g.Domain && p.Stream is null
                    && (p.Kind == ProblemKind.MetaLeaderDisagreement || (p.Server == name && p.Kind is ProblemKind.RaftAppliedBehind or ProblemKind.RaftWalError))));
            }).ToArray(),
            Empty = "no server of the group answered",
        };
    }).ToArray();
}
