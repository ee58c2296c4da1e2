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
        // Each replica's labels (the asset's identity and peer), in the order every family below writes them.
        var streams = new List<StreamView>();
        var consumers = new List<ConsumerView>();
        var streamPeers = assets.Cache.Run("stream_replica", 3 * s.Streams.Count);
        var consumerPeers = assets.Cache.Run("consumer_replica", 3 * assets.Consumers.Length);
        for (int i = 0; i < s.Streams.Count; i++)
        {
            var st = s.Streams[i];
            if (st.Replicas.Count == 0) continue;
            streams.Add(st);
            for (int r = 0; r < st.Replicas.Count; r++) streamPeers.Add(assets.Streams[i].With("peer", st.Replicas[r].Server));
            for (int j = 0; j < st.Consumers.Count; j++)
            {
                var c = st.Consumers[j];
                if (c.Replicas.Count == 0) continue;
                consumers.Add(c);
                var labels = assets.Consumers[assets.ConsumerStart[i] + j];
                for (int r = 0; r < c.Replicas.Count; r++) consumerPeers.Add(labels.With("peer", c.Replicas[r].Server));
            }
        }
        if (streams.Count == 0) return;

        w.Family("natsjs_stream_replica_behind_messages", MetricType.Gauge, "The stream leader's last sequence minus this replica's own (0 on the leader; absent without a leader report).");
        int k = 0;
        foreach (var st in streams)
            for (int r = 0; r < st.Replicas.Count; r++, k++)
                if (st.Replicas[r].BehindMessages is { } b) w.Sample(streamPeers[k], b);
        w.Family("natsjs_stream_replica_last_seq", MetricType.Gauge, "This replica's own last sequence, as its server reports it (unchanged while its copy makes no progress).");
        k = 0;
        foreach (var st in streams)
            for (int r = 0; r < st.Replicas.Count; r++, k++)
                w.Sample(streamPeers[k], st.Replicas[r].LastSeq);
        w.Family("natsjs_stream_replica_diverged", MetricType.Gauge, "1 when the replica, at the leader's last sequence, held different messages, first sequence or bytes in two consecutive polls.");
        k = 0;
        foreach (var st in streams)
            for (int r = 0; r < st.Replicas.Count; r++, k++)
                w.Sample(streamPeers[k], st.Replicas[r].Diverged);

        if (consumers.Count == 0) return;
        w.Family("natsjs_consumer_replica_behind_messages", MetricType.Gauge, "The consumer leader's delivered stream sequence minus this replica's own (0 on the leader; absent on followers not compared, e.g. before 2.10).");
        k = 0;
        foreach (var c in consumers)
            for (int r = 0; r < c.Replicas.Count; r++, k++)
                if (c.Replicas[r].BehindMessages is { } b) w.Sample(consumerPeers[k], b);
        w.Family("natsjs_consumer_replica_ack_floor_stream_seq", MetricType.Gauge, "This replica's own ack floor stream sequence, as its server reports it (absent for followers before 2.10, which report 0).");
        k = 0;
        foreach (var c in consumers)
            for (int r = 0; r < c.Replicas.Count; r++, k++)
                if (c.Replicas[r].OwnStateReported) w.Sample(consumerPeers[k], c.Replicas[r].AckFloorStreamSeq);
        w.Family("natsjs_consumer_replica_diverged", MetricType.Gauge, "1 when the replica, at the leader's delivered stream sequence, held a different delivered consumer sequence or ack floor in two consecutive polls.");
        k = 0;
        foreach (var c in consumers)
            for (int r = 0; r < c.Replicas.Count; r++, k++)
                w.Sample(consumerPeers[k], c.Replicas[r].Diverged);
    }
}
