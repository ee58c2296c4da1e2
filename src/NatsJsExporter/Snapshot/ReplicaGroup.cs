using NatsJsExporter.Model;

namespace NatsJsExporter.Snapshot;

/// <summary>One server's copy of a replicated asset (stream, consumer) as that server reported it.</summary>
/// <remarks><paramref name="MetaLeaderKnown"/>: the reporting server's meta group has a leader (or it is not clustered).</remarks>
internal readonly record struct ReplicaReport<T>(string Server, bool ServerClustered, T Item, ClusterInfoDto? Cluster, ulong Progress, bool MetaLeaderKnown = true);

/// <summary>Who leads a Raft group, whose numbers to trust, and each peer's health.</summary>
internal readonly record struct GroupResolution<T>(
    ReplicaReport<T> StateSource,
    bool HasLeader,
    string? Leader,
    IReadOnlyList<PeerView> Peers,
    IReadOnlyList<string> Claimants,
    IReadOnlyList<string>? Disbelieved = null);

/// <summary>
/// The leader-truth rules. Replica health is only meaningful in the report of the server that
/// leads the group (followers report nonsense for other followers up to 2.12.4), and follower
/// numbers lag behind the leader's. So: the leader's own report wins; without one, any replica
/// gives state (the most advanced one), and peer health is left unknown rather than invented.
/// </summary>
internal static class ReplicaGroup
{
    public static GroupResolution<T> Resolve<T>(ReadOnlySpan<ReplicaReport<T>> replicas, IReadOnlySet<string> knownServers, MergeStrings? strings = null)
    {
        // Runs once per stream and consumer: the common case (one claimant, nobody disbelieved)
        // allocates no list, set or enumerator; groups have a handful of replicas, so the scans are short.

        // Leader claims. A server restarted while its meta group has no leader can list itself as
        // leader of every group it hosts. When a server that does know its meta leader names a
        // different leader, that claim is not believed.
        bool anyVouched = false;
        foreach (var r in replicas)
        {
            if (r.MetaLeaderKnown && !string.IsNullOrEmpty(r.Cluster?.Leader)) { anyVouched = true; break; }
        }

        // A server that is not clustered leads everything it hosts.
        ReplicaReport<T> first = default;
        List<ReplicaReport<T>>? claimants = null;
        int claimantCount = 0;
        List<string>? disbelieved = null;
        foreach (var r in replicas)
        {
            if (r.ServerClustered && !string.Equals(r.Cluster?.Leader, r.Server, StringComparison.Ordinal)) continue;
            if (anyVouched && !r.MetaLeaderKnown && !Vouched(replicas, r.Server))
            {
                (disbelieved ??= []).Add(r.Server);
                continue;
            }
            if (claimantCount == 0) first = r;
            else (claimants ??= [first]).Add(r);
            claimantCount++;
        }

        if (claimantCount > 0)
        {
            var leader = claimantCount == 1 ? first : PickClaimant(claimants!);
            return new GroupResolution<T>(leader, true, leader.Server, PeersFromLeader(leader.Server, leader.Cluster?.Replicas, strings),
                claimantCount > 1 ? claimants!.Select(c => c.Server).Order(StringComparer.Ordinal).ToArray() : [], disbelieved);
        }

        return Leaderless(replicas.ToArray(), knownServers, strings, anyVouched, disbelieved);
    }

    private static GroupResolution<T> Leaderless<T>(ReplicaReport<T>[] replicas, IReadOnlySet<string> knownServers, MergeStrings? strings,
        bool anyVouched, List<string>? disbelieved)
    {
        // No leader answered. Keep state from the most advanced replica; trust the followers'
        // leader name only if that server is not one we poll (if we poll it, it would have said so).
        var source = replicas[0];
        foreach (var r in replicas.Skip(1))
        {
            if (r.Progress > source.Progress || (r.Progress == source.Progress && string.CompareOrdinal(r.Server, source.Server) < 0))
                source = r;
        }

        string? named = replicas
            .Where(r => !anyVouched || r.MetaLeaderKnown)
            .Select(r => r.Cluster?.Leader)
            .Where(l => !string.IsNullOrEmpty(l))
            .GroupBy(l => l!, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Key)
            .FirstOrDefault();
        bool trusted = named is not null && !knownServers.Contains(named);

        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var r in replicas)
        {
            names.Add(r.Server);
            foreach (var p in r.Cluster?.Replicas ?? [])
                if (!string.IsNullOrEmpty(p.Name)) names.Add(p.Name);
        }
        if (trusted) names.Add(named!);

        var peers = names.Select(n => new PeerView { Name = strings?.Get(n) ?? n, IsLeader = trusted && n == named }).ToArray();
        return new GroupResolution<T>(source, trusted, trusted ? named : null, peers, [], disbelieved);
    }

    // Two servers both claim the group (a stale leader during an election): prefer the most
    // recent leader_since, then the most advanced, then the lowest name, so the pick is deterministic.
    private static ReplicaReport<T> PickClaimant<T>(List<ReplicaReport<T>> claimants) =>
        claimants
            .OrderByDescending(c => c.Cluster?.LeaderSince ?? DateTimeOffset.MinValue)
            .ThenByDescending(c => c.Progress)
            .ThenBy(c => c.Server, StringComparer.Ordinal)
            .First();

    public static IReadOnlyList<PeerView> PeersFromLeader(string leader, IReadOnlyList<PeerInfoDto>? replicas, MergeStrings? strings = null)
    {
        // An exact-size array rather than a List: one object less per group in every snapshot kept.
        int count = 1;
        foreach (var p in replicas ?? [])
            if (!string.IsNullOrEmpty(p.Name) && p.Name != leader) count++;
        var peers = new PeerView[count];
        peers[0] = strings?.Leader(leader) ?? new() { Name = leader, IsLeader = true, Current = true, Offline = false, LastSeenSeconds = 0, Lag = 0 };
        int i = 1;
        foreach (var p in replicas ?? [])
        {
            if (string.IsNullOrEmpty(p.Name) || p.Name == leader) continue;
            peers[i++] = new PeerView
            {
                Name = strings?.Get(p.Name) ?? p.Name,
                IsLeader = false,
                Current = p.Current,
                Offline = p.Offline,
                LastSeenSeconds = Math.Max(0, p.Active) / 1e9,
                Lag = p.Lag,
            };
        }
        if (count > 1) Array.Sort(peers, (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return peers;
    }

    /// <summary>Some replica whose server knows its meta leader names <paramref name="server"/> as the group's leader.</summary>
    private static bool Vouched<T>(ReadOnlySpan<ReplicaReport<T>> replicas, string server)
    {
        foreach (var r in replicas)
            if (r.MetaLeaderKnown && !string.IsNullOrEmpty(r.Cluster?.Leader) && string.Equals(r.Cluster.Leader, server, StringComparison.Ordinal)) return true;
        return false;
    }
}
