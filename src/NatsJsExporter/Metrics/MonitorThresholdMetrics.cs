using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>
/// natscli's per-asset check thresholds from `io.nats.monitor.*` metadata, one gauge per key, so a
/// rule can compare each stream or consumer with its own threshold (`on(...) group_left`). Labels are
/// exactly the asset's identity (as natsjs_stream_messages / natsjs_consumer_pending_messages); a
/// series exists only for assets that set the key to a value natscli reads and that turns the check on (&gt; 0).
/// </summary>
internal static class MonitorThresholdMetrics
{
    /// <summary>Key → metric name and help, in <see cref="MonitorThresholds.Keys"/> order.</summary>
    internal static readonly IReadOnlyList<(string Key, string Name, string Help)> Families =
    [
        (MonitorThresholds.Prefix + "lag-critical", "natsjs_stream_monitor_lag_critical_messages", "io.nats.monitor.lag-critical: critical when a source or the mirror is this many messages behind or more."),
        (MonitorThresholds.Prefix + "seen-critical", "natsjs_stream_monitor_seen_critical_seconds", "io.nats.monitor.seen-critical: critical when a source or the mirror was last seen this many seconds ago or more."),
        (MonitorThresholds.Prefix + "min-sources", "natsjs_stream_monitor_min_sources", "io.nats.monitor.min-sources: critical with fewer sources than this."),
        (MonitorThresholds.Prefix + "max-sources", "natsjs_stream_monitor_max_sources", "io.nats.monitor.max-sources: critical with more sources than this."),
        (MonitorThresholds.Prefix + "peer-expect", "natsjs_stream_monitor_peer_expect", "io.nats.monitor.peer-expect: critical unless the stream has exactly this many peers (leader included)."),
        (MonitorThresholds.Prefix + "peer-lag-critical", "natsjs_stream_monitor_peer_lag_critical", "io.nats.monitor.peer-lag-critical: critical when a replica is more than this many operations behind its leader."),
        (MonitorThresholds.Prefix + "peer-seen-critical", "natsjs_stream_monitor_peer_seen_critical_seconds", "io.nats.monitor.peer-seen-critical: critical when the leader last saw a replica more than this many seconds ago."),
        (MonitorThresholds.Prefix + "msgs-warn", "natsjs_stream_monitor_msgs_warn", "io.nats.monitor.msgs-warn: warning when the stream holds this many messages or fewer."),
        (MonitorThresholds.Prefix + "msgs-critical", "natsjs_stream_monitor_msgs_critical", "io.nats.monitor.msgs-critical: critical when the stream holds this many messages or fewer."),
        (MonitorThresholds.Prefix + "subjects-warn", "natsjs_stream_monitor_subjects_warn", "io.nats.monitor.subjects-warn: warning at this many subjects or more (or fewer, when above subjects-critical)."),
        (MonitorThresholds.Prefix + "subjects-critical", "natsjs_stream_monitor_subjects_critical", "io.nats.monitor.subjects-critical: critical at this many subjects or more (or fewer, when below subjects-warn)."),
        (MonitorThresholds.Prefix + "outstanding-ack-critical", "natsjs_consumer_monitor_outstanding_ack_critical", "io.nats.monitor.outstanding-ack-critical: critical with this many messages awaiting acknowledgement or more."),
        (MonitorThresholds.Prefix + "waiting-critical", "natsjs_consumer_monitor_waiting_critical", "io.nats.monitor.waiting-critical: critical with this many waiting pull requests or more."),
        (MonitorThresholds.Prefix + "unprocessed-critical", "natsjs_consumer_monitor_unprocessed_critical", "io.nats.monitor.unprocessed-critical: critical with this many messages not yet delivered (num_pending) or more."),
        (MonitorThresholds.Prefix + "last-delivery-critical", "natsjs_consumer_monitor_last_delivery_critical_seconds", "io.nats.monitor.last-delivery-critical: critical when the last delivery was this many seconds ago or more (or never)."),
        (MonitorThresholds.Prefix + "last-ack-critical", "natsjs_consumer_monitor_last_ack_critical_seconds", "io.nats.monitor.last-ack-critical: critical when the last acknowledgement was this many seconds ago or more (or never)."),
        (MonitorThresholds.Prefix + "redelivery-critical", "natsjs_consumer_monitor_redelivery_critical", "io.nats.monitor.redelivery-critical: critical with this many redelivered messages or more."),
    ];

    public static void Write(ExpositionWriter w, ClusterSnapshot s, RenderAssets labels)
    {
        var streams = new List<(LabelSet Set, MonitorSettings Monitor)>();
        var consumers = new List<(LabelSet Set, MonitorSettings Monitor)>();
        for (int i = 0; i < s.Streams.Count; i++)
        {
            var st = s.Streams[i];
            if (st.Monitor is { Thresholds.Count: > 0 } sm) streams.Add((labels.Streams[i].Set, sm));
            for (int j = 0; j < st.Consumers.Count; j++)
                if (st.Consumers[j].Monitor is { Thresholds.Count: > 0 } cm)
                    consumers.Add((labels.Consumers[labels.ConsumerStart[i] + j].Set, cm));
        }
        if (streams.Count == 0 && consumers.Count == 0) return;

        foreach (var (key, name, help) in Families)
        {
            var assets = name.StartsWith("natsjs_consumer_", StringComparison.Ordinal) ? consumers : streams;
            w.Family(name, MetricType.Gauge, help);
            foreach (var (set, monitor) in assets)
                if (monitor.Value(key) is { } v) w.Sample(set, v);
        }
    }
}
