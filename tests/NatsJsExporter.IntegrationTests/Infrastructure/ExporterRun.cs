using System.Collections.Concurrent;
using System.Diagnostics;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

/// <summary>
/// The real exporter process for hardening tests: any arguments and environment, any way of
/// checking readiness (TLS, basic auth), signals, exit code and every line it printed.
/// </summary>
public sealed class ExporterRun : IAsyncDisposable
{
    private readonly Process _process;
    public ConcurrentQueue<string> Output { get; } = new();
    public int Port { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public string AllOutput => string.Join("\n", Output);

    private ExporterRun(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>Starts dotnet natsjs-exporter.dll; --listen 127.0.0.1:&lt;free port&gt; is added unless the environment sets NATSJS_LISTEN.</summary>
    public static ExporterRun Start(IReadOnlyDictionary<string, string>? environment, IEnumerable<string> args, string? dll = null, string? fileName = null,
        IEnumerable<string>? prefix = null)
    {
        int port = Ports.Free();
        var psi = new ProcessStartInfo(fileName ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in prefix ?? []) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(dll ?? ExporterProcess.DllPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("NATSJS_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            psi.Environment[key] = value;
        if (!psi.Environment.ContainsKey("NATSJS_LISTEN"))
            psi.Environment["NATSJS_LISTEN"] = $"127.0.0.1:{port}";
        else
            port = int.Parse(psi.Environment["NATSJS_LISTEN"]!.Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture);
        var p = Process.Start(psi)!;
        var run = new ExporterRun(p, port);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) run.Output.Enqueue(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) run.Output.Enqueue(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return run;
    }

    /// <summary>Waits until the request succeeds (the exporter is up and ready).</summary>
    public async Task WaitReadyAsync(HttpClient http, string url, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"exporter exited with {_process.ExitCode}:\n{AllOutput}");
            try
            {
                if ((await http.GetAsync(url)).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{url} not ready within {timeout.TotalSeconds:0}s:\n{AllOutput}");
    }

    public void Signal(int signal) => Signals.Send(_process.Id, signal);

    /// <summary>Waits for the process to end; false when it did not within the time.</summary>
    public async Task<bool> WaitExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            _process.WaitForExit(); // drain the output
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcess.StopAsync(_process);
    }
}
