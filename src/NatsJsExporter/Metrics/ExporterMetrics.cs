using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>The exporter's own health: per-target up, duration, last success and errors.</summary>
internal static class ExporterMetrics
{
    public static void Write(ExpositionWriter w, ClusterSnapshot s, string version)
    {
        w.Family("natsjs_exporter_build_info", MetricType.Gauge, "NatsJsExporter build information; always 1.");
        w.Sample(1L, new Label("version", version));

        w.Family("natsjs_poll_interval_seconds", MetricType.Gauge, "Configured interval between polls of the NATS servers.");
        w.Sample(s.PollInterval.TotalSeconds);

        w.Family("natsjs_poll_duration_seconds", MetricType.Gauge, "Wall time of the last poll of all targets and the merge (rendering, which follows, is not included).");
        w.Sample(s.PollDuration.TotalSeconds);

        w.Family("natsjs_poll_timestamp_seconds", MetricType.Gauge, "Unix time at which the snapshot being served was collected.");
        w.Sample(s.CollectedAt.ToUnixTimeMilliseconds() / 1000.0);

        w.Family("natsjs_servers_expected", MetricType.Gauge, "Servers the exporter expects to answer each poll (configured monitor URLs).");
        w.Sample(s.ExpectedServerCount);

        w.Family("natsjs_servers_responded", MetricType.Gauge, "Servers that answered the last poll successfully.");
        w.Sample((long)s.Targets.Count(t => t.Up));

        w.Family("natsjs_up", MetricType.Gauge, "1 if the last poll of this target succeeded, else 0.");
        foreach (var t in s.Targets) w.Sample(t.Up, new Label("server", t.Label));

        w.Family("natsjs_scrape_duration_seconds", MetricType.Gauge, "Time the last poll of this target took.");
        foreach (var t in s.Targets) w.Sample(t.DurationSeconds, new Label("server", t.Label));

        w.Family("natsjs_last_success_timestamp_seconds", MetricType.Gauge, "Unix time of the last successful poll of this target.");
        foreach (var t in s.Targets)
            if (t.LastSuccessUnixSeconds is { } ts) w.Sample(ts, new Label("server", t.Label));

        w.Family("natsjs_scrape_errors_total", MetricType.Counter, "Failed polls of this target since the exporter started, by reason.");
        foreach (var t in s.Targets)
            foreach (var (reason, count) in t.ErrorsByReason)
                w.Sample(count, new Label("server", t.Label), new Label("reason", reason));

        w.Family("natsjs_conflicts_total", MetricType.Counter, "Times two servers both claimed to lead the same Raft group (the exporter picked one deterministically).");
        w.Sample(s.ConflictsTotal);
    }
}
