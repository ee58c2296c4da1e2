using System.Globalization;
using NatsJsExporter.Model;
using NatsJsExporter.Sources;

namespace NatsJsExporter.Snapshot;

[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<RaftGroupKind>))]
public enum RaftGroupKind
{
    [System.Text.Json.Serialization.JsonStringEnumMemberName("meta")] Meta,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("stream")] Stream,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("consumer")] Consumer,
}

/// <summary>
/// What the servers' own Raft state (/raftz, 2.11+) and their meta views (/jsz, every version) add to
/// the leaders' picture: per group and server, applied behind committed, entries not yet committed,
/// catch-up, WAL errors, the term, and the leader's per-peer replication progress; per meta group,
/// which leaders the servers name and how many answered.
/// </summary>
public sealed record RaftView
{
    public static readonly RaftView Empty = new();

    /// <summary>Raft groups some server described in /raftz: meta groups first, then streams, then consumers.</summary>
    public IReadOnlyList<RaftGroupView> Groups { get; init; } = [];
    /// <summary>One per meta group (same order as <see cref="ClusterSnapshot.MetaGroups"/>).</summary>
    public IReadOnlyList<MetaAgreementView> Meta { get; init; } = [];
}

/// <summary>A Raft group, named by what it replicates (never by its group id in a label).</summary>
public sealed record RaftGroupView
{
    public required RaftGroupKind Kind { get; init; }
    /// <summary>The meta group's label (meta) or the cluster the stream is placed in.</summary>
    public required string Cluster { get; init; }
    public string Domain { get; init; } = "";
    public string Account { get; init; } = "";
    public string Stream { get; init; } = "";
    public string Consumer { get; init; } = "";
    /// <summary>The Raft group name (_meta_, S-R3F-..., C-R3F-...): page and JSON only.</summary>
    public required string Group { get; init; }
    /// <summary>Members, as the group's servers count them.</summary>
    public long Size { get; init; }
    /// <summary>One entry per server that described the group this poll, sorted by server.</summary>
    public required IReadOnlyList<RaftReplicaView> Replicas { get; init; }
}

/// <summary>One server's copy of a Raft group.</summary>
public sealed record RaftReplicaView
{
    public required string Server { get; init; }
    /// <summary>LEADER, FOLLOWER, CANDIDATE, ...</summary>
    public required string State { get; init; }
    /// <summary>The leader this server follows, as a server name (null when none or unknown).</summary>
    public string? Leader { get; init; }
    public ulong Term { get; init; }
    public ulong Committed { get; init; }
    public ulong Applied { get; init; }
    public ulong Pindex { get; init; }
    public bool CatchingUp { get; init; }
    public bool WalError { get; init; }
    /// <summary>Committed entries this server has not applied yet.</summary>
    public ulong AppliedBehind => Committed > Applied ? Committed - Applied : 0;
    /// <summary>Entries in this server's log that are not committed yet (pindex - committed).</summary>
    public ulong Uncommitted => Pindex > Committed ? Pindex - Committed : 0;
    /// <summary>Behind in this poll and the last one, and not even at the last poll's commit index: applying is stuck or too slow.</summary>
    public bool ApplyStalled { get; init; }
    /// <summary>On the leader only: each peer's replication progress.</summary>
    public IReadOnlyList<RaftPeerProgress> Peers { get; init; } = [];
}

/// <summary>A follower's progress as its leader sees it.</summary>
public sealed record RaftPeerProgress
{
    public required string Peer { get; init; }
    public ulong LastReplicatedIndex { get; init; }
    /// <summary>The leader's last log index minus the peer's last replicated index.</summary>
    public ulong Lag { get; init; }
    public double? LastSeenSeconds { get; init; }
}

/// <summary>Do the servers of a meta group agree on its leader, and how many answered (every version, from /jsz).</summary>
public sealed record MetaAgreementView
{
    public required string Cluster { get; init; }
    public string Domain { get; init; } = "";
    /// <summary>Servers of the group that answered this poll.</summary>
    public long ServersAnswering { get; init; }
    /// <summary>Distinct leader names the answering servers gave (1 = agreement, 0 = none named, 2+ = disagreement).</summary>
    public long LeadersNamed { get; init; }
    /// <summary>Each answering server and the leader it names ("" = none), sorted by server.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> NamedBy { get; init; } = [];
    /// <summary>Peers the meta leader knows (itself included), when the leader answered; else null.</summary>
    public long? PeersKnownToLeader { get; init; }
}

/// <summary>Quorum arithmetic shared by metrics and health.</summary>
public static class Quorum
{
    public static long Needed(long replicas) => replicas / 2 + 1;

    /// <summary>Current-and-online replicas minus the quorum; null when the health of some peer is unknown (no leader's view).</summary>
    public static long? Margin(long replicas, IReadOnlyList<PeerView> peers)
    {
        if (replicas < 1 || peers.Count == 0) return null;
        long healthy = 0;
        foreach (var p in peers)
        {
            if (p.Current is null) return null;
            if (p.Current == true && p.Offline != true) healthy++;
        }
        return healthy - Needed(replicas);
    }

