using System.Collections.Concurrent;
using System.Diagnostics;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

/// <summary>
/// A real Alertmanager (Debian package prometheus-alertmanager) on 127.0.0.1, with no gossip
/// port (empty --cluster.listen-address), configured from the given YAML text.
/// </summary>
public sealed class AlertmanagerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    public int Port { get; }
    public string Address => $"127.0.0.1:{Port}";
    public string BaseUrl => $"http://{Address}";
    public ConcurrentQueue<string> Output { get; }

    private AlertmanagerProcess(Process process, string dir, int port, ConcurrentQueue<string> output)
    {
        _process = process;
        Output = output;
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
        var psi = new ProcessStartInfo(Binary);
        foreach (var a in new[]
        {
            $"--config.file={config}", $"--storage.path={Path.Combine(dir, "data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn",
        }) psi.ArgumentList.Add(a);
        var output = new ConcurrentQueue<string>();
        var p = ChildProcess.Start(psi, output);
        var am = new AlertmanagerProcess(p, dir, port, output);
        try
        {
            await ChildProcess.WaitReadyAsync(p, am.BaseUrl + "/-/ready", output, "alertmanager");
            return am;
        }
        catch
        {
            await am.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcess.StopAsync(_process);
        try { Directory.Delete(_dir, recursive: true); } catch (Exception) { }
    }
}
