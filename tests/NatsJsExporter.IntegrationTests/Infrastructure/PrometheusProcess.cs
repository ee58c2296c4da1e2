using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

/// <summary>
/// A real Prometheus (Debian package `prometheus`) on 127.0.0.1 with a temp data dir, scraping
/// the given targets. Optional rule files and an Alertmanager URL. Killed and cleaned on dispose.
/// </summary>
public sealed class PrometheusProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly Process _process;
    private readonly string _dir;

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public ConcurrentQueue<string> Output { get; } = new();

    private PrometheusProcess(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
    }

    public static string Binary => Find("PROMETHEUS_BIN", "prometheus");

    internal static string Find(string envVar, string name)
    {
        if (Environment.GetEnvironmentVariable(envVar) is { Length: > 0 } env) return env;
        return new[] { "/usr/bin", "/usr/local/bin", "/usr/sbin" }.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException($"{name} not found: run scripts/install-deps.sh (Debian packages prometheus, prometheus-alertmanager) or set {envVar}");
    }

    /// <param name="scrapeTargets">host:port of each exporter to scrape (job "natsjs").</param>
    /// <param name="ruleFiles">Rule files to load (absolute paths).</param>
    /// <param name="alertmanagerUrl">host:port of an Alertmanager, or null.</param>
    public static async Task<PrometheusProcess> StartAsync(IEnumerable<string> scrapeTargets, IEnumerable<string>? ruleFiles = null,
        string? alertmanagerUrl = null, string scrapeInterval = "1s", string evaluationInterval = "1s")
    {
        var dir = Directory.CreateTempSubdirectory("natsjs-prometheus-").FullName;
        int port = Ports.Free();
        var targets = string.Join(", ", scrapeTargets.Select(t => $"'{t}'"));
        var rules = string.Join("\n", (ruleFiles ?? []).Select(r => $"  - '{r}'"));
        var alerting = alertmanagerUrl is null ? "" : $"""
            alerting:
              alertmanagers:
                - static_configs:
                    - targets: ['{alertmanagerUrl}']
            """;
        File.WriteAllText(Path.Combine(dir, "prometheus.yml"), $"""
            global:
              scrape_interval: {scrapeInterval}
              evaluation_interval: {evaluationInterval}
            rule_files:
            {rules}
            {alerting}
            scrape_configs:
              - job_name: natsjs
                static_configs:
                  - targets: [{targets}]
            """);
        var psi = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir,
        };
        foreach (var a in new[]
        {
            $"--config.file={Path.Combine(dir, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(dir, "data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle", "--log.level=warn",
        }) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        var prom = new PrometheusProcess(p, dir, port);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) prom.Output.Enqueue(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) prom.Output.Enqueue(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (p.HasExited) throw new InvalidOperationException($"prometheus exited with {p.ExitCode}:\n{string.Join("\n", prom.Output)}");
            try
            {
                if ((await Http.GetAsync(prom.BaseUrl + "/-/ready")).IsSuccessStatusCode) return prom;
            }
            catch (HttpRequestException) { }
            await Task.Delay(200);
        }
        await prom.DisposeAsync();
        throw new TimeoutException("prometheus not ready within 30 s:\n" + string.Join("\n", prom.Output));
    }

    /// <summary>Runs an instant query; returns the result array (vector or matrix entries).</summary>
    public async Task<JsonArray> QueryAsync(string promql)
    {
        var url = $"{BaseUrl}/api/v1/query?query={Uri.EscapeDataString(promql)}";
        var response = await Http.GetAsync(url);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        if (body?["status"]?.GetValue<string>() != "success")
            throw new InvalidOperationException($"query failed: {promql}\n{body?.ToJsonString()}");
        return body["data"]?["result"]?.AsArray() ?? [];
    }

    /// <summary>Alerts as Prometheus sees them (pending and firing).</summary>
    public async Task<JsonArray> AlertsAsync()
    {
        var body = await Http.GetFromJsonAsync<JsonObject>(BaseUrl + "/api/v1/alerts");
        return body?["data"]?["alerts"]?.AsArray() ?? [];
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
