using Prometheus;

namespace NatsJsExporter.Hosting;

/// <summary>/metrics, /healthz, /readyz and a small landing page.</summary>
public static class Endpoints
{
    public const string TextContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static void MapExporterEndpoints(this WebApplication app)
    {
        app.MapGet("/metrics", MetricsEndpoint.HandleAsync);

        app.MapGet("/healthz", () => Results.Text("ok\n"));

        app.MapGet("/readyz", (SnapshotStore store) => store.Ready
            ? Results.Text("ready\n")
            : Results.Text("not ready: the first poll has not finished\n", statusCode: StatusCodes.Status503ServiceUnavailable));

        app.MapGet("/", (SnapshotStore store) => Results.Content(
            $"""
            <!doctype html><html><head><meta charset="utf-8"><title>NatsJsExporter</title></head>
            <body><h1>NatsJsExporter {Poller.Version}</h1>
            <p><a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a></p>
            <p>{(store.Current is { } p ? $"{p.Snapshot.Targets.Count(t => t.Up)}/{p.Snapshot.Targets.Count} targets up, {p.Snapshot.Streams.Count} streams, collected {p.Snapshot.CollectedAt:u}" : "waiting for the first poll")}</p>
            </body></html>
            """, "text/html; charset=utf-8"));
    }
}
