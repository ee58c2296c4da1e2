using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>Consumers, numbers from the consumer leader, and their replicas.</summary>
internal static class ConsumerMetrics
{
    private static readonly (string Name, string Help, Func<ConsumerView, double?> Value)[] Gauges =
    [
        ("natsjs_consumer_pending_messages", "Messages in the stream not yet delivered to the consumer (num_pending).", c => c.PendingMessages),
        ("natsjs_consumer_ack_pending_messages", "Messages delivered but not yet acknowledged.", c => c.AckPendingMessages),
        ("natsjs_consumer_redelivered_messages", "Messages delivered more than once and not yet acknowledged.", c => c.RedeliveredMessages),
        ("natsjs_consumer_waiting_pulls", "Pull requests waiting for messages.", c => c.WaitingPulls),
        ("natsjs_consumer_delivered_stream_seq", "Last stream sequence delivered to the consumer.", c => c.DeliveredStreamSeq),
        ("natsjs_consumer_delivered_consumer_seq", "Last consumer sequence delivered.", c => c.DeliveredConsumerSeq),
        ("natsjs_consumer_ack_floor_stream_seq", "Stream sequence below which every message is acknowledged.", c => c.AckFloorStreamSeq),
        ("natsjs_consumer_max_ack_pending", "The consumer's max_ack_pending setting.", c => c.MaxAckPending),
        ("natsjs_consumer_last_delivery_timestamp_seconds", "Unix time of the last delivery (2.10+).", c => c.LastDeliveryUnixSeconds),
        ("natsjs_consumer_last_ack_timestamp_seconds", "Unix time of the last acknowledgement (2.10+).", c => c.LastAckUnixSeconds),
        ("natsjs_consumer_paused", "1 while the consumer is paused (2.11+).", c => c.Paused is { } p ? (p ? 1 : 0) : null),
        ("natsjs_consumer_has_leader", "1 if the consumer's Raft group has a leader.", c => c.HasLeader ? 1 : 0),
    ];

    public static void Write(ExpositionWriter w, ClusterSnapshot s, RenderAssets assets)
    {
        var labels = assets.Consumers;
        if (labels.Length == 0) return;
        var items = new ConsumerView[labels.Length];
        int n = 0;
        foreach (var st in s.Streams)
            for (int j = 0; j < st.Consumers.Count; j++) items[n++] = st.Consumers[j];
        var ids = assets.Cache.Run("consumer", labels.Length);
        foreach (var l in labels) ids.Add(l.Set);

        w.Family("natsjs_consumer_info", MetricType.Gauge, "Consumer metadata; always 1.");
        for (int i = 0; i < items.Length; i++)
        {
            var c = items[i];
            w.Sample(labels[i].Info(new("durable", c.Durable ? "true" : "false"), new("ack_policy", c.AckPolicy), new("deliver_policy", c.DeliverPolicy)), 1L);
        }

        // Values gathered consumer by consumer, then written family by family: each ConsumerView
        // (30,000 objects scattered over the heap at 10,000 streams) is visited once, not once per family.
        var values = assets.Cache.Values("values", Gauges.Length * items.Length);
        for (int i = 0; i < items.Length; i++)
            for (int f = 0; f < Gauges.Length; f++) values[f * items.Length + i] = Gauges[f].Value(items[i]);
        for (int f = 0; f < Gauges.Length; f++)
        {
            w.Family(Gauges[f].Name, MetricType.Gauge, Gauges[f].Help);
            for (int i = 0; i < items.Length; i++)
                if (values[f * items.Length + i] is { } x) w.Sample(ids[i], x);
        }

        var peers = MetaMetrics.PeerRun(assets.Cache.Run("consumer_peer", 3 * items.Length), n => assets.Cache.Values("peers", n), items, c => c.Peers, labels);
        MetaMetrics.IsLeaderFamily(w, "natsjs_consumer_peer_is_leader", "1 on the peer that leads the consumer, 0 on the other replicas.", peers);
        MetaMetrics.PeerFamilies(w, "natsjs_consumer_peer", "consumer replica", peers);
    }
}
