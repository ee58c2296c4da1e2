using System.Collections.Concurrent;
using System.Diagnostics;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

/// <summary>The real exporter binary (natsjs-exporter.dll from the build), run as its own process.</summary>
public sealed class ExporterProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly Process _process;

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public ConcurrentQueue<string> Output { get; }

    private ExporterProcess(Process process, int port, ConcurrentQueue<string> output)
    {
        _process = process;
        Output = output;
        Port = port;
    }

    public static string DllPath
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "natsjs-exporter.dll");
            return File.Exists(path) ? path : throw new InvalidOperationException($"{path} not found; build the solution first");
        }
    }

    public static Task<ExporterProcess> StartAsync(params string[] args) => StartWithEnvironmentAsync(null, args);

    /// <summary>Starts the exporter with extra environment variables (e.g. a secret in NATSJS_NATS_PASSWORD).</summary>
    public static async Task<ExporterProcess> StartWithEnvironmentAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        int port = Ports.Free();
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(DllPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("--listen");
        psi.ArgumentList.Add($"127.0.0.1:{port}");
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("NATSJS_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            psi.Environment[key] = value;
        var output = new ConcurrentQueue<string>();
        var p = ChildProcess.Start(psi, output);
        var exporter = new ExporterProcess(p, port, output);
        try
        {
            await ChildProcess.WaitReadyAsync(p, exporter.BaseUrl + "/readyz", output, "exporter");
            return exporter;
        }
        catch
        {
            await exporter.DisposeAsync();
            throw;
        }
    }

    public async Task<string> MetricsTextAsync() => await Http.GetStringAsync(BaseUrl + "/metrics");

    public async Task<Exposition> MetricsAsync() => Exposition.Parse(await MetricsTextAsync());

    /// <summary>Polls /metrics until the condition holds; fails with the last exposition's relevant lines otherwise.</summary>
    public async Task<Exposition> WaitForAsync(string what, Func<Exposition, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exposition last = Exposition.Parse("");
        while (DateTime.UtcNow < deadline)
        {
            last = await MetricsAsync();
            if (condition(last)) return last;
            await Task.Delay(250);
        }
        throw new TimeoutException($"within {timeout.TotalSeconds:0}s: {what}\nlast /metrics natsjs lines:\n{last.Dump()}\nexporter log:\n{string.Join("\n", Output.TakeLast(30))}");
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcess.StopAsync(_process);
    }
}
