using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>
/// Raft state from the servers themselves (/raftz, 2.11+): per group and server, and the group
/// leader's view of each peer's replication progress. Meta groups always; stream and consumer
/// groups with --raftz-groups=all. Families are named after what the group replicates.
/// </summary>
internal static class RaftMetrics
{
    public static void Write(ExpositionWriter w, ClusterSnapshot s)
    {
        var groups = s.Raft.Groups;
        if (groups.Count == 0) return;
        foreach (var kind in new[] { RaftGroupKind.Meta, RaftGroupKind.Stream, RaftGroupKind.Consumer })
        {
            var ofKind = groups.Where(g => g.Kind == kind).ToArray();
            if (ofKind.Length == 0) continue;
            var sets = ofKind.Select(g => new LabelSet(Labels(g))).ToArray();
            string prefix = kind switch { RaftGroupKind.Meta => "natsjs_meta_raft", RaftGroupKind.Stream => "natsjs_stream_raft", _ => "natsjs_consumer_raft" };
            string what = kind switch { RaftGroupKind.Meta => "the meta group", RaftGroupKind.Stream => "the stream's Raft group", _ => "the consumer's Raft group" };

            void PerServer(string suffix, MetricType type, string help, Func<RaftReplicaView, double> value)
            {
                w.Family(prefix + suffix, type, help);
                for (int i = 0; i < ofKind.Length; i++)
                    foreach (var r in ofKind[i].Replicas) w.Sample(sets[i], value(r), new Label("server", r.Server));
            }

            PerServer("_applied_behind", MetricType.Gauge, $"Committed entries of {what} this server has not applied yet (committed - applied, /raftz 2.11+).", r => r.AppliedBehind);
            PerServer("_uncommitted", MetricType.Gauge, $"Entries in this server's log of {what} not committed yet (pindex - committed, /raftz 2.11+).", r => r.Uncommitted);
            PerServer("_catching_up", MetricType.Gauge, $"1 while this server's copy of {what} is catching up (/raftz 2.11+).", r => r.CatchingUp ? 1 : 0);
            PerServer("_wal_error", MetricType.Gauge, $"1 if this server's log (WAL) of {what} reports an error (/raftz 2.11+).", r => r.WalError ? 1 : 0);
            PerServer("_term_total", MetricType.Counter, $"Raft term of {what} on this server: it grows by one per election, so rate() counts elections (/raftz 2.11+).", r => r.Term);

            w.Family(prefix + "_peer_lag", MetricType.Gauge,
                $"Log entries a follower of {what} is behind, as its leader reports (leader pindex - the peer's last replicated index; /raftz 2.11+, from the leader only).");
            for (int i = 0; i < ofKind.Length; i++)
                foreach (var r in ofKind[i].Replicas)
                    foreach (var p in r.Peers) w.Sample(sets[i], (double)p.Lag, new Label("peer", p.Peer));
        }
    }

    /// <summary>Meta: cluster[, domain]. Stream: cluster[, domain], account, stream. Consumer: and consumer.</summary>
    internal static Label[] Labels(RaftGroupView g)
    {
        var labels = new List<Label>(5) { new("cluster", g.Cluster) };
        if (g.Domain.Length > 0) labels.Add(new("domain", g.Domain));
        if (g.Kind == RaftGroupKind.Meta) return labels.ToArray();
        labels.Add(new("account", g.Account));
        labels.Add(new("stream", g.Stream));
        if (g.Kind == RaftGroupKind.Consumer) labels.Add(new("consumer", g.Consumer));
        return labels.ToArray();
    }
}