    /// <summary>Meta group margin (cluster_size replicas), from the meta leader's view.</summary>
    public static long? Margin(MetaGroupView g) => g.HasLeader && g.ClusterSize > 1 ? Margin(g.ClusterSize, g.Peers) : null;

    /// <summary>Stream margin (configured replicas), for replicated reachable streams.</summary>
    public static long? Margin(StreamView s) => s.Reachable && s.ReplicasConfigured > 1 ? Margin(s.ReplicasConfigured, s.Peers) : null;

    /// <summary>Consumer margin (its replicas, as its leader lists them), for replicated consumers.</summary>
    public static long? Margin(ConsumerView c) => c.Peers.Count > 1 ? Margin(c.Peers.Count, c.Peers) : null;
}

internal static class RaftViews
{
    public static RaftView Build(IReadOnlyList<ServerReport> ok, IReadOnlyList<MetaGroupView> metaGroups, IReadOnlyList<StreamView> streams, RaftView? previous)
    {
        return new RaftView
        {
            Groups = Groups(ok, metaGroups, streams, previous),
            Meta = metaGroups.Select(g => Agreement(g, ok)).ToArray(),
        };
    }

    private static MetaGroupView? MetaGroupOf(ServerReport r, IReadOnlyList<MetaGroupView> metaGroups)
    {
        string domain = r.Jsz?.Config?.Domain ?? "";
        return metaGroups.FirstOrDefault(g => g.Domain == domain && g.Peers.Any(p => p.Name == r.ServerName))
            ?? (metaGroups.Count(g => g.Domain == domain) == 1 ? metaGroups.First(g => g.Domain == domain) : null);
    }

    private static MetaAgreementView Agreement(MetaGroupView g, IReadOnlyList<ServerReport> ok)
    {
        var members = ok.Where(r => r.Jsz?.MetaCluster is not null && (r.Jsz.Config?.Domain ?? "") == g.Domain
                && (g.Peers.Any(p => p.Name == r.ServerName) || g.Clusters.Contains(r.ClusterName ?? r.Jsz.MetaCluster.Name ?? "")))
            .OrderBy(r => r.ServerName, StringComparer.Ordinal).ToList();
        var named = members.Select(r => new KeyValuePair<string, string>(r.ServerName!, r.Jsz!.MetaCluster!.Leader ?? "")).ToArray();
        bool leaderAnswered = g.HasLeader && members.Any(r => r.ServerName == g.Leader && r.Jsz!.MetaCluster!.Leader == g.Leader);
        return new MetaAgreementView
        {
            Cluster = g.Cluster,
            Domain = g.Domain,
            ServersAnswering = members.Count,
            LeadersNamed = named.Select(kv => kv.Value).Where(v => v.Length > 0).Distinct(StringComparer.Ordinal).Count(),
            NamedBy = named,
            PeersKnownToLeader = leaderAnswered ? g.Peers.Count : null,
        };
    }

