using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>The exporter's own health: per-target up, duration, last success and errors.</summary>
internal static class ExporterMetrics
{
    /// <summary>
    /// The reasons an HTTP-mode target (a monitor URL) can fail with (HttpMonitorSource), besides
    /// <c>http_&lt;code&gt;</c>, which has too many values to list and appears when first seen.
    /// </summary>
    internal static readonly string[] HttpReasons =
        ["client_port", "connection", "dns", "error", "invalid_json", "invalid_response", "jetstream_disabled", "timeout", "tls", "too_large"];

    /// <summary>
    /// The reasons a system-account-mode target (a server, or the NATS URL) can fail with
    /// (SystemAccountSource), besides <c>server_error_&lt;code&gt;</c>, which appears when first seen.
    /// </summary>
    internal static readonly string[] SystemReasons =
        ["auth", "error", "invalid_json", "jetstream_disabled", "nats_connection", "no_responders", "timeout", "tls"];

    /// <summary>
    /// Every reason the target can fail with, at 0 until it happens (so <c>increase()</c> and
    /// <c>rate()</c> see the first error), plus the reasons seen that no list has; sorted by reason.
    /// </summary>
    internal static IEnumerable<KeyValuePair<string, long>> ErrorCounts(TargetView t)
    {
        var known = IsMonitorUrl(t.Target) ? HttpReasons : SystemReasons;
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var reason in known) counts[reason] = 0;
        foreach (var (reason, count) in t.ErrorsByReason) counts[reason] = count;
        return counts;
    }

    // HTTP mode's targets are the configured monitor URLs; system mode's are server names or the NATS URL.
    private static bool IsMonitorUrl(string target) =>
        target.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || target.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

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

        w.Family("natsjs_servers_expected", MetricType.Gauge, "Servers the exporter expects to answer each poll: --expected-servers, else the larger of the targets polled and the meta groups' cluster_size.");
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
            foreach (var (reason, count) in ErrorCounts(t))
                w.Sample(count, new Label("server", t.Label), new Label("reason", reason));

        w.Family("natsjs_conflicts_total", MetricType.Counter, "Times two servers both claimed to lead the same Raft group (the exporter picked one deterministically).");
        w.Sample(s.ConflictsTotal);
    }
}
