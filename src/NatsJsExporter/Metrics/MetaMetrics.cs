using System.Globalization;
using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>The RAFT meta group: leader, size, pending, and each peer's currency (from the meta leader).</summary>
internal static class MetaMetrics
{
    public static void Write(ExpositionWriter w, ClusterSnapshot s)
    {
        var groups = s.MetaGroups;
        w.Family("natsjs_meta_has_leader", MetricType.Gauge, "1 if the meta group has a leader.");
        foreach (var g in groups) w.Sample(g.HasLeader, Labels(g));

        w.Family("natsjs_meta_is_leader", MetricType.Gauge, "1 on the meta group leader, 0 on the other peers.");
        foreach (var g in groups)
            foreach (var p in g.Peers) w.Sample(p.IsLeader, [.. Labels(g), new("server", p.Name)]);

        w.Family("natsjs_meta_cluster_size", MetricType.Gauge, "Number of peers the meta group expects.");
        foreach (var g in groups) w.Sample(g.ClusterSize, Labels(g));

        w.Family("natsjs_meta_pending", MetricType.Gauge, "Meta group proposals not yet applied (2.10.21+).");
        foreach (var g in groups)
            if (g.Pending is { } v) w.Sample(v, Labels(g));

        w.Family("natsjs_meta_snapshot_pending_entries", MetricType.Gauge, "Raft entries since the last meta snapshot (2.11.11/2.12.2+).");
        foreach (var g in groups)
            if (g.SnapshotPendingEntries is { } v) w.Sample(v, Labels(g));

        w.Family("natsjs_meta_snapshot_pending_bytes", MetricType.Gauge, "Bytes of Raft entries since the last meta snapshot (2.11.11/2.12.2+).");
        foreach (var g in groups)
            if (g.SnapshotPendingBytes is { } v) w.Sample(v, Labels(g));

        w.Family("natsjs_meta_leader_changes_total", MetricType.Counter, "Meta leader changes seen by this exporter (starts at 0 when the exporter starts).");
        foreach (var g in groups) w.Sample(g.LeaderChanges, Labels(g));

        var labels = groups.Select(g => new AssetLabels(new LabelSet(Labels(g)))).ToArray();
        PeerFamilies(w, "natsjs_meta_peer", "meta group peer", PeerRun(new LabelRun(), n => new double?[n], groups, g => g.Peers, labels));
    }

    /// <summary>
    /// cluster = the meta group's name (its alphabetically first member cluster: one meta group per
    /// super-cluster, not one per cluster), and domain only when the JetStream domain is set.
    /// </summary>
    private static Label[] Labels(MetaGroupView g) =>
        g.Domain.Length == 0 ? [new("cluster", g.Cluster)] : [new("cluster", g.Cluster), new("domain", g.Domain)];

    /// <summary>Per-peer values gathered by <see cref="PeerRun"/>: is_leader and the four of <see cref="PeerFamilies"/>.</summary>
    internal const int PeerFields = 5;

    /// <summary>
    /// Each group's labels followed by <c>peer</c>, for every peer in order (the labels of the per-peer
    /// families' series), and each peer's <see cref="PeerFields"/> values, gathered in the same pass
    /// so that each PeerView is visited once, not once per family.
    /// </summary>
    internal static (LabelRun Labels, double?[] Values) PeerRun<TGroup>(LabelRun run, Func<int, double?[]> values, IReadOnlyList<TGroup> groups,
        Func<TGroup, IReadOnlyList<PeerView>> peers, IReadOnlyList<AssetLabels> groupLabels)
    {
        int count = 0;
        for (int i = 0; i < groups.Count; i++) count += peers(groups[i]).Count;
        var v = values(PeerFields * count);
        int k = 0;
        for (int i = 0; i < groups.Count; i++)
        {
            var ps = peers(groups[i]);
            for (int j = 0; j < ps.Count; j++, k++)
            {
                var p = ps[j];
                run.Add(groupLabels[i].With("peer", p.Name));
                v[PeerFields * k] = p.IsLeader ? 1 : 0;
                for (int f = 0; f < PeerGauges.Length; f++) v[PeerFields * k + 1 + f] = PeerGauges[f].Value(p);
            }
        }
        return (run, v);
    }

    private static readonly (string Suffix, string Help, Func<PeerView, double?> Value)[] PeerGauges =
    [
        ("_current", "1 if the {0} is current with its leader, 0 if outdated (as reported by the group leader).", p => p.Current is { } c ? (c ? 1 : 0) : null),
        ("_offline", "1 if the group leader reports the {0} offline.", p => p.Offline is { } o ? (o ? 1 : 0) : null),
        ("_last_seen_seconds", "Seconds since the group leader last heard from the {0} (0 on the leader).", p => p.LastSeenSeconds),
        ("_lag", "Raft log entries the {0} is behind its leader.", p => p.Lag),
    ];

    /// <summary>The is_leader family of streams or consumers (the meta group's has other labels), from <see cref="PeerRun"/>.</summary>
    internal static void IsLeaderFamily(ExpositionWriter w, string name, string help, (LabelRun Labels, double?[] Values) peers)
    {
        w.Family(name, MetricType.Gauge, help);
        for (int k = 0; k < peers.Labels.Count; k++) w.Sample(peers.Labels[k], peers.Values[PeerFields * k]!.Value);
    }

    /// <summary>The four per-peer health families shared by the meta group, streams and consumers, from <see cref="PeerRun"/>.</summary>
    internal static void PeerFamilies(ExpositionWriter w, string prefix, string what, (LabelRun Labels, double?[] Values) peers)
    {
        for (int f = 0; f < PeerGauges.Length; f++)
        {
            w.Family(prefix + PeerGauges[f].Suffix, MetricType.Gauge, string.Format(CultureInfo.InvariantCulture, PeerGauges[f].Help, what));
            for (int k = 0; k < peers.Labels.Count; k++)
                if (peers.Values[PeerFields * k + 1 + f] is { } v) w.Sample(peers.Labels[k], v);
        }
    }
}
