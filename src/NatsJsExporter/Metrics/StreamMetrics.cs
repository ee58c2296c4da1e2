using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>One series set per stream (not per replica): the `nats stream report` columns, its replicas, sources and mirror.</summary>
internal static class StreamMetrics
{
    private static readonly (string Name, string Help, Func<StreamView, double?> Value)[] Gauges =
    [
        ("natsjs_stream_messages", "Messages in the stream (from the stream leader).", v => v.Messages),
        ("natsjs_stream_bytes", "Bytes of messages in the stream (one replica's worth).", v => v.Bytes),
        ("natsjs_stream_first_seq", "First sequence number in the stream.", v => v.FirstSeq),
        ("natsjs_stream_last_seq", "Last sequence number in the stream.", v => v.LastSeq),
        ("natsjs_stream_consumers", "Consumers on the stream.", v => v.ConsumerCount),
        ("natsjs_stream_deleted_messages", "Messages deleted from the middle of the stream (interior deletes).", v => v.DeletedMessages),
        ("natsjs_stream_lost_messages", "Messages the stream lost (e.g. damaged storage).", v => v.LostMessages),
        ("natsjs_stream_lost_bytes", "Bytes the stream lost.", v => v.LostBytes),
        ("natsjs_stream_subjects", "Distinct subjects holding messages in the stream.", v => v.Subjects),
        ("natsjs_stream_replicas_configured", "Replicas the stream is configured for.", v => v.ReplicasConfigured),
        ("natsjs_stream_max_bytes", "The stream's max_bytes limit (absent when unlimited).", v => v.MaxBytes),
        ("natsjs_stream_max_messages", "The stream's max_msgs limit (absent when unlimited).", v => v.MaxMessages),
        ("natsjs_stream_has_leader", "1 if the stream's Raft group has a leader.", v => v.HasLeader ? 1 : 0),
    ];

    public static void Write(ExpositionWriter w, ClusterSnapshot s, RenderAssets assets)
    {
        var streams = s.Streams;
        var labels = assets.Streams;
        var sets = assets.Cache.Run("stream", labels.Length);
        foreach (var l in labels) sets.Add(l.Set);
        w.Family("natsjs_stream_info", MetricType.Gauge, "Stream metadata; always 1.");
        for (int i = 0; i < streams.Count; i++)
            w.Sample(labels[i].Info(new("storage", streams[i].Storage), new("retention", streams[i].Retention)), 1L);

        // Gathered stream by stream, then written family by family (each StreamView visited once, not once per family).
        var values = assets.Cache.Values("values", Gauges.Length * streams.Count);
        for (int i = 0; i < streams.Count; i++)
            for (int f = 0; f < Gauges.Length; f++) values[f * streams.Count + i] = Gauges[f].Value(streams[i]);
        for (int f = 0; f < Gauges.Length; f++)
        {
            w.Family(Gauges[f].Name, MetricType.Gauge, Gauges[f].Help);
            for (int i = 0; i < streams.Count; i++)
                if (values[f * streams.Count + i] is { } x) w.Sample(sets[i], x);
        }

        w.Family("natsjs_stream_leader_changes_total", MetricType.Counter, "Stream leader changes seen by this exporter (starts at 0 when the exporter starts).");
        for (int i = 0; i < streams.Count; i++) w.Sample(sets[i], streams[i].LeaderChanges);

        var peers = MetaMetrics.PeerRun(assets.Cache.Run("stream_peer", 3 * streams.Count), n => assets.Cache.Values("peers", n), streams, v => v.Peers, labels);
        MetaMetrics.IsLeaderFamily(w, "natsjs_stream_peer_is_leader", "1 on the peer that leads the stream, 0 on the other replicas.", peers);
        MetaMetrics.PeerFamilies(w, "natsjs_stream_peer", "stream replica", peers);

        SourceFamilies(w, streams, labels);
    }

    /// <summary>cluster (where the stream is placed), domain (only when set), account, stream.</summary>
    internal static Label[] Labels(StreamView v) => v.Domain.Length == 0
        ? [new("cluster", v.Cluster), new("account", v.Account), new("stream", v.Name)]
        : [new("cluster", v.Cluster), new("domain", v.Domain), new("account", v.Account), new("stream", v.Name)];

    private static void SourceFamilies(ExpositionWriter w, IReadOnlyList<StreamView> streams, AssetLabels[] labels)
    {
        void Family(string name, string help, bool mirror, Func<StreamSourceView, double?> value)
        {
            w.Family(name, MetricType.Gauge, help);
            for (int i = 0; i < streams.Count; i++)
            {
                var v = streams[i];
                if (mirror)
                {
                    if (v.Mirror is { } m && value(m) is { } x) w.Sample(labels[i].With("source", m.Name), x);
                    continue;
                }
                foreach (var src in v.Sources)
                    if (value(src) is { } x)
                        w.Sample(labels[i].With("source", src.Name), x);
            }
        }

        Family("natsjs_stream_source_lag", "Messages the stream is behind this source.", false, x => x.Lag);
        Family("natsjs_stream_source_last_seen_seconds", "Seconds since the stream last heard from this source (absent when never).", false, x => x.LastSeenSeconds);
        Family("natsjs_stream_source_error", "1 while the server reports an error for this source.", false, x => x.Error is null ? 0 : 1);
        Family("natsjs_stream_mirror_lag", "Messages the mirror is behind its origin stream.", true, x => x.Lag);
        Family("natsjs_stream_mirror_last_seen_seconds", "Seconds since the mirror last heard from its origin (absent when never).", true, x => x.LastSeenSeconds);
        Family("natsjs_stream_mirror_error", "1 while the server reports an error for the mirror.", true, x => x.Error is null ? 0 : 1);
    }
}
