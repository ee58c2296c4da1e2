using NatsJsExporter.Options;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Options;

/// <summary>One testdata/config/invalid-*.json per configuration error, each with its exact message.</summary>
public class OptionsLoaderTests
{
    private static readonly Dictionary<string, string?> NoEnv = new();

    private static string ConfigPath(string name) => Path.Combine(Repo.TestData, "config", name);

    private static LoadResult LoadFile(string name) => OptionsLoader.Load(["--config", ConfigPath(name)], NoEnv, Path.GetTempPath());

    [Theory]
    [InlineData("invalid-url-scheme.json", "invalid MonitorUrls in {0}: \"ftp://127.0.0.1:8222\" is not an http:// or https:// URL; give each server's monitor port, e.g. http://127.0.0.1:8222")]
    [InlineData("invalid-no-urls.json", "no NATS servers to poll: set --monitor-urls (or NATSJS_MONITOR_URLS) to the servers' monitor URLs, e.g. http://127.0.0.1:8222, or --nats-url for system-account mode")]
    [InlineData("invalid-interval.json", "invalid Interval in {0}: \"soon\" is not a positive duration like 15s, 500ms, 2m or 1h")]
    [InlineData("invalid-timeout-longer-than-interval.json", "invalid Timeout in {0}: \"10s\" is longer than the interval (5s); a poll must end before the next one starts")]
    [InlineData("invalid-listen-port.json", "invalid Listen in {0}: \"0.0.0.0:99999\" is not HOST:PORT with a port from 1 to 65535, e.g. 0.0.0.0:7778")]
    [InlineData("invalid-listen-no-host.json", "invalid Listen in {0}: \"7778\" is not HOST:PORT with a port from 1 to 65535, e.g. 0.0.0.0:7778")]
    [InlineData("invalid-unknown-key.json", "config file \"{0}\": unknown setting \"Intervall\" (known: MonitorUrls, NatsUrl, NatsContext, NatsUser, NatsPasswordFile, NatsTokenFile, NatsCreds, NatsNkey, NatsTlsCa, NatsTlsCert, NatsTlsKey, ExpectedServers, ServerDropAfter, FilterCluster, FilterServerName, FilterTags, FilterDomain, Listen, Interval, Timeout, AccountPageSize, MaxResponseSize, IncludeAccounts, ExcludeAccounts, IncludeStreams, ExcludeStreams, IncludeConsumers, ExcludeConsumers, Consumers, EphemeralConsumers, ReplicaComparison, RaftzGroups, LogLevel, LogFormat, WebConfigFile, MonitorTlsCa, MonitorTlsInsecure)")]
    [InlineData("invalid-log-level.json", "invalid LogLevel in {0}: \"loud\" is not one of debug, information, info, warning, error")]
    [InlineData("invalid-duplicate-url.json", "invalid MonitorUrls in {0}: \"http://127.0.0.1:8222\" is listed twice")]
    [InlineData("invalid-stream-regex.json", "invalid ExcludeStreams in {0}: \"ORDERS[\" is not a valid regular expression (Invalid pattern 'ORDERS[' at offset 7. Unterminated [] set.)")]
    [InlineData("invalid-consumers-switch.json", "invalid Consumers in {0}: \"sometimes\" is not true or false")]
    [InlineData("invalid-both-modes.json", "both MonitorUrls in {0} and --nats-url/--nats-context are set: choose HTTP monitor ports or one system-account connection, not both")]
    [InlineData("invalid-nats-url.json", "invalid NatsUrl in {0}: \"http://127.0.0.1:4222\" is not a nats:// or tls:// URL, e.g. nats://127.0.0.1:4222")]
    [InlineData("invalid-missing-creds.json", "invalid NatsCreds in {0}: file \"/nonexistent/sys.creds\" does not exist")]
    [InlineData("invalid-missing-context.json", "invalid NatsContext in {0}: no NATS context file at \"/nonexistent/ctx.json\" (create it with `nats context add`, or give a path)")]
    [InlineData("invalid-expected-servers.json", "invalid ExpectedServers in {0}: \"three\" is not a whole number from 1 to 100000")]
    [InlineData("invalid-page-size.json", "invalid AccountPageSize in {0}: \"0\" is not a whole number from 1 to 100000")]
    [InlineData("invalid-system-option-in-http-mode.json", "NatsUser in {0}, ExpectedServers in {0} only apply in system-account mode (--nats-url/--nats-context), and this is HTTP mode (--monitor-urls): remove them")]
    [InlineData("invalid-http-option-in-system-mode.json", "MonitorTlsCa in {0} only applies in HTTP mode (--monitor-urls), and this is system-account mode (--nats-url/--nats-context): remove it")]
    [InlineData("invalid-listen-unresolvable.json", "invalid Listen in {0}: host \"nonexistent.invalid\" does not resolve to an address; give an IP address or a name this machine can resolve")]
    [InlineData("invalid-object-value.json", "config file \"{0}\": \"Interval\" must be a value or a list of values, not an object")]
    [InlineData("invalid-section-not-object.json", "config file \"{0}\": \"NatsJsExporter\" must be an object")]
    [InlineData("invalid-password-file-directory.json", "invalid NatsPasswordFile in {0}: \"/\" is a directory, not a file")]
    public void Invalid_config_file_gives_one_clear_message(string file, string expected)
    {
        var result = LoadFile(file);
        Assert.Null(result.Options);
        Assert.Equal(string.Format(expected, ConfigPath(file)), Assert.Single(result.Errors));
    }

