namespace NatsJsExporter.Options;

/// <summary>How to reach the cluster over one NATS connection as a system-account user.</summary>
public sealed record SystemAccountOptions
{
    /// <summary>NATS URLs, comma-separated (credentials never in here: they are stripped from logs anyway).</summary>
    public required string Url { get; init; }
    public string? User { get; init; }
    /// <summary>Read from a file or the environment; never logged.</summary>
    public string? Password { get; init; }
    public string? Token { get; init; }
    public string? CredsFile { get; init; }
    public string? NKeySeedFile { get; init; }
    public string? TlsCaFile { get; init; }
    public string? TlsCertFile { get; init; }
    public string? TlsKeyFile { get; init; }
    /// <summary>Servers expected to answer; null = discovered (meta cluster size, servers seen recently).</summary>
    public int? ExpectedServers { get; init; }
    /// <summary>Stop waiting for more answers after this long without one.</summary>
    public TimeSpan QuietPeriod { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>A server silent this long is dropped from the metrics (until then natsjs_up is 0).</summary>
    public TimeSpan DropAfter { get; init; } = TimeSpan.FromMinutes(5);
    public string? FilterCluster { get; init; }
    public string? FilterServerName { get; init; }
    public IReadOnlyList<string>? FilterTags { get; init; }
    public string? FilterDomain { get; init; }
    /// <summary>Where the settings came from, for messages (e.g. "context prod").</summary>
    public string Origin { get; init; } = "flags";

    /// <summary>The URL(s) without any user:password@ part, safe to log and to use as a label.</summary>
    public string SafeUrl => string.Join(",", Url.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(StripUserInfo));

    public static string StripUserInfo(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var u) && u.UserInfo.Length > 0
            ? new UriBuilder(u) { UserName = "", Password = "" }.Uri.ToString().TrimEnd('/')
            : url;
}
