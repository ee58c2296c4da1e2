using System.Collections.Concurrent;
using System.Diagnostics;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

/// <summary>
/// A real Alertmanager (Debian package prometheus-alertmanager) on 127.0.0.1, with no gossip
/// port (empty --cluster.listen-address), configured from the given YAML text.
/// </summary>
public sealed class AlertmanagerProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly Process _process;
    private readonly string _dir;

    public int Port { get; }
    public string Address => $"127.0.0.1:{Port}";
    public string BaseUrl => $"http://{Address}";
    public ConcurrentQueue<string> Output { get; } = new();

    private AlertmanagerProcess(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
    }

    public static string Binary => PrometheusProcess.Find("ALERTMANAGER_BIN", "prometheus-alertmanager");

    public static async Task<AlertmanagerProcess> StartAsync(string configYaml)
    {
        var dir = Directory.CreateTempSubdirectory("natsjs-alertmanager-").FullName;
        int port = Ports.Free();
        var config = Path.Combine(dir, "alertmanager.yml");
        File.WriteAllText(config, configYaml);
        var psi = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[]
        {
            $"--config.file={config}", $"--storage.path={Path.Combine(dir, "data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn",
        }) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        var am = new AlertmanagerProcess(p, dir, port);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) am.Output.Enqueue(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) am.Output.Enqueue(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (p.HasExited) throw new InvalidOperationException($"alertmanager exited with {p.ExitCode}:\n{string.Join("\n", am.Output)}");
            try
            {
                if ((await Http.GetAsync(am.BaseUrl + "/-/ready")).IsSuccessStatusCode) return am;
            }
            catch (HttpRequestException) { }
            await Task.Delay(200);
        }
        await am.DisposeAsync();
        throw new TimeoutException("alertmanager not ready within 30 s:\n" + string.Join("\n", am.Output));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(new CancellationTokenSource(10_000).Token);
            }
        }
        catch (Exception) { }
        _process.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (Exception) { }
    }
}
