using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace NatsJsExporter.Options;

/// <summary>
/// Validates the bound <see cref="ExporterSettings"/> (the options framework runs it when the settings
/// are first resolved) and turns them into the <see cref="ExporterOptions"/> the exporter uses. Every
/// failure is one line naming the setting as the user gave it, the value and what is expected.
/// </summary>
public sealed class ExporterSettingsValidator(ExporterConfiguration configuration) : IValidateOptions<ExporterSettings>
{
    private readonly ConditionalWeakTable<ExporterSettings, ExporterOptions> _validated = new();

    public ValidateOptionsResult Validate(string? name, ExporterSettings settings)
    {
        var errors = new List<string>(configuration.Errors);
        if (errors.Count == 0 && new Conversion(settings, configuration, errors).Run() is { } options && errors.Count == 0)
        {
            _validated.AddOrUpdate(settings, options);
            return ValidateOptionsResult.Success;
        }
        return ValidateOptionsResult.Fail(errors);
    }

    /// <summary>The options built from settings that passed <see cref="Validate"/>.</summary>
    public ExporterOptions OptionsFor(ExporterSettings settings) =>
        _validated.TryGetValue(settings, out var options) ? options : throw new InvalidOperationException("the settings were not validated");

    private sealed class Conversion(ExporterSettings s, ExporterConfiguration configuration, List<string> errors)
    {
        private static OptionSpec S(string flag) => OptionCatalog.Get(flag);

        private string Describe(string flag) => configuration.Describe(S(flag));

        private string? Value(string flag) => (string?)typeof(ExporterSettings).GetProperty(S(flag).Json)!.GetValue(s);

        private string ValueOrDefault(string flag) => Value(flag) ?? S(flag).Default!;

        private void Invalid(string flag, string problem) => errors.Add($"invalid {Describe(flag)}: {problem}");

        public ExporterOptions? Run()
        {
            // Monitor URLs (HTTP mode) or a NATS connection (system-account mode): exactly one.
            bool systemMode = !string.IsNullOrWhiteSpace(s.NatsUrl) || !string.IsNullOrWhiteSpace(s.NatsContext);
            var urls = new List<Uri>();
            SystemAccountOptions? system = null;
            if (systemMode && !string.IsNullOrWhiteSpace(s.MonitorUrls))
                errors.Add($"both {Describe("monitor-urls")} and --nats-url/--nats-context are set: choose HTTP monitor ports or one system-account connection, not both");
            else if (systemMode)
                system = SystemAccount();
            else if (string.IsNullOrWhiteSpace(s.MonitorUrls))
                errors.Add("no NATS servers to poll: set --monitor-urls (or NATSJS_MONITOR_URLS) to the servers' monitor URLs, e.g. http://127.0.0.1:8222, or --nats-url for system-account mode");
            else
                urls = MonitorUrls(s.MonitorUrls);
            if (errors.Count == 0) ModeMismatch(systemMode);

            var (host, port, address) = Listen();
            var interval = Duration("interval", ValueOrDefault("interval"));
            TimeSpan timeout;
            if (s.Timeout is null)
            {
                timeout = interval > TimeSpan.Zero && interval < ExporterOptions.DefaultTimeout ? interval : ExporterOptions.DefaultTimeout;
            }
            else
            {
                timeout = Duration("timeout", s.Timeout);
                if (interval > TimeSpan.Zero && timeout > interval)
                    Invalid("timeout", $"\"{s.Timeout}\" is longer than the interval ({ValueOrDefault("interval")}); a poll must end before the next one starts");
            }
            int pageSize = Integer("account-page-size", 1, 100_000);
            int maxMiB = systemMode ? 256 : Integer("max-response-size", 1, 64 * 1024);
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
                ReplicaComparison = Bool("replica-comparison"),
            };
            var logLevel = OneOf("log-level", "debug", "information", "info", "warning", "error");
            var logFormat = OneOf("log-format", "text", "json");
            var raftzGroups = OneOf("raftz-groups", "meta", "all", "off");

            // TLS/basic auth for our endpoints (WebConfig reads the file), TLS trust for https:// monitor ports.
            WebConfig? web = null;
            if (NonEmpty(s.WebConfigFile) is { } webPath)
            {
                if (FileChecks.Problem(webPath) is { } problem) Invalid("web-config-file", problem);
                else web = WebConfig.Load(webPath, Describe("web-config-file"), errors);
            }
            string? monitorCa = systemMode ? null : NonEmpty(s.MonitorTlsCa);
            if (monitorCa is not null && !TlsFiles.TryLoadCa(monitorCa, out _, out var caError)) Invalid("monitor-tls-ca", caError);
            bool monitorInsecure = !systemMode && Bool("monitor-tls-insecure");

