using NatsJsExporter.Sources;

namespace NatsJsExporter.Snapshot;

/// <summary>
/// One server's own health check (/healthz, details on 2.10+) in the last poll. It checks only
/// that server: a replica catching up says so here while its leader may still call it current.
/// </summary>
public sealed record ServerHealthView
{
    public required string Server { get; init; }
    public required string Cluster { get; init; }
    /// <summary>The server's JetStream domain ("" when none is configured).</summary>
    public string Domain { get; init; } = "";
    /// <summary>The server's verdict; null when its /healthz could not be read this poll.</summary>
    public bool? Healthy { get; init; }
    /// <summary>"ok", "unavailable" (2.9; 2.10+ without details) or "error" (2.10+ with details); null without an answer.</summary>
    public string? Status { get; init; }
    /// <summary>HTTP status, or the system reply's status_code (2.10+).</summary>
    public int? StatusCode { get; init; }
    /// <summary>The server's one-sentence error (all a 2.9 server says).</summary>
    public string? Error { get; init; }
    /// <summary>Why the health check could not be read (never a scrape error).</summary>
    public string? FetchError { get; init; }
    /// <summary>Each failing check the server named (2.10+ details).</summary>
    public IReadOnlyList<HealthIssueView> Issues { get; init; } = [];
}

/// <summary>One failing check of a server's /healthz?details=true.</summary>
public sealed record HealthIssueView
{
    /// <summary>One of <see cref="HealthzKinds.All"/>.</summary>
    public required string Kind { get; init; }
    public string? Account { get; init; }
    public string? Stream { get; init; }
    public string? Consumer { get; init; }
    /// <summary>The server's text, as sent (never a metric label).</summary>
    public required string Error { get; init; }
}

/// <summary>The fixed set of asset kinds a healthz error is filed under (the `kind` label).</summary>
public static class HealthzKinds
{
    /// <summary>jetstream: the server's JetStream itself (meta leader contact, meta group current); account, stream, consumer; other: anything else.</summary>
    public static readonly IReadOnlyList<string> All = ["jetstream", "account", "stream", "consumer", "other"];

    public static string Of(string? type) => type?.ToUpperInvariant() switch
    {
        "JETSTREAM" => "jetstream",
        "ACCOUNT" => "account",
        "STREAM" => "stream",
        "CONSUMER" => "consumer",
        _ => "other",
    };
}

/// <summary>Builds the healthz part of a snapshot from this poll's reports.</summary>
public static class HealthzViews
{
    /// <summary>One view per server that answered /jsz and was asked for its health, by name; null when no server was asked.</summary>
    public static IReadOnlyList<ServerHealthView>? Build(IReadOnlyList<ServerReport> reports, IReadOnlyList<ServerView> servers)
    {
        var byName = servers.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var views = new List<ServerHealthView>();
        foreach (var r in reports)
        {
            if (r.Healthz is not { } h || r.ServerName is null || !byName.TryGetValue(r.ServerName, out var server)) continue;
            var body = h.Body;
            views.Add(new ServerHealthView
            {
                Server = server.Name,
                Cluster = server.Cluster,
                Domain = server.Domain,
                Healthy = h.Healthy,
                Status = body?.Status,
                StatusCode = h.StatusCode,
                Error = string.IsNullOrEmpty(body?.Error) ? null : body.Error,
                FetchError = h.FetchError,
                Issues = (body?.Errors ?? [])
                    .Select(e => new HealthIssueView
                    {
                        Kind = HealthzKinds.Of(e.Type),
                        Account = NullIfEmpty(e.Account),
                        Stream = NullIfEmpty(e.Stream),
                        Consumer = NullIfEmpty(e.Consumer),
                        Error = e.Error ?? "",
                    })
                    .Distinct()
                    .OrderBy(i => Array.IndexOf([.. HealthzKinds.All], i.Kind))
                    .ThenBy(i => i.Account, StringComparer.Ordinal).ThenBy(i => i.Stream, StringComparer.Ordinal)
                    .ThenBy(i => i.Consumer, StringComparer.Ordinal).ThenBy(i => i.Error, StringComparer.Ordinal)
                    .ToArray(),
            });
        }
        return views.Count == 0 ? null : [.. views.OrderBy(v => v.Server, StringComparer.Ordinal)];
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
