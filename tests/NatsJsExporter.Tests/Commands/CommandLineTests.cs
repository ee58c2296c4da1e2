using System.CommandLine;
using System.Text.RegularExpressions;
using NatsJsExporter.Commands;
using NatsJsExporter.Options;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Commands;

/// <summary>The command line as a user meets it: --help, --version, unknown flags, bad settings, and the README's option table.</summary>
public class CommandLineTests
{
    private static async Task<(int Code, string Out, string Err)> Run(IReadOnlyDictionary<string, string?>? env, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = await ExporterCommandLine.RunAsync(args, new CommandContext(env ?? new Dictionary<string, string?>(), Path.GetTempPath(), o, e));
        return (code, o.ToString(), e.ToString());
    }

    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => Run(null, args);

    /// <summary>The options a command offers in --help (not help/version, not hidden).</summary>
    private static IEnumerable<Option> Listed(Command command) =>
        command.Options.Where(o => !o.Hidden && o.Name is not ("--help" or "--version"));

    private static string Flatten(string help) => Regex.Replace(help, @"\s+", " ");

    [Fact]
    public async Task Help_lists_the_subcommands_and_every_option_with_its_environment_variable_default_and_mode()
    {
        var (code, output, _) = await Run("--help");
        Assert.Equal(0, code);
        var flat = Flatten(output);
        Assert.Contains("report <section>", flat);
        Assert.Contains("healthcheck ", flat);
        var root = ExporterCommandLine.Build(new CommandContext(new Dictionary<string, string?>(), ".", TextWriter.Null, TextWriter.Null));
        Assert.Equal(OptionCatalog.All.Select(s => s.Name), Listed(root).Select(o => o.Name));
        foreach (var spec in OptionCatalog.All)
        {
            var line = Regex.Match(flat, $@"{Regex.Escape(spec.Name)}( <[a-z:]+>)? (?<text>.*?)\[mode: (?<mode>[a-z-]+|HTTP)\]");
            Assert.True(line.Success, $"{spec.Name} missing from --help");
            var text = line.Groups["text"].Value;
            Assert.Contains($"[env: {spec.Env}]", text);
            if (spec.Default is not null) Assert.Contains($"[default: {spec.Default}]", text);
            Assert.Equal(spec.ModeText, line.Groups["mode"].Value);
        }
    }

    [Fact]
    public async Task Report_help_lists_sections_exit_codes_and_the_source_options_but_not_the_serving_ones()
    {
        var (code, output, _) = await Run("report", "--help");
        Assert.Equal(0, code);
        var flat = Flatten(output);
        Assert.Contains("report [all|jetstream|streams|meta] [--json]", flat);
        Assert.Contains("0 healthy, 1 warnings only, 2 at least one critical problem, 3", flat);
        Assert.Contains("--monitor-urls <urls>", flat);
        Assert.Contains("--nats-context", flat);
        Assert.DoesNotContain("--listen <", flat);
        Assert.DoesNotContain("--log-level <", flat);
    }

    [Fact]
    public async Task Version_prints_version_commit_and_runtime()
    {
        var (code, output, _) = await Run("--version");
        Assert.Equal(0, code);
        Assert.Equal($"natsjs-exporter {BuildInfo.Version} (commit {BuildInfo.Commit}, {BuildInfo.Runtime})\n", output);
        Assert.Matches(@"^\d+\.\d+\.\d+$", BuildInfo.Version);
        Assert.StartsWith(".NET ", BuildInfo.Runtime);
    }

    [Fact]
    public void The_commit_is_the_checkout_head_when_built_from_git()
    {
        var head = Path.Combine(Repo.Root, ".git");
        if (!Directory.Exists(head) && !File.Exists(head)) return; // a source tarball: "unknown" is right
        Assert.Matches("^[0-9a-f]{40}$", BuildInfo.Commit);
    }