            if (errors.Count > 0) return null;
            return new ExporterOptions
            {
                Web = web,
                MonitorTlsCaFile = monitorCa,
                MonitorTlsInsecure = monitorInsecure,
                MonitorUrls = urls,
                SystemAccount = system,
                ListenHost = host,
                ListenPort = port,
                ListenAddress = address,
                Interval = interval,
                Timeout = timeout,
                AccountPageSize = pageSize,
                MaxResponseBytes = maxMiB * 1024L * 1024,
                LogLevel = logLevel == "info" ? "information" : logLevel,
                LogFormat = logFormat,
                Filter = filter,
                RaftzGroups = raftzGroups,
            };
        }

        private List<Uri> MonitorUrls(string raw)
        {
            var urls = new List<Uri>();
            foreach (var part in raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!Uri.TryCreate(part, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https") || u.Host.Length == 0)
                    Invalid("monitor-urls", $"\"{part}\" is not an http:// or https:// URL; give each server's monitor port, e.g. http://127.0.0.1:8222");
                else if (urls.Contains(u))
                    Invalid("monitor-urls", $"\"{part}\" is listed twice");
                else
                    urls.Add(u);
            }
            return urls;
        }

        /// <summary>A setting of the other mode would be silently ignored: say so instead.</summary>
        private void ModeMismatch(bool systemMode)
        {
            var (wrong, mode, chosen) = systemMode
                ? (OptionMode.Http, "HTTP mode (--monitor-urls)", "system-account mode (--nats-url/--nats-context)")
                : (OptionMode.SystemAccount, "system-account mode (--nats-url/--nats-context)", "HTTP mode (--monitor-urls)");
            var given = OptionCatalog.FileSettings.Where(o => o.Mode == wrong && configuration.IsSet(o)).Select(configuration.Describe).ToList();
            if (!systemMode)
                given.AddRange(new[] { "NATSJS_NATS_PASSWORD", "NATSJS_NATS_TOKEN" }.Where(e => NonEmpty(configuration.Environment.GetValueOrDefault(e)) is not null));
            if (given.Count > 0)
                errors.Add($"{string.Join(", ", given)} only {(given.Count == 1 ? "applies" : "apply")} in {mode}, and this is {chosen}: remove {(given.Count == 1 ? "it" : "them")}");
        }

        private (string Host, int Port, IPAddress? Address) Listen()
        {
            var listen = ValueOrDefault("listen");
            int colon = listen.LastIndexOf(':');
            string host = colon < 0 ? "" : listen[..colon];
            if (colon < 0 || !int.TryParse(listen.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535
                || (host is not ("" or "*") && Uri.CheckHostName(host.Trim('[', ']')) == UriHostNameType.Unknown))
            {
                Invalid("listen", $"\"{listen}\" is not HOST:PORT with a port from 1 to 65535, e.g. 0.0.0.0:{ExporterOptions.DefaultPort}");
                return ("", 0, null);
            }
            if (host is "" or "*" or "0.0.0.0") return (host, port, IPAddress.Any);
            if (host == "localhost") return (host, port, IPAddress.Loopback);
            if (IPAddress.TryParse(host.Trim('[', ']'), out var ip)) return (host, port, ip);
            try
            {
                var addresses = Dns.GetHostAddresses(host);
                var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
                if (chosen is not null) return (host, port, chosen);
                Invalid("listen", $"host \"{host}\" has no IP address; give an IP address or a name this machine can resolve");
            }
            catch (SocketException)
            {
                Invalid("listen", $"host \"{host}\" does not resolve to an address; give an IP address or a name this machine can resolve");
            }
            return ("", 0, null);
        }

        private TimeSpan Duration(string flag, string raw)
        {
            if (Durations.TryParse(raw, out var d) && d > TimeSpan.Zero) return d;
            Invalid(flag, $"\"{raw}\" is not a positive duration like 15s, 500ms, 2m or 1h");
            return TimeSpan.Zero;
        }

        private int Integer(string flag, int min, int max)
        {
            var raw = ValueOrDefault(flag);
            if (int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max) return v;
            Invalid(flag, $"\"{raw}\" is not a whole number from {min} to {max}");
            return min;
        }

        private string OneOf(string flag, params string[] allowed)
        {
            var raw = ValueOrDefault(flag);
            if (!allowed.Contains(raw.ToLowerInvariant())) Invalid(flag, $"\"{raw}\" is not one of {string.Join(", ", allowed)}");
            return raw.ToLowerInvariant();
        }

        private bool Bool(string flag)
        {
            var raw = ValueOrDefault(flag);
            if (bool.TryParse(raw, out var b)) return b;
            Invalid(flag, $"\"{raw}\" is not true or false");
            return false;
        }

        /// <summary>Anchored like a Prometheus relabel regex: the whole name must match (^(?:re)$).</summary>
        private Regex? Pattern(string flag)
        {
            var raw = Value(flag);
            if (string.IsNullOrEmpty(raw)) return null;
            try
            {
                _ = new Regex(raw, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
            }
            catch (ArgumentException ex)
            {
                Invalid(flag, $"\"{raw}\" is not a valid regular expression ({ex.Message})");
                return null;
            }
            return SnapshotFilter.Anchored(raw);
        }

        private SystemAccountOptions? SystemAccount()
        {
            int before = errors.Count;
            var environment = configuration.Environment;
            NatsContextFile context = new();
            string origin = "flags";
            if (NonEmpty(s.NatsContext) is { } contextValue)
            {
                var path = NatsContextFile.PathOf(contextValue, environment);
                origin = $"context {contextValue}";
                if (!FileChecks.TryReadAllBytes(path, out var bytes, out var error))
                {
                    Invalid("nats-context", error.EndsWith("does not exist", StringComparison.Ordinal)
                        ? $"no NATS context file at \"{path}\" (create it with `nats context add`, or give a path)"
                        : error);
                    return null;
                }
                try
                {
                    context = JsonSerializer.Deserialize(bytes, OptionsJsonContext.Default.NatsContextFile) ?? new();
                }
                catch (JsonException ex)
                {
                    Invalid("nats-context", $"\"{path}\" is not a NATS context JSON file ({ex.Message})");
                    return null;
                }
            }

            string? FileOption(string flag, string? fromContext)
            {
                var value = NonEmpty(Value(flag)) ?? NonEmpty(fromContext);
                if (value is null) return null;
                value = NatsContextFile.ExpandHome(value, environment);
                if (FileChecks.Problem(value) is { } problem) Invalid(flag, problem);
                return value;
            }

            string? Secret(string flag, string env, string? fromContext)
            {
                if (NonEmpty(Value(flag)) is { } file)
                {
                    file = NatsContextFile.ExpandHome(file, environment);
                    if (FileChecks.TryReadAllText(file, out var text, out var error)) return text.TrimEnd('\r', '\n');
                    Invalid(flag, error);
                    return null;
                }
                return NonEmpty(environment.GetValueOrDefault(env)) ?? NonEmpty(fromContext);
            }

            var url = NonEmpty(s.NatsUrl) ?? NonEmpty(context.Url) ?? "nats://127.0.0.1:4222";
            foreach (var part in url.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!Uri.TryCreate(part, UriKind.Absolute, out var u) || u.Scheme is not ("nats" or "tls" or "ws" or "wss"))
                    Invalid("nats-url", $"\"{SystemAccountOptions.StripUserInfo(part)}\" is not a nats:// or tls:// URL, e.g. nats://127.0.0.1:4222");
            }
            int? expected = null;
            if (NonEmpty(s.ExpectedServers) is not null) expected = Integer("expected-servers", 1, 100_000);
            var dropAfter = Duration("server-drop-after", ValueOrDefault("server-drop-after"));

            var options = new SystemAccountOptions
            {
                Url = url,
                User = NonEmpty(s.NatsUser) ?? NonEmpty(context.User),
                Password = Secret("nats-password-file", "NATSJS_NATS_PASSWORD", context.Password),
                Token = Secret("nats-token-file", "NATSJS_NATS_TOKEN", context.Token),
                CredsFile = FileOption("nats-creds", context.Creds),
                NKeySeedFile = FileOption("nats-nkey", context.Nkey),
                TlsCaFile = FileOption("nats-tls-ca", context.Ca),
                TlsCertFile = FileOption("nats-tls-cert", context.Cert),
                TlsKeyFile = FileOption("nats-tls-key", context.Key),
                ExpectedServers = expected,
                DropAfter = dropAfter,
                FilterCluster = NonEmpty(s.FilterCluster),
                FilterServerName = NonEmpty(s.FilterServerName),
                FilterTags = s.FilterTags?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                FilterDomain = NonEmpty(s.FilterDomain),
                Origin = origin,
            };
            if ((options.TlsCertFile is null) != (options.TlsKeyFile is null))
                errors.Add("--nats-tls-cert and --nats-tls-key go together: give both or neither");
            return errors.Count == before ? options : null;
        }

        private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
    }
}
