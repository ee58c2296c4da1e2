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
        var streams = new List<(StreamView Stream, AssetLabels Labels)>();
        for (int i = 0; i < s.Streams.Count; i++)
            if (s.Streams[i].Replicas.Count > 0) streams.Add((s.Streams[i], assets.Streams[i]));
        if (streams.Count == 0) return;

        w.Family("natsjs_stream_replica_behind_messages", MetricType.Gauge, "The stream leader's last sequence minus this replica's own (0 on the leader; absent without a leader report).");
        foreach (var (st, labels) in streams)
            foreach (var r in st.Replicas)
                if (r.BehindMessages is { } b) w.Sample(labels.With("peer", r.Server), b);
        w.Family("natsjs_stream_replica_last_seq", MetricType.Gauge, "This replica's own last sequence, as its server reports it (unchanged while its copy makes no progress).");
        foreach (var (st, labels) in streams)
            foreach (var r in st.Replicas)
                w.Sample(labels.With("peer", r.Server), r.LastSeq);
        w.Family("natsjs_stream_replica_diverged", MetricType.Gauge, "1 when the replica, at the leader's last sequence, held different messages, first sequence or bytes in two consecutive polls.");
        foreach (var (st, labels) in streams)
            foreach (var r in st.Replicas)
                w.Sample(labels.With("peer", r.Server), r.Diverged);

        var consumers = new List<(ConsumerView Consumer, AssetLabels Labels)>();
        for (int i = 0; i < s.Streams.Count; i++)
        {
            if (s.Streams[i].Replicas.Count == 0) continue;
            int first = assets.ConsumerStart[i];
            var cs = s.Streams[i].Consumers;
            for (int j = 0; j < cs.Count; j++)
                if (cs[j].Replicas.Count > 0) consumers.Add((cs[j], assets.Consumers[first + j]));
        }
        if (consumers.Count == 0) return;
        w.Family("natsjs_consumer_replica_behind_messages", MetricType.Gauge, "The consumer leader's delivered stream sequence minus this replica's own (0 on the leader; absent on followers not compared, e.g. before 2.10).");
        foreach (var (c, labels) in consumers)
            foreach (var r in c.Replicas)
                if (r.BehindMessages is { } b) w.Sample(labels.With("peer", r.Server), b);
        w.Family("natsjs_consumer_replica_ack_floor_stream_seq", MetricType.Gauge, "This replica's own ack floor stream sequence, as its server reports it (absent for followers before 2.10, which report 0).");
        foreach (var (c, labels) in consumers)
            foreach (var r in c.Replicas)
                if (r.OwnStateReported) w.Sample(labels.With("peer", r.Server), r.AckFloorStreamSeq);
        w.Family("natsjs_consumer_replica_diverged", MetricType.Gauge, "1 when the replica, at the leader's delivered stream sequence, held a different delivered consumer sequence or ack floor in two consecutive polls.");
        foreach (var (c, labels) in consumers)
            foreach (var r in c.Replicas)
                w.Sample(labels.With("peer", r.Server), r.Diverged);
    }
}
