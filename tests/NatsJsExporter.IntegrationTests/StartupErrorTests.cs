using System.Net;
using System.Net.Sockets;
using NatsJsExporter.IntegrationTests.Infrastructure;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// What a new user trips over at start, with the real binary: a port already taken and a file
/// the exporter's user may not read are one line saying what to do, exit code 2, no stack trace;
/// a listen address may be a host name.
/// </summary>
[Collection("real processes")]
public sealed class StartupErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("natsjs-startup-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static async Task<ExporterRun> RunToEndAsync(Dictionary<string, string> env, string[] args, string? file = null, IEnumerable<string>? prefix = null,
        string? dll = null)
    {
        var run = ExporterRun.Start(env, args, dll: dll, fileName: file, prefix: prefix);
        Assert.True(await run.WaitExitAsync(TimeSpan.FromSeconds(60)), "the exporter did not stop:\n" + run.AllOutput);
        return run;
    }

    [Fact]
    public async Task A_port_already_in_use_is_one_line_naming_the_address_and_exit_2()
    {
        using var held = new TcpListener(IPAddress.Loopback, 0);
        held.Start();
        int port = ((IPEndPoint)held.LocalEndpoint).Port;
        var env = new Dictionary<string, string> { ["NATSJS_LISTEN"] = $"127.0.0.1:{port}" };

        await using var run = await RunToEndAsync(env, ["--monitor-urls", "http://127.0.0.1:1"]);

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.Output, l => l.Contains("cannot listen", StringComparison.Ordinal));
        Assert.Equal($"natsjs-exporter: cannot listen on 127.0.0.1:{port}: the address is already in use (another exporter, e.g. a second scripts/demo.sh?); " +
            "stop that process or choose another --listen address", line);
        Assert.DoesNotContain(run.Output, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_listen_host_name_is_resolved_at_start_and_one_that_does_not_resolve_is_one_line()
    {
        int port = Ports.Free();
        var env = new Dictionary<string, string> { ["NATSJS_LISTEN"] = $"localhost:{port}" };
        await using (var run = ExporterRun.Start(env, ["--monitor-urls", "http://127.0.0.1:1"]))
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await run.WaitReadyAsync(http, $"http://127.0.0.1:{port}/healthz", TimeSpan.FromSeconds(60));
            Assert.Contains(run.Output, l => l.Contains($"serving http://localhost:{port}/metrics", StringComparison.Ordinal));
        }

        env["NATSJS_LISTEN"] = $"nonexistent.invalid:{port}";
        await using var bad = await RunToEndAsync(env, ["--monitor-urls", "http://127.0.0.1:1"]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Equal("natsjs-exporter: invalid NATSJS_LISTEN: host \"nonexistent.invalid\" does not resolve to an address; give an IP address or a name this machine can resolve",
            Assert.Single(bad.Output));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task An_unreadable_password_or_config_file_says_permission_denied()
    {
        if (Environment.UserName != "root") return; // needs to run the exporter as another user (nobody) than the files' owner
        File.SetUnixFileMode(_dir, (UnixFileMode)Convert.ToInt32("755", 8));
        var secret = Path.Combine(_dir, "password");
        File.WriteAllText(secret, "s3cr3t\n");
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var config = Path.Combine(_dir, "appsettings.json");
        File.WriteAllText(config, """{ "NatsJsExporter": { "Interval": "5s" } }""");
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        string[] asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", "--", "dotnet"];
        var env = new Dictionary<string, string> { ["HOME"] = "/nonexistent", ["DOTNET_CLI_HOME"] = "/tmp" };
        // nobody runs the installed copy (scripts/install.sh, world-readable), as a user would: the
        // checkout's build output may sit under a folder only root can enter (CI clones anywhere).
        var apphost = new FileInfo(UserCommands.InstalledExporter).ResolveLinkTarget(true)?.FullName ?? UserCommands.InstalledExporter;
        var dll = Path.Combine(Path.GetDirectoryName(apphost)!, "natsjs-exporter.dll");

        await using (var run = await RunToEndAsync(env, ["--nats-url", "nats://127.0.0.1:4222", "--nats-user", "sys", "--nats-password-file", secret], "setpriv", asNobody, dll))
        {
            Assert.Equal(2, run.ExitCode);
            Assert.Equal($"natsjs-exporter: invalid --nats-password-file: cannot read \"{secret}\": permission denied", Assert.Single(run.Output));
        }
        await using (var run = await RunToEndAsync(env, ["--monitor-urls", "http://127.0.0.1:1", "--config", config], "setpriv", asNobody, dll))
        {
            Assert.Equal(2, run.ExitCode);
            Assert.Equal($"natsjs-exporter: config file: cannot read \"{config}\": permission denied", Assert.Single(run.Output));
        }
    }
}
