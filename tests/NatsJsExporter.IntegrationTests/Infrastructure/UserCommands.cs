using System.Diagnostics;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

/// <summary>
/// The commands a user runs after the README's set-up: natsjs-exporter on PATH, the repository's
/// scripts, and the demo/bench/soak tools as the solution build leaves them.
/// </summary>
public static class UserCommands
{
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>natsjs-exporter as the shell finds it on PATH; missing fails the test (never a skip) with what to do.</summary>
    public static string InstalledExporter =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "natsjs-exporter"))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("natsjs-exporter is not on PATH: run scripts/install.sh (scripts/test.sh and scripts/demo.sh do)");

    /// <summary>The build output of a tool project (same configuration as this test assembly).</summary>
    public static string ToolDll(string project, string assembly)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        var path = Path.Combine(RepoRoot, project, "bin", configuration, "net10.0", assembly + ".dll");
        return File.Exists(path) ? path : throw new InvalidOperationException($"{path} not found: build the solution first (dotnet build NatsJsExporter.sln -c {configuration})");
    }

    /// <summary>Runs a command to its end: exit code, stdout, stderr.</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string fileName, IEnumerable<string> args, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoRoot,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', psi.ArgumentList)} did not end within {timeout.TotalSeconds:0}s");
        }
        return (p.ExitCode, await stdout, await stderr);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NatsJsExporter.sln"))) return dir.FullName;
        throw new InvalidOperationException("repository root (NatsJsExporter.sln) not found above " + AppContext.BaseDirectory);
    }
}
