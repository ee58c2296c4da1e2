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
    public ConcurrentQueue<string> Output { get; }

    private PrometheusProcess(Process process, string dir, int port, ConcurrentQueue<string> output)
    {
        _process = process;
        Output = output;
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
        var targets = string.Join(", ", scrapeTargets.Select(t => $"'{t}'"));
        var rules = string.Join("\n", (ruleFiles ?? []).Select(r => $"  - '{r}'"));
        var alerting = alertmanagerUrl is null ? "" : $"""
            alerting:
              alertmanagers:
                - static_configs:
                    - targets: ['{alertmanagerUrl}']
            """;
        return await StartWithConfigAsync($"""
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
    }

    /// <summary>Starts Prometheus with the given prometheus.yml text (rule files and targets as absolute paths / host:port).</summary>
    public static async Task<PrometheusProcess> StartWithConfigAsync(string configYaml)
    {
        var dir = Directory.CreateTempSubdirectory("natsjs-prometheus-").FullName;
        int port = Ports.Free();
        File.WriteAllText(Path.Combine(dir, "prometheus.yml"), configYaml);
        var psi = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir,
        };
        foreach (var a in new[]
        {
            $"--config.file={Path.Combine(dir, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(dir, "data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle", "--log.level=warn",
        }) psi.ArgumentList.Add(a);
        var output = new ConcurrentQueue<string>();
        var p = ChildProcess.Start(psi, output);
        var prom = new PrometheusProcess(p, dir, port, output);
        try
        {
            await ChildProcess.WaitReadyAsync(p, prom.BaseUrl + "/-/ready", output, "prometheus");
            return prom;
        }
        catch
        {
            await prom.DisposeAsync();
            throw;
        }
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
        await ChildProcess.StopAsync(_process);
        try { Directory.Delete(_dir, recursive: true); } catch (Exception) { }
    }
}
