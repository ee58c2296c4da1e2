using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>
/// Each server's own /healthz: healthy 0/1 per server, and one series per asset the server's
/// health check names (details, 2.10+). Labels are identities from fixed sets; the server's
/// error text is never a label (it goes to the status page, the JSON and the report).
/// </summary>
internal static class HealthzMetrics
{
    public static void Write(ExpositionWriter w, ClusterSnapshot s)
    {
        if (s.Healthz is not { } servers) return;
        w.Family("natsjs_server_healthy", MetricType.Gauge,
            "1 if the server's own /healthz says ok, 0 if it answers unhealthy (503); absent when it could not be read.");
        foreach (var v in servers)
            if (v.Healthy is { } ok) w.Sample(ok, new("server", v.Server), new("cluster", v.Cluster));

        w.Family("natsjs_healthz_unhealthy", MetricType.Gauge,
            "1 for each asset a server's /healthz?details=true names as failing (2.10+); kind: jetstream, account, stream, consumer or other.");
        foreach (var v in servers)
        {
            var seen = new HashSet<(string, string?, string?, string?)>();
            foreach (var i in v.Issues)
            {
                if (!seen.Add((i.Kind, i.Account, i.Stream, i.Consumer))) continue;
                var labels = new List<Label>(7) { new("server", v.Server), new("cluster", v.Cluster) };
                if (v.Domain.Length > 0) labels.Add(new("domain", v.Domain));
                labels.Add(new("kind", i.Kind));
                if (i.Account is not null) labels.Add(new("account", i.Account));
                if (i.Stream is not null) labels.Add(new("stream", i.Stream));
                if (i.Consumer is not null) labels.Add(new("consumer", i.Consumer));
                w.Sample(1L, [.. labels]);
            }
        }
    }
}