    [Theory]
    [InlineData(new[] { "--monitor-urls", "http://127.0.0.1:8222", "--intervall", "5s" }, "natsjs-exporter: unknown flag --intervall (see --help)\n")]
    [InlineData(new[] { "--monitor-urls", "http://127.0.0.1:8222", "--intervall=5s" }, "natsjs-exporter: unknown flag --intervall (see --help)\n")]
    [InlineData(new[] { "serve", "--monitor-urls", "http://127.0.0.1:8222" }, "natsjs-exporter: unexpected argument \"serve\"; settings are given as --name value (see --help)\n")]
    [InlineData(new[] { "--monitor-urls" }, "natsjs-exporter: --monitor-urls needs a value (see --help)\n")]
    [InlineData(new[] { "healthcheck", "--bogus" }, "natsjs-exporter: unknown flag --bogus (see --help)\n")]
    [InlineData(new[] { "--monitor-urls", "http://127.0.0.1:8222", "--interval", "abc" }, "natsjs-exporter: invalid --interval: \"abc\" is not a positive duration like 15s, 500ms, 2m or 1h\n")]
    [InlineData(new[] { "healthcheck", "--monitor-urls", "http://127.0.0.1:8222", "--nats-user", "sys" }, "natsjs-exporter: --nats-user only applies in system-account mode (--nats-url/--nats-context), and this is HTTP mode (--monitor-urls): remove it\n")]
    public async Task A_bad_command_line_is_one_line_and_exit_2(string[] args, string expected)
    {
        var (code, output, err) = await Run(args);
        Assert.Equal(2, code);
        Assert.Equal(expected, err);
        Assert.Equal("", output);
    }

    [Fact]
    public async Task The_environment_configures_every_command_and_flags_override_it()
    {
        var env = new Dictionary<string, string?> { ["NATSJS_MONITOR_URLS"] = "ftp://x" };
        var (code, _, err) = await Run(env, "healthcheck");
        Assert.Equal(2, code);
        Assert.StartsWith("natsjs-exporter: invalid NATSJS_MONITOR_URLS: \"ftp://x\" is not an http:// or https:// URL", err);
        (code, _, err) = await Run(env, "report", "--monitor-urls", "ftp://y");
        Assert.Equal(3, code);
        Assert.StartsWith("natsjs-exporter report: invalid --monitor-urls: \"ftp://y\"", err);
    }

    [Theory]
    [InlineData("healthcheck")]
    [InlineData("--healthcheck")]
    public async Task Healthcheck_as_a_command_or_the_older_flag_fails_with_1_when_nothing_listens(string how)
    {
        var port = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        port.Start();
        int free = ((System.Net.IPEndPoint)port.LocalEndpoint).Port;
        port.Stop();
        var (code, _, _) = await Run(how, "--monitor-urls", "http://127.0.0.1:1", "--listen", $"127.0.0.1:{free}");
        Assert.Equal(1, code);
    }

    /// <summary>Every option of the command line is in the README's table with the same environment variable, file key, default and mode.</summary>
    [Fact]
    public void The_readme_configuration_table_matches_the_command_line()
    {
        var readme = File.ReadAllText(Path.Combine(Repo.Root, "README.md"));
        var section = readme[readme.IndexOf("### Configuration", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n### ", 5, StringComparison.Ordinal)];
        var rows = section.Split('\n').Where(l => l.StartsWith("| `--", StringComparison.Ordinal))
            .Select(l => l.Split('|').Skip(1).Select(c => c.Trim()).ToArray())
            .ToDictionary(c => c[0].Trim('`'), c => c);
        var root = ExporterCommandLine.Build(new CommandContext(new Dictionary<string, string?>(), ".", TextWriter.Null, TextWriter.Null));
        foreach (var option in Listed(root))
        {
            var spec = OptionCatalog.All.Single(s => s.Name == option.Name);
            Assert.True(rows.TryGetValue(spec.Name, out var row), $"{spec.Name} is not in the README's Configuration table");
            Assert.Equal($"`{spec.Env}`", row[1]);
            Assert.Equal(spec.Json.Length == 0 ? "" : $"`{spec.Json}`", Regex.Replace(row[2], @" \(.*\)$", ""));
            Assert.Equal(spec.Default ?? "", row[3].Replace("`", "", StringComparison.Ordinal));
            Assert.Equal(spec.ModeText, row[4]);
        }
        Assert.Equal(Listed(root).Select(o => o.Name).Order(), rows.Keys.Order());
    }
}
