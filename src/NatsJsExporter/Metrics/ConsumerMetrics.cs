using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>Consumers, numbers from the consumer leader, and their replicas.</summary>
internal static class ConsumerMetrics
{
    public static void Write(ExpositionWriter w, ClusterSnapshot s)
    {
        var items = s.Streams.SelectMany(st => st.Consumers.Select(c => (Stream: st, Consumer: c))).ToArray();
        if (items.Length == 0) return;

        w.Family("natsjs_consumer_info", MetricType.Gauge, "Consumer metadata; always 1.");
        foreach (var (st, c) in items)
            w.Sample(1L, [.. Labels(st, c), new("durable", c.Durable ? "true" : "false"), new("ack_policy", c.AckPolicy), new("deliver_policy", c.DeliverPolicy)]);

        Gauge(w, items, "natsjs_consumer_pending_messages", "Messages in the stream not yet delivered to the consumer (num_pending).", c => c.PendingMessages);
        Gauge(w, items, "natsjs_consumer_ack_pending_messages", "Messages delivered but not yet acknowledged.", c => c.AckPendingMessages);
        Gauge(w, items, "natsjs_consumer_redelivered_messages", "Messages delivered more than once and not yet acknowledged.", c => c.RedeliveredMessages);
        Gauge(w, items, "natsjs_consumer_waiting_pulls", "Pull requests waiting for messages.", c => c.WaitingPulls);
        Gauge(w, items, "natsjs_consumer_delivered_stream_seq", "Last stream sequence delivered to the consumer.", c => c.DeliveredStreamSeq);
        Gauge(w, items, "natsjs_consumer_delivered_consumer_seq", "Last consumer sequence delivered.", c => c.DeliveredConsumerSeq);
        Gauge(w, items, "natsjs_consumer_ack_floor_stream_seq", "Stream sequence below which every message is acknowledged.", c => c.AckFloorStreamSeq);
        Gauge(w, items, "natsjs_consumer_max_ack_pending", "The consumer's max_ack_pending setting.", c => c.MaxAckPending);
        Gauge(w, items, "natsjs_consumer_last_delivery_timestamp_seconds", "Unix time of the last delivery (2.10+).", c => c.LastDeliveryUnixSeconds);
        Gauge(w, items, "natsjs_consumer_last_ack_timestamp_seconds", "Unix time of the last acknowledgement (2.10+).", c => c.LastAckUnixSeconds);
        Gauge(w, items, "natsjs_consumer_paused", "1 while the consumer is paused (2.11+).", c => c.Paused is { } p ? (p ? 1 : 0) : null);
        Gauge(w, items, "natsjs_consumer_has_leader", "1 if the consumer's Raft group has a leader.", c => c.HasLeader ? 1 : 0);

        w.Family("natsjs_consumer_peer_is_leader", MetricType.Gauge, "1 on the peer that leads the consumer, 0 on the other replicas.");
        foreach (var (st, c) in items)
            foreach (var p in c.Peers)
                w.Sample(p.IsLeader, [.. Labels(st, c), new("peer", p.Name)]);
        MetaMetrics.PeerFamilies(w, "natsjs_consumer_peer", "consumer replica", items, i => i.Consumer.Peers, i => Labels(i.Stream, i.Consumer));
    }

    private static Label[] Labels(StreamView st, ConsumerView c) => [.. StreamMetrics.Labels(st), new("consumer", c.Name)];

    private static void Gauge(ExpositionWriter w, (StreamView Stream, ConsumerView Consumer)[] items, string name, string help, Func<ConsumerView, double?> value)
    {
        w.Family(name, MetricType.Gauge, help);
        foreach (var (st, c) in items)
            if (value(c) is { } x) w.Sample(x, Labels(st, c));
    }
}