    [Fact]
    public void Invalid_json_names_the_file()
    {
        var result = LoadFile("invalid-json.json");
        Assert.StartsWith($"config file \"{ConfigPath("invalid-json.json")}\" is not valid JSON:", Assert.Single(result.Errors));
    }

    [Fact]
    public void Every_invalid_fixture_has_a_test()
    {
        var files = Directory.GetFiles(Path.Combine(Repo.TestData, "config"), "invalid-*.json").Select(Path.GetFileName).Order().ToArray();
        var tested = typeof(OptionsLoaderTests).GetMethod(nameof(Invalid_config_file_gives_one_clear_message))!
            .GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>()
            .Select(a => (string)a.GetData(null!).First()[0]).Append("invalid-json.json").Order().ToArray();
        Assert.Equal(files, tested);
    }

    [Fact]
    public void Valid_file_is_read_with_comments_and_durations()
    {
        var o = LoadFile("valid.json").Options!;
        Assert.Equal(["http://127.0.0.1:8222/", "http://127.0.0.1:8223/"], o.MonitorUrls.Select(u => u.AbsoluteUri));
        Assert.Equal(("127.0.0.1", 9999), (o.ListenHost, o.ListenPort));
        Assert.Equal(TimeSpan.FromSeconds(30), o.Interval);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), o.Timeout);
    }

    [Fact]
    public void Command_line_beats_environment_beats_file()
    {
        var env = new Dictionary<string, string?> { ["NATSJS_INTERVAL"] = "20s", ["NATSJS_TIMEOUT"] = "3s" };
        var o = OptionsLoader.Load(["--config", ConfigPath("valid.json"), "--interval=40s"], env, Path.GetTempPath()).Options!;
        Assert.Equal(TimeSpan.FromSeconds(40), o.Interval);
        Assert.Equal(TimeSpan.FromSeconds(3), o.Timeout);
        Assert.Equal(9999, o.ListenPort);
    }

    [Fact]
    public void Defaults_listen_on_7778_every_15s_with_5s_timeout()
    {
        var o = OptionsLoader.Load(["--monitor-urls", "http://127.0.0.1:8222"], NoEnv, Path.GetTempPath()).Options!;
        Assert.Equal(("0.0.0.0", 7778), (o.ListenHost, o.ListenPort));
        Assert.Equal(TimeSpan.FromSeconds(15), o.Interval);
        Assert.Equal(TimeSpan.FromSeconds(5), o.Timeout);
    }

    [Theory]
    [InlineData("--interval", "abc", "invalid --interval: \"abc\" is not a positive duration like 15s, 500ms, 2m or 1h")]
    [InlineData("--interval", "0s", "invalid --interval: \"0s\" is not a positive duration like 15s, 500ms, 2m or 1h")]
    [InlineData("--listen", "localhost:0", "invalid --listen: \"localhost:0\" is not HOST:PORT with a port from 1 to 65535, e.g. 0.0.0.0:7778")]
    [InlineData("--monitor-urls", "127.0.0.1:8222", "invalid --monitor-urls: \"127.0.0.1:8222\" is not an http:// or https:// URL; give each server's monitor port, e.g. http://127.0.0.1:8222")]
    public void Bad_flags_name_the_flag_and_value(string flag, string value, string expected)
    {
        var args = flag == "--monitor-urls" ? new[] { flag, value } : ["--monitor-urls", "http://127.0.0.1:8222", flag, value];
        Assert.Equal(expected, Assert.Single(OptionsLoader.Load(args, NoEnv, Path.GetTempPath()).Errors));
    }

    [Fact]
    public void A_nats_cli_context_supplies_url_and_credentials_and_flags_override_it()
    {
        var context = ConfigPath("context-sys.json");
        var o = OptionsLoader.Load(["--nats-context", context], NoEnv, Path.GetTempPath()).Options!;
        Assert.Empty(o.MonitorUrls);
        Assert.Equal("nats://127.0.0.1:4222", o.SystemAccount!.Url);
        Assert.Equal(("sys", "context-secret"), (o.SystemAccount.User, o.SystemAccount.Password));
        Assert.Equal($"context {context}", o.SystemAccount.Origin);

        var env = new Dictionary<string, string?> { ["NATSJS_NATS_PASSWORD"] = "from-env" };
        var overridden = OptionsLoader.Load(["--nats-context", context, "--nats-user", "admin"], env, Path.GetTempPath()).Options!;
        Assert.Equal(("admin", "from-env"), (overridden.SystemAccount!.User, overridden.SystemAccount.Password));
    }

    [Fact]
    public void A_password_file_is_read_and_its_newline_dropped()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "s3cr3t!\n");
        try
        {
            var o = OptionsLoader.Load(["--nats-url", "nats://127.0.0.1:4222", "--nats-user", "sys", "--nats-password-file", file], NoEnv, Path.GetTempPath()).Options!;
            Assert.Equal("s3cr3t!", o.SystemAccount!.Password);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Credentials_in_the_url_never_reach_the_safe_url()
    {
        var o = new SystemAccountOptions { Url = "nats://sys:hunter2@127.0.0.1:4222,nats://127.0.0.1:4223" };
        Assert.DoesNotContain("hunter2", o.SafeUrl);
        Assert.Equal("nats://127.0.0.1:4222,nats://127.0.0.1:4223", o.SafeUrl);
    }

    [Fact]
    public void Unknown_flag_is_an_error()
    {
        var errors = OptionsLoader.Load(["--monitor-urls", "http://127.0.0.1:8222", "--intervall", "5s"], NoEnv, Path.GetTempPath()).Errors;
        Assert.Equal("unknown flag --intervall (see --help)", Assert.Single(errors));
    }

    [Fact]
    public void Environment_errors_name_the_variable()
    {
        var env = new Dictionary<string, string?> { ["NATSJS_MONITOR_URLS"] = "http://127.0.0.1:8222", ["NATSJS_INTERVAL"] = "soon" };
        Assert.Equal("invalid NATSJS_INTERVAL: \"soon\" is not a positive duration like 15s, 500ms, 2m or 1h",
            Assert.Single(OptionsLoader.Load([], env, Path.GetTempPath()).Errors));
    }

    [Fact]
    public void A_missing_or_directory_config_file_is_one_line()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        try
        {
            Assert.Equal($"config file \"{dir}/none.json\" does not exist", Assert.Single(OptionsLoader.Load(["--config", $"{dir}/none.json"], NoEnv, dir).Errors));
            Assert.Equal($"config file: \"{dir}\" is a directory, not a file", Assert.Single(OptionsLoader.Load([], new Dictionary<string, string?> { ["NATSJS_CONFIG"] = dir }, dir).Errors));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Appsettings_json_in_the_working_directory_is_read_when_present()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "appsettings.json"), """{ "NatsJsExporter": { "MonitorUrls": "http://127.0.0.1:8222,http://127.0.0.1:8223", "Interval": "20s" } }""");
            var o = OptionsLoader.Load([], NoEnv, dir).Options!;
            Assert.Equal(2, o.MonitorUrls.Count);
            Assert.Equal(TimeSpan.FromSeconds(20), o.Interval);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("2s", null, 2_000)]
    [InlineData("15s", null, 5_000)]
    [InlineData("1m", null, 5_000)]
    [InlineData("500ms", null, 500)]
    [InlineData("15s", "10s", 10_000)]
    public void Timeout_defaults_to_5s_or_the_interval_when_shorter(string interval, string? timeout, double expectedMs)
    {
        string[] args = ["--monitor-urls", "http://127.0.0.1:8222", "--interval", interval, .. timeout is null ? Array.Empty<string>() : ["--timeout", timeout]];
        var result = OptionsLoader.Load(args, NoEnv, Path.GetTempPath());
        Assert.Empty(result.Errors);
        Assert.Equal(expectedMs, result.Options!.Timeout.TotalMilliseconds);
    }

    [Fact]
    public void An_explicit_timeout_longer_than_a_short_interval_stays_an_error()
    {
        var errors = OptionsLoader.Load(["--monitor-urls", "http://127.0.0.1:8222", "--interval", "2s", "--timeout", "3s"], NoEnv, Path.GetTempPath()).Errors;
        Assert.Equal("invalid --timeout: \"3s\" is longer than the interval (2s); a poll must end before the next one starts", Assert.Single(errors));
    }

    [Theory]
    [InlineData(new string[0], true, false, false)]
    [InlineData(new[] { "--consumers" }, true, false, false)]
    [InlineData(new[] { "--consumers=false" }, false, false, false)]
    [InlineData(new[] { "--consumers", "false" }, false, false, false)]
    [InlineData(new[] { "--ephemeral-consumers" }, true, true, false)]
    [InlineData(new[] { "--ephemeral-consumers=true", "--monitor-tls-insecure" }, true, true, true)]
    public void Boolean_options_are_switches(string[] flags, bool consumers, bool ephemeral, bool insecure)
    {
        var result = OptionsLoader.Load(["--monitor-urls", "http://127.0.0.1:8222", .. flags], NoEnv, Path.GetTempPath());
        Assert.Empty(result.Errors);
        var o = result.Options!;
        Assert.Equal((consumers, ephemeral, insecure), (o.Filter.Consumers, o.Filter.Ephemeral, o.MonitorTlsInsecure));
    }

    [Fact]
    public void A_switch_with_a_value_that_is_not_a_boolean_is_one_line()
    {
        var errors = OptionsLoader.Load(["--monitor-urls", "http://127.0.0.1:8222", "--consumers=sometimes"], NoEnv, Path.GetTempPath()).Errors;
        Assert.Equal("invalid --consumers: \"sometimes\" is not true or false", Assert.Single(errors));
    }

    [Fact]
    public void A_flag_without_its_value_is_one_line()
    {
        var errors = OptionsLoader.Load(["--monitor-urls", "http://127.0.0.1:8222", "--interval"], NoEnv, Path.GetTempPath()).Errors;
        Assert.Equal("--interval needs a value (see --help)", Assert.Single(errors));
    }

    [Fact]
    public void Name_filters_match_the_whole_name_like_prometheus_relabel_regexes()
    {
        var o = OptionsLoader.Load(["--monitor-urls", "http://127.0.0.1:8222", "--include-streams", "ORDERS"], NoEnv, Path.GetTempPath()).Options!;
        var streams = Fixtures.Snapshot("2.9.10-cluster-healthy", o.Filter).Streams.Select(s => s.Name).Distinct().Order();
        Assert.Equal(["ORDERS"], streams);
        var prefix = OptionsLoader.Load(["--monitor-urls", "http://127.0.0.1:8222", "--exclude-streams", "ORDERS_.*|EVENTS"], NoEnv, Path.GetTempPath()).Options!;
        Assert.Equal(["ORDERS"], Fixtures.Snapshot("2.9.10-cluster-healthy", prefix.Filter).Streams.Select(s => s.Name).Distinct().Order());
        Assert.False(o.Filter.IncludeStream("XORDERS"));
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    [InlineData("[::1]")]
    public void Listen_takes_addresses_and_host_names(string host)
    {
        var o = OptionsLoader.Load(["--monitor-urls", "http://127.0.0.1:8222", "--listen", $"{host}:7790"], NoEnv, Path.GetTempPath()).Options!;
        Assert.Equal((host, 7790), (o.ListenHost, o.ListenPort));
        Assert.True(System.Net.IPAddress.IsLoopback(o.ListenAddress!));
    }

    [Fact]
    public void Listen_resolves_this_machines_own_name_at_start()
    {
        var name = System.Net.Dns.GetHostName();
        var o = OptionsLoader.Load(["--monitor-urls", "http://127.0.0.1:8222", "--listen", $"{name}:7790"], NoEnv, Path.GetTempPath()).Options!;
        Assert.Equal(name, o.ListenHost);
        Assert.Contains(o.ListenAddress!, System.Net.Dns.GetHostAddresses(name));
    }

    [Fact]
    public void System_account_secrets_in_http_mode_are_rejected_not_ignored()
    {
        var env = new Dictionary<string, string?> { ["NATSJS_NATS_PASSWORD"] = "s3cr3t" };
        var errors = OptionsLoader.Load(["--monitor-urls", "http://127.0.0.1:8222", "--server-drop-after", "1m"], env, Path.GetTempPath()).Errors;
        Assert.Equal("--server-drop-after, NATSJS_NATS_PASSWORD only apply in system-account mode (--nats-url/--nats-context), and this is HTTP mode (--monitor-urls): remove them", Assert.Single(errors));
        Assert.DoesNotContain("s3cr3t", errors[0]);
    }

    [Fact]
    public void A_password_file_that_is_a_directory_is_said_in_words()
    {
        var errors = OptionsLoader.Load(["--nats-url", "nats://127.0.0.1:4222", "--nats-password-file", "/tmp"], NoEnv, Path.GetTempPath()).Errors;
        Assert.Equal("invalid --nats-password-file: \"/tmp\" is a directory, not a file", Assert.Single(errors));
    }

    [Theory]
    [InlineData("15s", 15_000)]
    [InlineData("500ms", 500)]
    [InlineData("2m", 120_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("2.5", 2_500)]
    public void Durations_parse(string text, double ms)
    {
        Assert.True(Durations.TryParse(text, out var d));
        Assert.Equal(ms, d.TotalMilliseconds);
    }
}