    private static RaftGroupView[] Groups(IReadOnlyList<ServerReport> ok, IReadOnlyList<MetaGroupView> metaGroups, IReadOnlyList<StreamView> streams, RaftView? previous)
    {
        if (!ok.Any(r => r.Raftz is not null)) return [];
        // Raft group name -> what it replicates, from /jsz's cluster.raft_group (2.10.4+), only for
        // streams and consumers in the snapshot (the filters apply).
        var inSnapshot = new Dictionary<(string Domain, string Account, string Stream), StreamView>();
        foreach (var s in streams) inSnapshot[(s.Domain, s.Account, s.Name)] = s;
        var names = new Dictionary<(string Domain, string Account, string Group), RaftGroupView>();
        foreach (var r in ok)
        {
            string domain = r.Jsz?.Config?.Domain ?? "";
            foreach (var acc in r.Jsz?.AccountDetails ?? [])
            {
                if (acc.Name is null) continue;
                foreach (var sd in acc.StreamDetail ?? [])
                {
                    if (sd.Name is null || !inSnapshot.TryGetValue((domain, acc.Name, sd.Name), out var sv)) continue;
                    if (sd.Cluster?.RaftGroup is { Length: > 0 } sg)
                        names.TryAdd((domain, acc.Name, sg), new RaftGroupView { Kind = RaftGroupKind.Stream, Cluster = sv.Cluster, Domain = domain, Account = acc.Name, Stream = sd.Name, Group = sg, Replicas = [] });
                    foreach (var cd in sd.ConsumerDetail ?? [])
                    {
                        if (cd.Name is null || cd.Cluster?.RaftGroup is not { Length: > 0 } cg || !sv.Consumers.Any(c => c.Name == cd.Name)) continue;
                        names.TryAdd((domain, acc.Name, cg), new RaftGroupView { Kind = RaftGroupKind.Consumer, Cluster = sv.Cluster, Domain = domain, Account = acc.Name, Stream = sd.Name, Consumer = cd.Name, Group = cg, Replicas = [] });
                    }
                }
            }
        }

        var prior = new Dictionary<(RaftGroupKind, string, string, string, string, string, string), RaftReplicaView>();
        foreach (var g in previous?.Groups ?? [])
            foreach (var rep in g.Replicas) prior[(g.Kind, g.Cluster, g.Domain, g.Account, g.Stream, g.Consumer, rep.Server)] = rep;

        var found = new Dictionary<(RaftGroupKind, string, string, string, string, string), (RaftGroupView Group, List<RaftReplicaView> Replicas)>();
        foreach (var r in ok)
        {
            if (r.Raftz is null) continue;
            string domain = r.Jsz?.Config?.Domain ?? "";
            foreach (var (account, groups) in r.Raftz)
            {
                foreach (var (groupName, dto) in groups ?? [])
                {
                    if (dto is null) continue;
                    RaftGroupView? identity;
                    if (groupName == "_meta_")
                    {
                        if (MetaGroupOf(r, metaGroups) is not { } mg) continue;
                        identity = new RaftGroupView { Kind = RaftGroupKind.Meta, Cluster = mg.Cluster, Domain = mg.Domain, Group = groupName, Replicas = [] };
                    }
                    else if (!names.TryGetValue((domain, account, groupName), out identity))
                    {
                        continue; // a group of a filtered-out or unknown stream/consumer
                    }
                    var key = (identity.Kind, identity.Cluster, identity.Domain, identity.Account, identity.Stream, identity.Consumer);
                    if (!found.TryGetValue(key, out var entry)) found[key] = entry = (identity with { Size = dto.Size }, []);
                    prior.TryGetValue((identity.Kind, identity.Cluster, identity.Domain, identity.Account, identity.Stream, identity.Consumer, r.ServerName!), out var before);
                    entry.Replicas.Add(Replica(r.ServerName!, dto, before));
                }
            }
        }
        return found.Values
            .Select(e => e.Group with { Size = Math.Max(e.Group.Size, e.Replicas.Count), Replicas = e.Replicas.OrderBy(x => x.Server, StringComparer.Ordinal).ToArray() })
            .OrderBy(g => g.Kind).ThenBy(g => g.Domain, StringComparer.Ordinal).ThenBy(g => g.Cluster, StringComparer.Ordinal)
            .ThenBy(g => g.Account, StringComparer.Ordinal).ThenBy(g => g.Stream, StringComparer.Ordinal).ThenBy(g => g.Consumer, StringComparer.Ordinal)
            .ToArray();
    }

    private static RaftReplicaView Replica(string server, RaftzGroupDto g, RaftReplicaView? before)
    {
        string? NameOf(string? nodeId) =>
            string.IsNullOrEmpty(nodeId) ? null
            : nodeId == g.Id ? server
            : g.Peers is not null && g.Peers.TryGetValue(nodeId, out var p) && !string.IsNullOrEmpty(p.Name) ? p.Name : null;
        bool leader = string.Equals(g.State, "LEADER", StringComparison.OrdinalIgnoreCase);
        var peers = new List<RaftPeerProgress>();
        if (leader)
        {
            foreach (var p in (g.Peers ?? []).Values)
            {
                if (string.IsNullOrEmpty(p.Name) || p.LastReplicatedIndex is not { } lri) continue;
                peers.Add(new RaftPeerProgress
                {
                    Peer = p.Name,
                    LastReplicatedIndex = lri,
                    Lag = g.Pindex > lri ? g.Pindex - lri : 0,
                    LastSeenSeconds = GoDuration(p.LastSeen),
                });
            }
            peers.Sort((a, b) => string.CompareOrdinal(a.Peer, b.Peer));
        }
        var view = new RaftReplicaView
        {
            Server = server,
            State = g.State ?? "",
            Leader = NameOf(g.Leader),
            Term = g.Term,
            Committed = g.Committed,
            Applied = g.Applied,
            Pindex = g.Pindex,
            CatchingUp = g.CatchingUp,
            WalError = g.WalError is { ValueKind: not System.Text.Json.JsonValueKind.Null and not System.Text.Json.JsonValueKind.Undefined },
            Peers = peers,
        };
        return view with { ApplyStalled = view.AppliedBehind > 0 && before is { AppliedBehind: > 0 } && view.Applied < before.Committed };
    }

    /// <summary>A Go duration string ("15.53s", "12m8.6s", "782.2ms", "1h2m3s") in seconds; null when unreadable.</summary>
    internal static double? GoDuration(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        double total = 0;
        int i = 0;
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.')) i++;
            if (start == i || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v)) return null;
            int u = i;
            while (i < text.Length && !char.IsAsciiDigit(text[i]) && text[i] != '.') i++;
            double scale = text[u..i] switch
            {
                "h" => 3600, "m" => 60, "s" => 1, "ms" => 1e-3, "us" or "µs" or "μs" => 1e-6, "ns" => 1e-9, _ => double.NaN,
            };
            if (double.IsNaN(scale)) return null;
            total += v * scale;
        }
        return total;
    }
}
