namespace NatsJsExporter.Options;

/// <summary>Which way of polling a setting belongs to: given in the other mode it is rejected at start.</summary>
public enum OptionMode
{
    /// <summary>Used in HTTP mode and in system-account mode.</summary>
    Both,
    /// <summary>HTTP mode only (--monitor-urls).</summary>
    Http,
    /// <summary>System-account mode only (--nats-url or --nats-context).</summary>
    SystemAccount,
}

/// <summary>
/// One setting in its three forms: command-line flag, environment variable and key of the
/// appsettings.json section "NatsJsExporter" (= the <see cref="ExporterSettings"/> property it binds to).
/// </summary>
/// <param name="ServeOnly">Only the serving exporter uses it (not `report`).</param>
public sealed record OptionSpec(string Flag, string Env, string Json, string Help, string? Default = null, bool IsSwitch = false,
    OptionMode Mode = OptionMode.Both, bool ServeOnly = false)
{
    public string Name => "--" + Flag;

    public string ModeText => Mode switch { OptionMode.Http => "HTTP", OptionMode.SystemAccount => "system-account", _ => "both" };
}

/// <summary>Every setting of the exporter, in the order of --help and the README's table.</summary>
public static class OptionCatalog
{
    private const OptionMode Http = OptionMode.Http, Sys = OptionMode.SystemAccount;

