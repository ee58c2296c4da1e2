using System.Globalization;
using System.Text.Json;

namespace NatsJsExporter.Options;

/// <summary>One setting: its command-line flag, environment variable and appsettings.json key.</summary>
public sealed record OptionSpec(string Flag, string Env, string Json, string Help, string? Default = null, bool IsSwitch = false);

public sealed record LoadResult(ExporterOptions? Options, IReadOnlyList<string> Errors, bool HelpRequested);

/// <summary>
/// Reads settings from appsettings.json (section "NatsJsExporter"), then environment variables
/// (NATSJS_*), then the command line (--flag value or --flag=value), each overriding the last,
/// and validates them. Every error names the setting, the value and what is expected.
/// </summary>
public static class OptionsLoader
{
    public static readonly IReadOnlyList<OptionSpec> Specs =
    [
        new("monitor-urls", "NATSJS_MONITOR_URLS", "MonitorUrls", "NATS monitor URLs to poll, comma-separated (e.g. http://127.0.0.1:8222)."),
        new("nats-url", "NATSJS_NATS_URL", "NatsUrl", "System-account mode: NATS URL(s) to connect to instead of monitor ports."),
        new("nats-context", "NATSJS_NATS_CONTEXT", "NatsContext", "System-account mode: a NATS CLI context name or context file path."),
        new("nats-user", "NATSJS_NATS_USER", "NatsUser", "System-account user name."),
        new("nats-password-file", "NATSJS_NATS_PASSWORD_FILE", "NatsPasswordFile", "File holding the user's password (or set NATSJS_NATS_PASSWORD)."),
        new("nats-token-file", "NATSJS_NATS_TOKEN_FILE", "NatsTokenFile", "File holding an auth token (or set NATSJS_NATS_TOKEN)."),
        new("nats-creds", "NATSJS_NATS_CREDS", "NatsCreds", "Credentials (JWT) file of a system-account user."),
        new("nats-nkey", "NATSJS_NATS_NKEY", "NatsNkey", "NKey seed file of a system-account user."),
        new("nats-tls-ca", "NATSJS_NATS_TLS_CA", "NatsTlsCa", "CA certificate file that signed the NATS servers' certificates."),
        new("nats-tls-cert", "NATSJS_NATS_TLS_CERT", "NatsTlsCert", "Client certificate file for TLS."),
        new("nats-tls-key", "NATSJS_NATS_TLS_KEY", "NatsTlsKey", "Client key file for TLS."),
        new("expected-servers", "NATSJS_EXPECTED_SERVERS", "ExpectedServers", "System-account mode: servers expected to answer (default: discovered)."),
        new("server-drop-after", "NATSJS_SERVER_DROP_AFTER", "ServerDropAfter", "System-account mode: drop a silent server's series after this long.", "5m"),
        new("filter-cluster", "NATSJS_FILTER_CLUSTER", "FilterCluster", "System-account mode: only servers of this cluster answer."),
        new("filter-server-name", "NATSJS_FILTER_SERVER_NAME", "FilterServerName", "System-account mode: only the server with this name answers."),
        new("filter-tags", "NATSJS_FILTER_TAGS", "FilterTags", "System-account mode: only servers with all these tags (comma-separated) answer."),
        new("filter-domain", "NATSJS_FILTER_DOMAIN", "FilterDomain", "System-account mode: only servers of this JetStream domain answer."),
        new("listen", "NATSJS_LISTEN", "Listen", "Address for /metrics, /healthz and /readyz.", $"0.0.0.0:{ExporterOptions.DefaultPort}"),
        new("interval", "NATSJS_INTERVAL", "Interval", "Time between polls.", "15s"),
        new("timeout", "NATSJS_TIMEOUT", "Timeout", "Time one server may take to answer one poll.", "5s"),
        new("account-page-size", "NATSJS_ACCOUNT_PAGE_SIZE", "AccountPageSize", "Accounts per /jsz page (offset/limit paging).", "1024"),
        new("max-response-size", "NATSJS_MAX_RESPONSE_SIZE", "MaxResponseSize", "Largest /jsz answer read, in MiB; a larger one is aborted.", "256"),
        new("include-accounts", "NATSJS_INCLUDE_ACCOUNTS", "IncludeAccounts", "Only accounts whose name matches this regular expression."),
        new("exclude-accounts", "NATSJS_EXCLUDE_ACCOUNTS", "ExcludeAccounts", "Leave out accounts whose name matches this regular expression."),
        new("include-streams", "NATSJS_INCLUDE_STREAMS", "IncludeStreams", "Only streams whose name matches this regular expression."),
        new("exclude-streams", "NATSJS_EXCLUDE_STREAMS", "ExcludeStreams", "Leave out streams whose name matches this regular expression."),
        new("include-consumers", "NATSJS_INCLUDE_CONSUMERS", "IncludeConsumers", "Only consumers whose name matches this regular expression."),
        new("exclude-consumers", "NATSJS_EXCLUDE_CONSUMERS", "ExcludeConsumers", "Leave out consumers whose name matches this regular expression."),
        new("consumers", "NATSJS_CONSUMERS", "Consumers", "Export consumer metrics at all (true/false).", "true"),
        new("ephemeral-consumers", "NATSJS_EPHEMERAL_CONSUMERS", "EphemeralConsumers", "Also export consumers without a durable name (true/false).", "false"),
        new("log-level", "NATSJS_LOG_LEVEL", "LogLevel", "debug, information, warning or error.", "information"),
        new("log-format", "NATSJS_LOG_FORMAT", "LogFormat", "text or json.", "text"),
        new("web-config-file", "NATSJS_WEB_CONFIG_FILE", "WebConfigFile", "TLS and basic auth for the exporter's endpoints (exporter-toolkit web config, YAML subset or JSON)."),
        new("monitor-tls-ca", "NATSJS_MONITOR_TLS_CA", "MonitorTlsCa", "CA certificate (PEM) that signed the https:// monitor ports' certificates."),
        new("monitor-tls-insecure", "NATSJS_MONITOR_TLS_INSECURE", "MonitorTlsInsecure", "Do not verify https:// monitor certificates at all (true/false; logged loudly).", "false"),
        new("config", "NATSJS_CONFIG", "", "Path of a JSON settings file (default: appsettings.json in the working directory, if present)."),
    ];

