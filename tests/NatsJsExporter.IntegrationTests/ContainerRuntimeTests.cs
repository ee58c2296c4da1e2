using System.Diagnostics;
using NatsJsExporter.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// There is no container engine here, so this runs what the Dockerfile ships the way the image
/// runs it: the same `dotnet publish` output, as nobody (65534), from a folder nobody can write,
/// configured only by environment, with HOME pointing nowhere; plus the --healthcheck command.
/// </summary>
[Collection("real processes")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ContainerRuntimeTests(ITestOutputHelper output)
{
    private const string Publish = "dotnet publish src/NatsJsExporter/NatsJsExporter.csproj -c Release --no-restore -o /app";

    private static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NatsJsExporter.sln"))) dir = dir.Parent;
            return dir!.FullName;
        }
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> args, string? cwd = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = cwd ?? Root };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync(new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(8)).Token);
        return (p.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task The_dockerfile_is_multi_stage_non_root_read_only_friendly_with_a_healthcheck()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Root, "Dockerfile"));
        Assert.Contains("RUN " + Publish, dockerfile);
        Assert.Equal(2, dockerfile.Split('\n').Count(l => l.StartsWith("FROM ", StringComparison.Ordinal)));
        Assert.Contains("FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled", dockerfile);
        Assert.Contains("USER 65534:65534", dockerfile);
        Assert.Contains("CMD [\"dotnet\", \"/app/natsjs-exporter.dll\", \"--healthcheck\"]", dockerfile);
        Assert.Contains("DOTNET_EnableDiagnostics=0", dockerfile);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task The_published_exporter_runs_as_nobody_from_a_read_only_folder_configured_by_environment()
    {
        var work = Directory.CreateTempSubdirectory("natsjs-container-").FullName;
        try
        {
            var app = Path.Combine(work, "app");
            var publish = Publish.Split(' ').Skip(1).Select(a => a == "/app" ? app : a).ToList();
            publish.Remove("--no-restore"); // the image restores in its own layer first; here restore and publish in one go
            var (code, text) = await RunAsync("dotnet", publish);
            Assert.True(code == 0, text);

            // Read-only for everyone: directories r-x, files r--, owned by root.
            File.SetUnixFileMode(work, (UnixFileMode)Convert.ToInt32("755", 8));
            foreach (var d in Directory.GetDirectories(app, "*", SearchOption.AllDirectories).Append(app))
                File.SetUnixFileMode(d, (UnixFileMode)Convert.ToInt32("555", 8));
            foreach (var f in Directory.GetFiles(app, "*", SearchOption.AllDirectories))
                File.SetUnixFileMode(f, (UnixFileMode)Convert.ToInt32("444", 8));
            var before = Directory.GetFileSystemEntries(app, "*", SearchOption.AllDirectories).Order().ToArray();

            await using var cluster = await NatsCluster.StartAsync(size: 1);
            int port = Ports.Free();
            var env = new Dictionary<string, string>
            {
                ["NATSJS_MONITOR_URLS"] = cluster.MonitorUrls,
                ["NATSJS_LISTEN"] = $"127.0.0.1:{port}",
                ["NATSJS_INTERVAL"] = "1s",
                ["NATSJS_TIMEOUT"] = "800ms",
                ["HOME"] = "/nonexistent",
                ["DOTNET_EnableDiagnostics"] = "0",
                ["DOTNET_gcServer"] = "0",
                ["DOTNET_GCHeapHardLimitPercent"] = "0x4B",
            };
            string[] asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", "--", "dotnet"];
            await using var run = ExporterRun.Start(env, [], Path.Combine(app, "natsjs-exporter.dll"), "setpriv", asNobody);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            await run.WaitReadyAsync(http, $"http://127.0.0.1:{port}/readyz", TimeSpan.FromSeconds(60));
            var deadline = DateTime.UtcNow.AddSeconds(30);
            string metrics;
            do { metrics = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics"); await Task.Delay(300); }
            while (!metrics.Contains("natsjs_up{server=\"n1\"} 1", StringComparison.Ordinal) && DateTime.UtcNow < deadline);
            Assert.Contains("natsjs_up{server=\"n1\"} 1", metrics);

            // The process really is nobody's.
            var status = File.ReadAllLines($"/proc/{run.Pid}/status");
            var uid = status.Single(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            output.WriteLine(uid);
            Assert.All(uid.Split('\t', StringSplitOptions.RemoveEmptyEntries).Skip(1), u => Assert.Equal("65534", u.Trim()));

            // HEALTHCHECK: the same binary, the same environment, as nobody.
            await using (var check = ExporterRun.Start(env, ["--healthcheck"], Path.Combine(app, "natsjs-exporter.dll"), "setpriv", asNobody))
            {
                Assert.True(await check.WaitExitAsync(TimeSpan.FromSeconds(60)));
                Assert.True(check.ExitCode == 0, check.AllOutput);
            }

            run.Signal(Signals.SIGTERM);
            Assert.True(await run.WaitExitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(0, run.ExitCode);
            Assert.DoesNotContain(run.Output, l => l.Contains("ERR", StringComparison.Ordinal) || l.Contains("FTL", StringComparison.Ordinal)
                || l.Contains("denied", StringComparison.OrdinalIgnoreCase) || l.Contains("read-only", StringComparison.OrdinalIgnoreCase));
            Assert.Equal(before, Directory.GetFileSystemEntries(app, "*", SearchOption.AllDirectories).Order().ToArray());
        }
        finally
        {
            foreach (var d in Directory.GetDirectories(work, "*", SearchOption.AllDirectories))
                File.SetUnixFileMode(d, (UnixFileMode)Convert.ToInt32("755", 8));
            Directory.Delete(work, recursive: true);
        }
    }
}
