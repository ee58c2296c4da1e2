using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>
/// Each replica's own copy compared with its leader's (streams and consumers with more than one
/// replica; absent with --replica-comparison=false). Labels as the peer families: the stream's (or
/// consumer's) identity plus `peer`, the server holding the copy.
/// </summary>
internal static class ReplicaMetrics
{
    public static void Write(ExpositionWriter w, ClusterSnapshot s)
    {
        var streams = s.Streams.Where(st => st.Replicas.Count > 0).ToArray();
        if (streams.Length == 0) return;
        var sets = StreamMetrics.LabelSets(streams);

        w.Family("natsjs_stream_replica_behind_messages", MetricType.Gauge, "The stream leader's last sequence minus this replica's own (0 on the leader; absent without a leader report).");
        for (int i = 0; i < streams.Length; i++)
            foreach (var r in streams[i].Replicas)
                if (r.BehindMessages is { } b) w.Sample(sets[i], b, new Label("peer", r.Server));
        w.Family("natsjs_stream_replica_last_seq", MetricType.Gauge, "This replica's own last sequence, as its server reports it (unchanged while its copy makes no progress).");
        for (int i = 0; i < streams.Length; i++)
            foreach (var r in streams[i].Replicas)
                w.Sample(sets[i], r.LastSeq, new Label("peer", r.Server));
        w.Family("natsjs_stream_replica_diverged", MetricType.Gauge, "1 when the replica, at the leader's last sequence, held different messages, first sequence or bytes in two consecutive polls.");
        for (int i = 0; i < streams.Length; i++)
            foreach (var r in streams[i].Replicas)
                w.Sample(sets[i], r.Diverged, new Label("peer", r.Server));

        var consumers = new List<(LabelSet Set, ConsumerView Consumer)>();
        for (int i = 0; i < streams.Length; i++)
            foreach (var c in streams[i].Consumers)
                if (c.Replicas.Count > 0) consumers.Add((sets[i].With(new Label("consumer", c.Name)), c));
        if (consumers.Count == 0) return;
        w.Family("natsjs_consumer_replica_behind_messages", MetricType.Gauge, "The consumer leader's delivered stream sequence minus this replica's own (0 on the leader; absent on followers not compared, e.g. before 2.10).");
        foreach (var (set, c) in consumers)
            foreach (var r in c.Replicas)
                if (r.BehindMessages is { } b) w.Sample(set, b, new Label("peer", r.Server));
        w.Family("natsjs_consumer_replica_ack_floor_stream_seq", MetricType.Gauge, "This replica's own ack floor stream sequence, as its server reports it (absent for followers before 2.10, which report 0).");
        foreach (var (set, c) in consumers)
            foreach (var r in c.Replicas)
                if (r.OwnStateReported) w.Sample(set, r.AckFloorStreamSeq, new Label("peer", r.Server));
        w.Family("natsjs_consumer_replica_diverged", MetricType.Gauge, "1 when the replica, at the leader's delivered stream sequence, held a different delivered consumer sequence or ack floor in two consecutive polls.");
        foreach (var (set, c) in consumers)
            foreach (var r in c.Replicas)
                w.Sample(set, r.Diverged, new Label("peer", r.Server));
    }
}
