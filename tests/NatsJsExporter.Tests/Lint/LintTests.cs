using System.Diagnostics;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Lint;

/// <summary>scripts/lint.sh: shellcheck over every shell script, yamllint over every YAML file. A missing tool fails.</summary>
public class LintTests
{
    [Fact]
    public async Task Shell_scripts_and_yaml_files_are_lint_clean()
    {
        var psi = new ProcessStartInfo("bash", "scripts/lint.sh") { WorkingDirectory = Repo.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
        Assert.True(p.ExitCode == 0, await stdout + await stderr);
    }
}
