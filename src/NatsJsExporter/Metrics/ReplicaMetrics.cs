using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>
/// Each replica's own copy compared with its leader's (streams and consumers with more than one
/// replica; absent with --replica-comparison=false). Labels as the peer families: the stream's (or
/// consumer's) identity plus `peer`, the server holding the copy.
/// </summary>
internal static class ReplicaMetrics
{
    public static void Write(ExpositionWriter w, ClusterSnapshot s, RenderAssets assets)
    {
        int streamReplicas = 0, consumerReplicas = 0;
        foreach (var st in s.Streams)
        {
            if (st.Replicas.Count == 0) continue;
            streamReplicas += st.Replicas.Count;
            for (int j = 0; j < st.Consumers.Count; j++) consumerReplicas += st.Consumers[j].Replicas.Count;
        }
        if (streamReplicas == 0) return;

        // One pass over the replicas: their labels (identity and peer) and their three values each,
        // in the order every family below writes them (each replica object visited once, not three times).
        var streamPeers = assets.Cache.Run("stream_replica", streamReplicas);
        var consumerPeers = assets.Cache.Run("consumer_replica", consumerReplicas);
        var streamValues = assets.Cache.Values("stream_replica", 3 * streamReplicas);
        var consumerValues = assets.Cache.Values("consumer_replica", 3 * consumerReplicas);
        int sk = 0, ck = 0;
        for (int i = 0; i < s.Streams.Count; i++)
        {
            var st = s.Streams[i];
            if (st.Replicas.Count == 0) continue;
            for (int r = 0; r < st.Replicas.Count; r++, sk++)
            {
                var replica = st.Replicas[r];
                streamPeers.Add(assets.Streams[i].With("peer", replica.Server));
                streamValues[3 * sk] = replica.BehindMessages;
                streamValues[3 * sk + 1] = replica.LastSeq;
                streamValues[3 * sk + 2] = replica.Diverged ? 1 : 0;
            }
            for (int j = 0; j < st.Consumers.Count; j++)
            {
                var c = st.Consumers[j];
                if (c.Replicas.Count == 0) continue;
                var labels = assets.Consumers[assets.ConsumerStart[i] + j];
                for (int r = 0; r < c.Replicas.Count; r++, ck++)
                {
                    var replica = c.Replicas[r];
                    consumerPeers.Add(labels.With("peer", replica.Server));
                    consumerValues[3 * ck] = replica.BehindMessages;
                    consumerValues[3 * ck + 1] = replica.OwnStateReported ? replica.AckFloorStreamSeq : null;
                    consumerValues[3 * ck + 2] = replica.Diverged ? 1 : 0;
                }
            }
        }

        Family(w, "natsjs_stream_replica_behind_messages", "The stream leader's last sequence minus this replica's own (0 on the leader; absent without a leader report).", streamPeers, streamValues, 0);
        Family(w, "natsjs_stream_replica_last_seq", "This replica's own last sequence, as its server reports it (unchanged while its copy makes no progress).", streamPeers, streamValues, 1);
        Family(w, "natsjs_stream_replica_diverged", "1 when the replica, at the leader's last sequence, held different messages, first sequence or bytes in two consecutive polls.", streamPeers, streamValues, 2);
        if (consumerReplicas == 0) return;
        Family(w, "natsjs_consumer_replica_behind_messages", "The consumer leader's delivered stream sequence minus this replica's own (0 on the leader; absent on followers not compared, e.g. before 2.10).", consumerPeers, consumerValues, 0);
        Family(w, "natsjs_consumer_replica_ack_floor_stream_seq", "This replica's own ack floor stream sequence, as its server reports it (absent for followers before 2.10, which report 0).", consumerPeers, consumerValues, 1);
        Family(w, "natsjs_consumer_replica_diverged", "1 when the replica, at the leader's delivered stream sequence, held a different delivered consumer sequence or ack floor in two consecutive polls.", consumerPeers, consumerValues, 2);
    }

    /// <summary>Value <paramref name="field"/> (of three per replica) of every replica.</summary>
    private static void Family(ExpositionWriter w, string name, string help, LabelRun labels, double?[] values, int field)
    {
        w.Family(name, MetricType.Gauge, help);
        for (int k = 0; k < labels.Count; k++)
            if (values[3 * k + field] is { } v) w.Sample(labels[k], v);
    }
}
