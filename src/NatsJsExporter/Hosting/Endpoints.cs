using System.Security.Cryptography;
using NatsJsExporter.Options;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Views;

namespace NatsJsExporter.Hosting;

/// <summary>/metrics, /healthz, /readyz, the status page (/, /streams/{account}/{stream} and /domains/{domain}/streams/{account}/{stream}) and /api/v1/snapshot.</summary>
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

        // The status page, a page per stream and the JSON snapshot: all read the published snapshot.
        app.MapGet("/", (HttpContext ctx, SnapshotStore store) =>
        {
            var (snapshot, health, now) = Read(store);
            return Html(ctx, nonce => StatusPage.Render(snapshot, health, now, BuildInfo.Version, nonce), StatusCodes.Status200OK);
        });

        // A stream is (domain, account, name): streams outside any JetStream domain keep the short
        // path, streams in a domain are under /domains/{domain}/ (StatusPage.StreamPath makes both).
        app.MapGet("/streams/{account}/{stream}", (HttpContext ctx, SnapshotStore store, string account, string stream) =>
            StreamPage(ctx, store, new StreamKey("", account, stream)));
        app.MapGet("/domains/{domain}/streams/{account}/{stream}", (HttpContext ctx, SnapshotStore store, string domain, string account, string stream) =>
            StreamPage(ctx, store, new StreamKey(domain, account, stream)));

        app.MapGet("/api/v1/snapshot", (HttpContext ctx, SnapshotStore store) =>
        {
            ctx.Response.Headers.CacheControl = "no-store";
            var (snapshot, health, now) = Read(store);
            if (snapshot is null || health is null)
                return Results.Text("{\"status\": \"waiting\", \"message\": \"the first poll has not finished\"}\n", "application/json; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable);
            return Results.Bytes(SnapshotDocument.Serialize(SnapshotDocument.From(snapshot, health, now, BuildInfo.Version)), "application/json; charset=utf-8");
        });
    }

    private static IResult StreamPage(HttpContext ctx, SnapshotStore store, StreamKey key)
    {
        var (snapshot, health, now) = Read(store);
        var found = snapshot is null ? null : OperatorTables.Find(snapshot, key);
        return Html(ctx, nonce => StatusPage.RenderStream(snapshot, health, found, key, now, BuildInfo.Version, nonce),
            found is null ? StatusCodes.Status404NotFound : StatusCodes.Status200OK);
    }

    private static (ClusterSnapshot? Snapshot, HealthReport? Health, DateTimeOffset Now) Read(SnapshotStore store)
    {
        var now = DateTimeOffset.UtcNow;
        var snapshot = store.Current?.Snapshot;
        return (snapshot, snapshot is null ? null : HealthCheck.Evaluate(snapshot, now), now);
    }

    private static IResult Html(HttpContext ctx, Func<string, string> render, int status)
    {
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        ctx.Response.Headers.CacheControl = "no-store";
        ctx.Response.Headers.ContentSecurityPolicy = StatusPage.ContentSecurityPolicy(nonce);
        ctx.Response.Headers.XContentTypeOptions = "nosniff";
        ctx.Response.Headers["Referrer-Policy"] = "no-referrer";
        return Results.Content(render(nonce), "text/html; charset=utf-8", System.Text.Encoding.UTF8, status);
    }
}