    public static LoadResult Load(IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> environment, string workingDirectory)
    {
        var errors = new List<string>();
        var cli = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help" or "help") return new LoadResult(null, [], true);
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                errors.Add($"unexpected argument \"{arg}\"; settings are given as --name value (see --help)");
                continue;
            }
            var body = arg[2..];
            string name, value;
            int eq = body.IndexOf('=');
            if (eq >= 0) { name = body[..eq]; value = body[(eq + 1)..]; }
            else
            {
                name = body;
                if (i + 1 >= args.Count) { errors.Add($"--{name} needs a value (see --help)"); continue; }
                value = args[++i];
            }
            if (Specs.All(s => s.Flag != name)) { errors.Add($"unknown flag --{name} (see --help)"); continue; }
            cli[name] = value;
        }

        // appsettings.json
        var json = new Dictionary<string, string>(StringComparer.Ordinal);
        string? configPath = cli.GetValueOrDefault("config") ?? environment.GetValueOrDefault("NATSJS_CONFIG");
        bool explicitConfig = configPath is not null;
        configPath ??= Path.Combine(workingDirectory, "appsettings.json");
        if (File.Exists(configPath)) ReadJson(configPath, json, errors);
        else if (explicitConfig) errors.Add($"config file \"{configPath}\" does not exist");
        if (errors.Count > 0) return new LoadResult(null, errors, false);

        string? Get(OptionSpec spec) =>
            cli.TryGetValue(spec.Flag, out var c) ? c
            : environment.TryGetValue(spec.Env, out var e) && !string.IsNullOrEmpty(e) ? e
            : json.TryGetValue(spec.Json, out var j) ? j
            : spec.Default;

        string Describe(OptionSpec spec) =>
            cli.ContainsKey(spec.Flag) ? $"--{spec.Flag}"
            : environment.TryGetValue(spec.Env, out var e) && !string.IsNullOrEmpty(e) ? spec.Env
            : json.ContainsKey(spec.Json) ? $"{spec.Json} in {configPath}"
            : $"--{spec.Flag}";

        OptionSpec S(string flag) => Specs.First(s => s.Flag == flag);

        // monitor URLs (HTTP mode) or a NATS connection (system-account mode): exactly one
        var urls = new List<Uri>();
        var urlSpec = S("monitor-urls");
        var rawUrls = Get(urlSpec);
        bool systemMode = !string.IsNullOrWhiteSpace(Get(S("nats-url"))) || !string.IsNullOrWhiteSpace(Get(S("nats-context")));
        SystemAccountOptions? system = null;
        if (systemMode && !string.IsNullOrWhiteSpace(rawUrls))
        {
            errors.Add($"both {Describe(urlSpec)} and --nats-url/--nats-context are set: choose HTTP monitor ports or one system-account connection, not both");
        }
        else if (systemMode)
        {
            system = LoadSystemAccount(Get, Describe, S, environment, errors);
        }
        else if (string.IsNullOrWhiteSpace(rawUrls))
        {
            errors.Add($"no NATS servers to poll: set --monitor-urls (or {urlSpec.Env}) to the servers' monitor URLs, e.g. http://127.0.0.1:8222, or --nats-url for system-account mode");
        }
        else
        {
            foreach (var part in rawUrls.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (Uri.TryCreate(part, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps) && u.Host.Length > 0)
                {
                    if (urls.Contains(u)) errors.Add($"invalid {Describe(urlSpec)}: \"{part}\" is listed twice");
                    else urls.Add(u);
                }
                else
                {
                    errors.Add($"invalid {Describe(urlSpec)}: \"{part}\" is not an http:// or https:// URL; give each server's monitor port, e.g. http://127.0.0.1:8222");
                }
            }
        }

        // listen
        var listenSpec = S("listen");
        string listen = Get(listenSpec)!;
        string host = "";
        int port = 0;
        if (!TryParseListen(listen, out host, out port))
            errors.Add($"invalid {Describe(listenSpec)}: \"{listen}\" is not HOST:PORT with a port from 1 to 65535, e.g. 0.0.0.0:{ExporterOptions.DefaultPort}");

        TimeSpan Duration(string flag)
        {
            var spec = S(flag);
            var raw = Get(spec)!;
            if (!TryParseDuration(raw, out var d) || d <= TimeSpan.Zero)
            {
                errors.Add($"invalid {Describe(spec)}: \"{raw}\" is not a positive duration like 15s, 500ms, 2m or 1h");
                return TimeSpan.Zero;
            }
            return d;
        }
        var interval = Duration("interval");
        var timeout = Duration("timeout");
        if (interval > TimeSpan.Zero && timeout > TimeSpan.Zero && timeout > interval)
            errors.Add($"invalid {Describe(S("timeout"))}: \"{Get(S("timeout"))}\" is longer than the interval ({Get(S("interval"))}); a poll must end before the next one starts");

        int Integer(string flag, int min, int max)
        {
            var spec = S(flag);
            var raw = Get(spec)!;
            if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
            {
                errors.Add($"invalid {Describe(spec)}: \"{raw}\" is not a whole number from {min} to {max}");
                return min;
            }
            return v;
        }
        int pageSize = Integer("account-page-size", 1, 100_000);
        int maxMiB = Integer("max-response-size", 1, 64 * 1024);

        string OneOf(string flag, params string[] allowed)
        {
            var spec = S(flag);
            var raw = Get(spec)!.ToLowerInvariant();
            if (!allowed.Contains(raw)) errors.Add($"invalid {Describe(spec)}: \"{Get(spec)}\" is not one of {string.Join(", ", allowed)}");
            return raw;
        }
        System.Text.RegularExpressions.Regex? Pattern(string flag)
        {
            var spec = S(flag);
            var raw = Get(spec);
            if (string.IsNullOrEmpty(raw)) return null;
            try
            {
                return new System.Text.RegularExpressions.Regex(raw,
                    System.Text.RegularExpressions.RegexOptions.CultureInvariant | System.Text.RegularExpressions.RegexOptions.Compiled,
                    TimeSpan.FromMilliseconds(100));
            }
            catch (ArgumentException ex)
            {
                errors.Add($"invalid {Describe(spec)}: \"{raw}\" is not a valid regular expression ({ex.Message})");
                return null;
            }
        }
        bool Bool(string flag)
        {
            var spec = S(flag);
            var raw = Get(spec)!;
            if (bool.TryParse(raw, out var b)) return b;
            errors.Add($"invalid {Describe(spec)}: \"{raw}\" is not true or false");
            return false;
        }
        var filter = new SnapshotFilter
        {
            IncludeAccounts = Pattern("include-accounts"),
            ExcludeAccounts = Pattern("exclude-accounts"),
            IncludeStreams = Pattern("include-streams"),
            ExcludeStreams = Pattern("exclude-streams"),
            IncludeConsumersPattern = Pattern("include-consumers"),
            ExcludeConsumers = Pattern("exclude-consumers"),
            Consumers = Bool("consumers"),
            Ephemeral = Bool("ephemeral-consumers"),
        };

        var logLevel = OneOf("log-level", "debug", "information", "info", "warning", "error");
        var logFormat = OneOf("log-format", "text", "json");

        // Hardening: TLS/basic auth for our endpoints, TLS trust for https:// monitor ports.
        WebConfig? web = null;
        if (Get(S("web-config-file")) is { Length: > 0 } webPath)
        {
            if (File.Exists(webPath)) web = WebConfig.Load(webPath, Describe(S("web-config-file")), errors);
            else errors.Add($"invalid {Describe(S("web-config-file"))}: file \"{webPath}\" does not exist");
        }
        string? monitorCa = NullIfEmpty(Get(S("monitor-tls-ca")));
        if (monitorCa is not null && !TlsFiles.TryLoadCa(monitorCa, out _, out var caError))
            errors.Add($"invalid {Describe(S("monitor-tls-ca"))}: {caError}");
        bool monitorInsecure = Bool("monitor-tls-insecure");

        if (errors.Count > 0) return new LoadResult(null, errors, false);
        return new LoadResult(new ExporterOptions
        {
            Web = web,
            MonitorTlsCaFile = monitorCa,
            MonitorTlsInsecure = monitorInsecure,
            MonitorUrls = urls,
            SystemAccount = system,
            ListenHost = host,
            ListenPort = port,
            Interval = interval,
            Timeout = timeout,
            AccountPageSize = pageSize,
            MaxResponseBytes = maxMiB * 1024L * 1024,
            LogLevel = logLevel == "info" ? "information" : logLevel,
            LogFormat = logFormat,
            Filter = filter,
        }, [], false);
    }

    private static SystemAccountOptions? LoadSystemAccount(Func<OptionSpec, string?> get, Func<OptionSpec, string> describe,
        Func<string, OptionSpec> spec, IReadOnlyDictionary<string, string?> environment, List<string> errors)
    {
        int before = errors.Count;
        NatsContextFile context = new();
        string origin = "flags";
        var contextValue = get(spec("nats-context"));
        if (!string.IsNullOrWhiteSpace(contextValue))
        {
            var path = NatsContextPath(contextValue, environment);
            origin = $"context {contextValue}";
            if (!File.Exists(path))
            {
                errors.Add($"invalid {describe(spec("nats-context"))}: no NATS context file at \"{path}\" (create it with `nats context add`, or give a path)");
                return null;
            }
            try
            {
                context = JsonSerializer.Deserialize(File.ReadAllBytes(path), OptionsJsonContext.Default.NatsContextFile) ?? new();
            }
            catch (JsonException ex)
            {
                errors.Add($"invalid {describe(spec("nats-context"))}: \"{path}\" is not a NATS context JSON file ({ex.Message})");
                return null;
            }
        }

        string? FileOption(string flag, string? fromContext)
        {
            var value = get(spec(flag)) ?? NullIfEmpty(fromContext);
            if (value is null) return null;
            value = ExpandHome(value, environment);
            if (!File.Exists(value)) errors.Add($"invalid {describe(spec(flag))}: file \"{value}\" does not exist");
            return value;
        }

        string? Secret(string flag, string env, string? fromContext)
        {
            var file = get(spec(flag));
            if (file is not null)
            {
                file = ExpandHome(file, environment);
                try
                {
                    return File.ReadAllText(file).TrimEnd('\r', '\n');
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    errors.Add($"invalid {describe(spec(flag))}: cannot read \"{file}\" ({ex.GetType().Name})");
                    return null;
                }
            }
            return environment.TryGetValue(env, out var v) && !string.IsNullOrEmpty(v) ? v : NullIfEmpty(fromContext);
        }

        var url = get(spec("nats-url")) ?? NullIfEmpty(context.Url) ?? "nats://127.0.0.1:4222";
        foreach (var part in url.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var u) || u.Scheme is not ("nats" or "tls" or "ws" or "wss"))
                errors.Add($"invalid {describe(spec("nats-url"))}: \"{SystemAccountOptions.StripUserInfo(part)}\" is not a nats:// or tls:// URL, e.g. nats://127.0.0.1:4222");
        }

        int? expected = null;
        var rawExpected = get(spec("expected-servers"));
        if (!string.IsNullOrEmpty(rawExpected))
        {
            if (int.TryParse(rawExpected, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 100_000) expected = n;
            else errors.Add($"invalid {describe(spec("expected-servers"))}: \"{rawExpected}\" is not a whole number from 1 to 100000");
        }
        var rawDrop = get(spec("server-drop-after"))!;
        if (!TryParseDuration(rawDrop, out var dropAfter) || dropAfter <= TimeSpan.Zero)
            errors.Add($"invalid {describe(spec("server-drop-after"))}: \"{rawDrop}\" is not a positive duration like 15s, 500ms, 2m or 1h");

        var options = new SystemAccountOptions
        {
            Url = url,
            User = get(spec("nats-user")) ?? NullIfEmpty(context.User),
            Password = Secret("nats-password-file", "NATSJS_NATS_PASSWORD", context.Password),
            Token = Secret("nats-token-file", "NATSJS_NATS_TOKEN", context.Token),
            CredsFile = FileOption("nats-creds", context.Creds),
            NKeySeedFile = FileOption("nats-nkey", context.Nkey),
            TlsCaFile = FileOption("nats-tls-ca", context.Ca),
            TlsCertFile = FileOption("nats-tls-cert", context.Cert),
            TlsKeyFile = FileOption("nats-tls-key", context.Key),
            ExpectedServers = expected,
            DropAfter = dropAfter,
            FilterCluster = NullIfEmpty(get(spec("filter-cluster"))),
            FilterServerName = NullIfEmpty(get(spec("filter-server-name"))),
            FilterTags = get(spec("filter-tags"))?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            FilterDomain = NullIfEmpty(get(spec("filter-domain"))),
            Origin = origin,
        };
        if ((options.TlsCertFile is null) != (options.TlsKeyFile is null))
            errors.Add("--nats-tls-cert and --nats-tls-key go together: give both or neither");
        return errors.Count == before ? options : null;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static string ExpandHome(string path, IReadOnlyDictionary<string, string?> environment) =>
        path.StartsWith("~/", StringComparison.Ordinal) && environment.GetValueOrDefault("HOME") is { Length: > 0 } home
            ? Path.Combine(home, path[2..])
            : path;

    /// <summary>A context name resolves like the NATS CLI: $XDG_CONFIG_HOME/nats/context/NAME.json (default ~/.config).</summary>
    public static string NatsContextPath(string value, IReadOnlyDictionary<string, string?> environment)
    {
        if (value.Contains('/') || value.EndsWith(".json", StringComparison.Ordinal)) return ExpandHome(value, environment);
        var config = environment.GetValueOrDefault("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(environment.GetValueOrDefault("HOME") ?? "/root", ".config");
        return Path.Combine(config, "nats", "context", value + ".json");
    }

    private static void ReadJson(string path, Dictionary<string, string> into, List<string> errors)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (!doc.RootElement.TryGetProperty("NatsJsExporter", out var section)) return;
            if (section.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"config file \"{path}\": \"NatsJsExporter\" must be an object");
                return;
            }
            foreach (var p in section.EnumerateObject())
            {
                if (Specs.All(s => s.Json != p.Name))
                {
                    errors.Add($"config file \"{path}\": unknown setting \"{p.Name}\" (known: {string.Join(", ", Specs.Where(s => s.Json != "").Select(s => s.Json))})");
                    continue;
                }
                into[p.Name] = p.Value.ValueKind switch
                {
                    JsonValueKind.Array => string.Join(",", p.Value.EnumerateArray().Select(e => e.ToString())),
                    _ => p.Value.ToString(),
                };
            }
        }
        catch (JsonException ex)
        {
            errors.Add($"config file \"{path}\" is not valid JSON: {ex.Message}");
        }
        catch (IOException ex)
        {
            errors.Add($"config file \"{path}\" cannot be read: {ex.Message}");
        }
    }

    public static bool TryParseListen(string value, out string host, out int port)
    {
        host = "";
        port = 0;
        int colon = value.LastIndexOf(':');
        if (colon < 0) return false;
        host = value[..colon];
        if (!int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535) return false;
        if (host is "" or "*" or "localhost") return true;
        return System.Net.IPAddress.TryParse(host.Trim('[', ']'), out _);
    }

    /// <summary>Parses 15s, 500ms, 2m, 1h, 1m30s or a plain number of seconds.</summary>
    public static bool TryParseDuration(string value, out TimeSpan result)
    {
        result = TimeSpan.Zero;
        var s = value.Trim();
        if (s.Length == 0) return false;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var plain))
        {
            if (!double.IsFinite(plain) || plain > TimeSpan.MaxValue.TotalSeconds / 2) return false;
            result = TimeSpan.FromSeconds(plain);
            return true;
        }
        int i = 0;
        double totalMs = 0;
        while (i < s.Length)
        {
            int start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
            if (start == i || !double.TryParse(s.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var n)) return false;
            int unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i])) i++;
            double factor = s[unitStart..i] switch { "ms" => 1, "s" => 1000, "m" => 60_000, "h" => 3_600_000, _ => -1 };
            if (factor < 0) return false;
            totalMs += n * factor;
        }
        if (totalMs > TimeSpan.MaxValue.TotalMilliseconds / 2) return false;
        result = TimeSpan.FromMilliseconds(totalMs);
        return true;
    }

    public static string Usage()
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("natsjs-exporter: Prometheus exporter for NATS JetStream");
        sb.AppendLine();
        sb.AppendLine("Usage: natsjs-exporter --monitor-urls http://127.0.0.1:8222,http://127.0.0.1:8223 [flags]");
        sb.AppendLine();
        sb.AppendLine("Flags (environment variable, appsettings.json key in section \"NatsJsExporter\"):");
        foreach (var s in Specs)
        {
            sb.Append("  --").Append(s.Flag.PadRight(20)).Append(s.Help);
            if (s.Default is not null) sb.Append(" Default: ").Append(s.Default).Append('.');
            sb.AppendLine();
            sb.Append(' ', 24).Append(s.Env);
            if (s.Json != "") sb.Append(", ").Append(s.Json);
            sb.AppendLine();
        }
        return sb.ToString();
    }
}
