using System.Diagnostics;

namespace NatsJsExporter.Tests.Support;

/// <summary>Runs promtool; a missing binary fails the test with what to do (never a skip).</summary>
public static class Promtool
{
    public static string Binary =>
        Environment.GetEnvironmentVariable("PROMTOOL") is { Length: > 0 } p ? p
        : new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists)
          ?? throw new InvalidOperationException("promtool not found: run scripts/install-deps.sh (Debian package prometheus) or set PROMTOOL");

    public static (int ExitCode, string Output) CheckMetrics(byte[] exposition)
    {
        var psi = new ProcessStartInfo(Binary, "check metrics")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.BaseStream.Write(exposition);
        p.StandardInput.Close();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("promtool check metrics did not finish within 2 minutes");
        }
        p.WaitForExit(); // the output readers are done
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