    public static readonly IReadOnlyList<OptionSpec> All =
    [
        new("monitor-urls", "NATSJS_MONITOR_URLS", nameof(ExporterSettings.MonitorUrls), "NATS monitor URLs to poll, comma-separated (e.g. http://127.0.0.1:8222); selects HTTP mode.", Mode: Http),
        new("nats-url", "NATSJS_NATS_URL", nameof(ExporterSettings.NatsUrl), "NATS URL(s) to connect to as a system-account user; selects system-account mode (with --nats-context: the context's URL).", Mode: Sys),
        new("nats-context", "NATSJS_NATS_CONTEXT", nameof(ExporterSettings.NatsContext), "A NATS CLI context name or context file path; selects system-account mode.", Mode: Sys),
        new("nats-user", "NATSJS_NATS_USER", nameof(ExporterSettings.NatsUser), "System-account user name.", Mode: Sys),
        new("nats-password-file", "NATSJS_NATS_PASSWORD_FILE", nameof(ExporterSettings.NatsPasswordFile), "File holding the user's password (or set NATSJS_NATS_PASSWORD).", Mode: Sys),
        new("nats-token-file", "NATSJS_NATS_TOKEN_FILE", nameof(ExporterSettings.NatsTokenFile), "File holding an auth token (or set NATSJS_NATS_TOKEN).", Mode: Sys),
        new("nats-creds", "NATSJS_NATS_CREDS", nameof(ExporterSettings.NatsCreds), "Credentials (JWT) file of a system-account user.", Mode: Sys),
        new("nats-nkey", "NATSJS_NATS_NKEY", nameof(ExporterSettings.NatsNkey), "NKey seed file of a system-account user.", Mode: Sys),
        new("nats-tls-ca", "NATSJS_NATS_TLS_CA", nameof(ExporterSettings.NatsTlsCa), "CA certificate file that signed the NATS servers' certificates.", Mode: Sys),
        new("nats-tls-cert", "NATSJS_NATS_TLS_CERT", nameof(ExporterSettings.NatsTlsCert), "Client certificate file for TLS (with --nats-tls-key).", Mode: Sys),
        new("nats-tls-key", "NATSJS_NATS_TLS_KEY", nameof(ExporterSettings.NatsTlsKey), "Client key file for TLS (with --nats-tls-cert).", Mode: Sys),
        new("expected-servers", "NATSJS_EXPECTED_SERVERS", nameof(ExporterSettings.ExpectedServers), "Servers expected to answer a poll.", "discovered", Mode: Sys),
        new("server-drop-after", "NATSJS_SERVER_DROP_AFTER", nameof(ExporterSettings.ServerDropAfter), "Drop a silent server's series after this long.", "5m", Mode: Sys),
        new("filter-cluster", "NATSJS_FILTER_CLUSTER", nameof(ExporterSettings.FilterCluster), "Only servers of this cluster answer.", Mode: Sys),
        new("filter-server-name", "NATSJS_FILTER_SERVER_NAME", nameof(ExporterSettings.FilterServerName), "Only the server with this name answers.", Mode: Sys),
        new("filter-tags", "NATSJS_FILTER_TAGS", nameof(ExporterSettings.FilterTags), "Only servers with all these tags (comma-separated) answer.", Mode: Sys),
        new("filter-domain", "NATSJS_FILTER_DOMAIN", nameof(ExporterSettings.FilterDomain), "Only servers of this JetStream domain answer.", Mode: Sys),
        new("listen", "NATSJS_LISTEN", nameof(ExporterSettings.Listen), "HOST:PORT of /metrics, the status page, /healthz and /readyz; HOST may be a name (resolved at start).", $"0.0.0.0:{ExporterOptions.DefaultPort}", ServeOnly: true),
        new("interval", "NATSJS_INTERVAL", nameof(ExporterSettings.Interval), "Time between polls (500ms, 15s, 2m, 1m30s).", "15s"),
        new("timeout", "NATSJS_TIMEOUT", nameof(ExporterSettings.Timeout), "Time one server may take to answer one poll; at most the interval.", "5s or the interval if shorter"),
        new("account-page-size", "NATSJS_ACCOUNT_PAGE_SIZE", nameof(ExporterSettings.AccountPageSize), "Accounts per /jsz page (offset/limit paging).", "1024"),
        new("max-response-size", "NATSJS_MAX_RESPONSE_SIZE", nameof(ExporterSettings.MaxResponseSize), "Largest /jsz answer read, in MiB; a larger one (or one that would build more objects than this) is aborted.", "256", Mode: Http),
        new("include-accounts", "NATSJS_INCLUDE_ACCOUNTS", nameof(ExporterSettings.IncludeAccounts), "Only accounts whose whole name matches this regular expression."),
        new("exclude-accounts", "NATSJS_EXCLUDE_ACCOUNTS", nameof(ExporterSettings.ExcludeAccounts), "Leave out accounts whose whole name matches this regular expression."),
        new("include-streams", "NATSJS_INCLUDE_STREAMS", nameof(ExporterSettings.IncludeStreams), "Only streams whose whole name matches this regular expression."),
        new("exclude-streams", "NATSJS_EXCLUDE_STREAMS", nameof(ExporterSettings.ExcludeStreams), "Leave out streams whose whole name matches this regular expression."),
        new("include-consumers", "NATSJS_INCLUDE_CONSUMERS", nameof(ExporterSettings.IncludeConsumers), "Only consumers whose whole name matches this regular expression."),
        new("exclude-consumers", "NATSJS_EXCLUDE_CONSUMERS", nameof(ExporterSettings.ExcludeConsumers), "Leave out consumers whose whole name matches this regular expression."),
        new("consumers", "NATSJS_CONSUMERS", nameof(ExporterSettings.Consumers), "Export consumer metrics at all (switch; --consumers=false turns them off).", "true", IsSwitch: true),
        new("ephemeral-consumers", "NATSJS_EPHEMERAL_CONSUMERS", nameof(ExporterSettings.EphemeralConsumers), "Also export consumers without a durable name (switch).", "false", IsSwitch: true),
        new("replica-comparison", "NATSJS_REPLICA_COMPARISON", nameof(ExporterSettings.ReplicaComparison), "Compare each replica's own stream and consumer state with the leader's (switch; --replica-comparison=false turns it off, and with --consumers=false lets 2.10.19+ servers send each stream only from its leader).", "true", IsSwitch: true),
        new("raftz-groups", "NATSJS_RAFTZ_GROUPS", nameof(ExporterSettings.RaftzGroups), "Raft groups asked about through /raftz (2.11+ servers): meta (one request per server per poll), all (also every stream and consumer group: one more request per account with a replicated stream, per server per poll) or off.", "meta"),
        new("log-level", "NATSJS_LOG_LEVEL", nameof(ExporterSettings.LogLevel), "debug, information, warning or error.", "information", ServeOnly: true),
        new("log-format", "NATSJS_LOG_FORMAT", nameof(ExporterSettings.LogFormat), "text or json (Serilog compact JSON).", "text", ServeOnly: true),
        new("web-config-file", "NATSJS_WEB_CONFIG_FILE", nameof(ExporterSettings.WebConfigFile), "TLS and basic auth for the exporter's endpoints (Prometheus exporter-toolkit web config).", ServeOnly: true),
        new("monitor-tls-ca", "NATSJS_MONITOR_TLS_CA", nameof(ExporterSettings.MonitorTlsCa), "CA certificate (PEM) that signed the https:// monitor ports' certificates.", "system trust", Mode: Http),
        new("monitor-tls-insecure", "NATSJS_MONITOR_TLS_INSECURE", nameof(ExporterSettings.MonitorTlsInsecure), "Do not verify https:// monitor certificates at all (switch; logged loudly).", "false", IsSwitch: true, Mode: Http),
        new("config", "NATSJS_CONFIG", "", "JSON settings file (section \"NatsJsExporter\").", "./appsettings.json if present"),
    ];

    /// <summary>Settings read from the file's "NatsJsExporter" section (all but --config itself).</summary>
    public static IEnumerable<OptionSpec> FileSettings => All.Where(s => s.Json.Length > 0);

    public static OptionSpec Get(string flag) => All.First(s => s.Flag == flag);
}
