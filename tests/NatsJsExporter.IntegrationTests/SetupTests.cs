using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using NatsJsExporter.IntegrationTests.Infrastructure;
using NatsJsExporter.Metrics;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// What the README's set-up leaves a new user with: natsjs-exporter on PATH, a demo that says where
/// to look and stops cleanly on Ctrl-C, and the demo/bench/soak tools' command lines.
/// </summary>
public class SetupTests(ITestOutputHelper log)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task Natsjs_exporter_on_PATH_is_built_from_these_sources_and_serves_metrics()
    {
        var exe = UserCommands.InstalledExporter;
        var check = await UserCommands.RunAsync("bash", ["scripts/install.sh", "--check"], TimeSpan.FromSeconds(60));
        Assert.True(check.Code == 0, $"{exe} is not built from these sources:\n{check.Stdout}{check.Stderr}");

        var sw = Stopwatch.StartNew();
        var help = await UserCommands.RunAsync(exe, ["--help"], TimeSpan.FromSeconds(60));
        log.WriteLine($"natsjs-exporter --help took {sw.Elapsed.TotalSeconds:0.00} s");
        Assert.True(help.Code == 0, help.Stdout + help.Stderr);
        Assert.Contains("--monitor-urls", help.Stdout);

        await using var cluster = await NatsCluster.StartAsync(size: 1);
        int port = Ports.Free();
        var output = new ConcurrentQueue<string>();
        var psi = new ProcessStartInfo(exe) { WorkingDirectory = Path.GetTempPath() };
        foreach (var a in new[] { "--monitor-urls", cluster.MonitorUrls, "--listen", $"127.0.0.1:{port}", "--interval", "1s", "--timeout", "900ms" }) psi.ArgumentList.Add(a);
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("NATSJS_", StringComparison.Ordinal)).ToList()) psi.Environment.Remove(key);
        var p = ChildProcess.Start(psi, output);
        try
        {
            await ChildProcess.WaitReadyAsync(p, $"http://127.0.0.1:{port}/readyz", output, "natsjs-exporter from PATH");
            var text = await Http.GetStringAsync($"http://127.0.0.1:{port}/metrics");

            Assert.Contains("natsjs_up{server=\"n1\"} 1\n", text);
            // Error counters exist at 0 before any error, for every reason a monitor URL can fail with.
            foreach (var reason in ExporterMetrics.HttpReasons)
                Assert.Contains($"natsjs_scrape_errors_total{{server=\"n1\",reason=\"{reason}\"}} 0\n", text);
            // The process metrics Prometheus users expect, with plausible values.
            Assert.InRange(Value(text, "process_resident_memory_bytes"), 10e6, 4e9);
            Assert.InRange(Value(text, "process_cpu_seconds_total"), 0.01, 600);
            Assert.InRange(Value(text, "process_open_fds"), 3, Value(text, "process_max_fds"));
            Assert.InRange(Value(text, "process_start_time_seconds"), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
            Assert.True(Value(text, "process_virtual_memory_bytes") > Value(text, "process_resident_memory_bytes"));

            var (code, promtool) = await PromtoolCheckAsync(text);
            Assert.True(code == 0, "promtool check metrics:\n" + promtool);
        }
        finally
        {
            await ChildProcess.StopAsync(p);
        }
    }

    [Fact]
    public async Task Demo_prints_the_status_page_url_and_stops_the_exporter_once_gracefully_on_ctrl_c()
    {
        int port = Ports.Free();
        var output = new ConcurrentQueue<string>();
        // Its own session, like a terminal's foreground job: Ctrl-C is SIGINT to the whole process group.
        var psi = new ProcessStartInfo("setsid") { WorkingDirectory = UserCommands.RepoRoot };
        foreach (var a in new[] { "bash", "scripts/demo.sh" }) psi.ArgumentList.Add(a);
        psi.Environment["NATSJS_LISTEN"] = $"127.0.0.1:{port}";
        psi.Environment["NATS_SERVER_BIN"] = NatsServerBinary.Path;
        psi.Environment["DEMO_RATE"] = "10";
        var demo = ChildProcess.Start(psi, output);
        try
        {
            var url = $"http://127.0.0.1:{port}/";
            var deadline = DateTime.UtcNow.AddMinutes(5);
            while (!output.Any(l => Regex.IsMatch(l, $@"^\s*Status page:\s+{Regex.Escape(url)}$")))
            {
                Assert.False(demo.HasExited, "the demo ended early:\n" + string.Join("\n", output));
                Assert.True(DateTime.UtcNow < deadline, "the demo printed no status page URL:\n" + string.Join("\n", output));
                await Task.Delay(250);
            }
            await ChildProcess.WaitReadyAsync(demo, url + "readyz", output, "the demo's exporter", TimeSpan.FromSeconds(60));
            using (var page = await Http.GetAsync(url))
                Assert.True(page.IsSuccessStatusCode, $"{url} answered {(int)page.StatusCode}");

            Signals.Send(-demo.Id, Signals.SIGINT); // the process group, as Ctrl-C does
            using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
                await demo.WaitForExitAsync(cts.Token);
            demo.WaitForExit(); // drain the output
            var lines = output.ToList();
            log.WriteLine(string.Join("\n", lines.TakeLast(12)));

            Assert.Single(lines, l => l.Contains("received: stopping", StringComparison.Ordinal));
            Assert.DoesNotContain(lines, l => l.Contains("received again", StringComparison.Ordinal));
            Assert.Contains("demo: exporter stopped (exit code 0)", lines);
            Assert.Equal(130, demo.ExitCode);
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => Http.GetAsync(url + "readyz"));
        }
        finally
        {
            if (!demo.HasExited)
            {
                try { Signals.Send(-demo.Id, Signals.SIGTERM); } catch (InvalidOperationException) { }
                demo.WaitForExit(30_000);
            }
            await ChildProcess.StopAsync(demo);
        }
    }

    public static TheoryData<string, string[], string> UsageMistakes() => new()
    {
        { "demo", ["publish", "--rate", "0"], "natsjs-demo: --rate must be a positive integer, got '0'" },
        { "demo", ["publish", "--duration", "soon"], "natsjs-demo: --duration must be a non-negative integer, got 'soon'" },
        { "demo", ["setup", "--replicas", "0"], "natsjs-demo: --replicas must be a positive integer, got '0'" },
        { "demo", ["setup", "--user", "app"], "natsjs-demo: --user needs --password" },
        { "demo", ["teardown"], "natsjs-demo: Unrecognized command or argument 'teardown'." },
        { "bench", ["cycle", "--streams", "many"], "bench: --streams must be an integer of at least 1, got 'many'" },
        { "bench", ["cycle", "--gc", "concurrent"], "bench: --gc must be workstation, server or default, got 'concurrent'" },
        { "bench", ["cycle", "--exporter-env", "NOVALUE"], "bench: --exporter-env takes KEY=VALUE, got 'NOVALUE'" },
        { "bench", ["cycle", "--interval", "0"], "bench: --interval takes a positive number of seconds, got '0'" },
        { "soak", ["forever"], "soak: the mode must be scrape, churn or all, got 'forever'" },
        { "soak", ["scrape", "--scrapers", "-1"], "soak: --scrapers must be a positive integer, got '-1'" },
    };

    [Theory]
    [MemberData(nameof(UsageMistakes))]
    public async Task A_tool_usage_mistake_is_a_line_naming_the_option_and_exit_2(string tool, string[] args, string message)
    {
        var (code, stdout, stderr) = await UserCommands.RunAsync("dotnet", [Tool(tool), .. args], TimeSpan.FromSeconds(60));
        Assert.Equal(2, code);
        Assert.Contains(message, stderr.Split('\n'));
        Assert.DoesNotContain("   at ", stderr); // no stack trace
        Assert.Empty(stdout);
    }

    public static TheoryData<string, string[], string[]> Helps() => new()
    {
        { "demo", ["--help"], ["setup", "publish"] },
        { "demo", ["setup", "--help"], ["--url", "--user", "--password", "--replicas"] },
        { "demo", ["publish", "--help"], ["--url", "--user", "--password", "--rate", "--duration", "[default: 20]"] },
        { "bench", ["--help"], ["cycle", "steps", "jsz", "BenchmarkDotNet"] },
        { "bench", ["cycle", "--help"], ["--streams", "--accounts", "--cycles", "--interval", "--scrape-seconds", "--scrapers", "--exporter", "--gc", "--exporter-env"] },
        { "bench", ["steps", "--help"], ["--streams", "--accounts", "--reps"] },
        { "soak", ["--help"], ["scrape|churn|all", "--scrapers", "--seconds", "--cycles", "[default: 60]"] },
    };

    [Theory]
    [MemberData(nameof(Helps))]
    public async Task Tool_help_lists_every_option(string tool, string[] args, string[] expected)
    {
        var (code, stdout, stderr) = await UserCommands.RunAsync("dotnet", [Tool(tool), .. args], TimeSpan.FromSeconds(60));
        Assert.True(code == 0, stderr);
        foreach (var e in expected) Assert.Contains(e, stdout);
    }

    [Fact]
    public async Task Bench_jsz_writes_one_answer_per_server_with_the_streams_asked_for()
    {
        var dir = Directory.CreateTempSubdirectory("natsjs-bench-jsz-").FullName;
        try
        {
            var (code, stdout, stderr) = await UserCommands.RunAsync("dotnet", [Tool("bench"), "jsz", "--streams", "7", "--accounts", "1", dir], TimeSpan.FromSeconds(120));
            Assert.True(code == 0, stdout + stderr);
            var files = Directory.GetFiles(dir, "*.json").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(new[] { "n1.json", "n2.json", "n3.json" }, files);
            using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "n1.json")));
            Assert.Equal(7, doc.RootElement.GetProperty("streams").GetInt32());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Tool(string name) => name switch
    {
        "demo" => UserCommands.ToolDll("src/NatsJsExporter.Demo", "natsjs-demo"),
        "bench" => UserCommands.ToolDll("bench/NatsJsExporter.Benchmarks", "NatsJsExporter.Benchmarks"),
        "soak" => UserCommands.ToolDll("bench/NatsJsExporter.Soak", "NatsJsExporter.Soak"),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static double Value(string exposition, string name)
    {
        var line = exposition.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"{name} is missing from /metrics");
        return double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<(int Code, string Output)> PromtoolCheckAsync(string exposition)
    {
        var promtool = Environment.GetEnvironmentVariable("PROMTOOL") is { Length: > 0 } p ? p
            : new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists)
              ?? throw new InvalidOperationException("promtool not found: run scripts/install-deps.sh (Debian package prometheus) or set PROMTOOL");
        var psi = new ProcessStartInfo(promtool, "check metrics") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var proc = Process.Start(psi)!;
        var stdout = proc.StandardOutput.ReadToEndAsync();
        var stderr = proc.StandardError.ReadToEndAsync();
        await proc.StandardInput.WriteAsync(exposition);
        proc.StandardInput.Close();
        await proc.WaitForExitAsync();
        return (proc.ExitCode, await stdout + await stderr);
    }
}
