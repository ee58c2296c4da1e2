using System.Collections.Concurrent;
using System.Diagnostics;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

/// <summary>Starting, waiting for and stopping the real processes the tests run (exporter, Prometheus, Alertmanager).</summary>
internal static class ChildProcess
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>Starts a process with its stdout and stderr collected line by line into <paramref name="output"/>.</summary>
    public static Process Start(ProcessStartInfo psi, ConcurrentQueue<string> output)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + psi.FileName);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>Waits until <paramref name="readyUrl"/> answers 2xx; fails with the process output if it exits or the time runs out.</summary>
    public static async Task WaitReadyAsync(Process p, string readyUrl, ConcurrentQueue<string> output, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (p.HasExited) throw new InvalidOperationException($"{what} exited with {p.ExitCode}:\n{string.Join("\n", output)}");
            try
            {
                if ((await Http.GetAsync(readyUrl)).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{what} not ready within {limit.TotalSeconds:0} s:\n{string.Join("\n", output)}");
    }

    /// <summary>Kills the process tree (if still running), waits for it, and disposes it; never throws.</summary>
    public static async Task StopAsync(Process p)
    {
        try
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                await p.WaitForExitAsync(new CancellationTokenSource(10_000).Token);
            }
        }
        catch (Exception) { }
        p.Dispose();
    }

    /// <summary>Starts a nats-server with its output appended to <paramref name="logPath"/>.</summary>
    public static Process StartNatsServer(string binary, string configPath, string logPath)
    {
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var psi = new ProcessStartInfo(binary, $"-c {configPath}") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + binary);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>Stops a (possibly frozen) nats-server and disposes it; never throws.</summary>
    public static async Task StopNatsServerAsync(Process? p, bool frozen)
    {
        if (p is null) return;
        try
        {
            if (!p.HasExited && frozen) Signals.Send(p.Id, Signals.SIGCONT);
        }
        catch (Exception) { }
        await StopAsync(p);
    }

    /// <summary>The last lines of every *.log in a folder, for failure messages.</summary>
    public static string TailLogs(string dir, int lines)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var f in Directory.GetFiles(dir, "*.log").Order(StringComparer.Ordinal))
        {
            sb.AppendLine($"--- {Path.GetFileName(f)} (last {lines} lines)");
            foreach (var l in File.ReadAllLines(f).TakeLast(lines)) sb.AppendLine(l);
        }
        return sb.ToString();
    }
}
