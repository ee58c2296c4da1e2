using NatsJsExporter.Model;

namespace NatsJsExporter.Sources;

/// <summary>What one target answered in one poll: a /jsz document, or why there is none.</summary>
public sealed record ServerReport
{
    /// <summary>The configured target: a monitor URL or, over the system account, the server's name.</summary>
    public required string Target { get; init; }

    /// <summary>The server's name (from /varz or the system reply envelope); null when it could not be learned.</summary>
    public string? ServerName { get; init; }

    public string? ServerVersion { get; init; }

    /// <summary>The server's cluster name where the source knows it (varz or envelope).</summary>
    public string? ClusterName { get; init; }

    public JszResponse? Jsz { get; init; }

    /// <summary>/raftz (2.11+): account -> Raft group -> this server's view of it; null when not asked or not answered.</summary>
    public Dictionary<string, Dictionary<string, RaftzGroupDto>>? Raftz { get; init; }
    /// <summary>The server's own /healthz (details on 2.10+); null when not asked. Its failure never fails the report.</summary>
    public HealthzAnswer? Healthz { get; init; }

    public TimeSpan Duration { get; init; }

    /// <summary>Short, stable reason label for the error counter (e.g. timeout, connection, http_500, invalid_json).</summary>
    public string? ErrorReason { get; init; }

    /// <summary>A sentence for the log: what went wrong and what to do.</summary>
    public string? ErrorMessage { get; init; }

    public bool Succeeded => Jsz is not null && ErrorReason is null;

    public static ServerReport Failed(string target, string? serverName, string reason, string message, TimeSpan duration) =>
        new() { Target = target, ServerName = serverName, ErrorReason = reason, ErrorMessage = message, Duration = duration };
}

/// <summary>A source fetches every target's /jsz once per poll.</summary>
public interface IJszSource
{
    Task<IReadOnlyList<ServerReport>> CollectAsync(CancellationToken cancellationToken);

    /// <summary>Servers expected to answer each poll; null means one per report (the configured targets).</summary>
    long? ExpectedServers => null;
}
