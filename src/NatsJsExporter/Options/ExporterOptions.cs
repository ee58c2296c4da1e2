using System.Net;

namespace NatsJsExporter.Options;

/// <summary>Validated settings. Built by <see cref="ExporterSettingsValidator"/> from the configuration.</summary>
public sealed record ExporterOptions
{
    public const int DefaultPort = 7778;
    /// <summary>--timeout when not set, unless the interval is shorter (then the interval), as Prometheus does for scrape_timeout.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    /// <summary>HTTP monitor mode: the servers' monitor URLs (empty in system-account mode).</summary>
    public required IReadOnlyList<Uri> MonitorUrls { get; init; }
    /// <summary>System-account mode: one NATS connection for the whole cluster (null in HTTP mode).</summary>
    public SystemAccountOptions? SystemAccount { get; init; }
    public required string ListenHost { get; init; }
    public required int ListenPort { get; init; }
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
    public int AccountPageSize { get; init; } = 1024;
    public long MaxResponseBytes { get; init; } = 256L * 1024 * 1024;
    public string LogLevel { get; init; } = "information";
    public string LogFormat { get; init; } = "text";
    /// <summary>Which accounts, streams and consumers are exported.</summary>
    public SnapshotFilter Filter { get; init; } = SnapshotFilter.None;
    /// <summary>--raftz-groups: meta, all or off.</summary>
    public string RaftzGroups { get; init; } = "meta";
    /// <summary>TLS and basic auth for the exporter's own endpoints (--web-config-file); null = plain HTTP, no auth.</summary>
    public WebConfig? Web { get; init; }
    /// <summary>PEM CA bundle trusted for https:// monitor URLs (in addition to nothing: only this CA).</summary>
    public string? MonitorTlsCaFile { get; init; }
    /// <summary>Skip certificate checks of https:// monitor URLs entirely (logged as a warning at start).</summary>
    public bool MonitorTlsInsecure { get; init; }

    /// <summary>The address to bind: set at start (a host name is resolved then); otherwise derived from <see cref="ListenHost"/>.</summary>
    public IPAddress? ListenAddress
    {
        get => _listenAddress ?? (ListenHost is "" or "*" or "0.0.0.0" ? IPAddress.Any
            : ListenHost == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(ListenHost.Trim('[', ']'), out var ip) ? ip : null);
        init => _listenAddress = value;
    }

    private readonly IPAddress? _listenAddress;
}
