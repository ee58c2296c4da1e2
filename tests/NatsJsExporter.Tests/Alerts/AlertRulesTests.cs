using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace NatsJsExporter.Tests.Alerts;

/// <summary>
/// Checks alerts/: the rules compile (promtool check rules), their unit tests pass
/// (promtool test rules), the example Alertmanager configuration is valid (amtool), the
/// Kubernetes PrometheusRule holds exactly the plain rule groups, and every alert and metric
/// the rules use is documented, tested and produced by the exporter.
/// A missing promtool/amtool fails the test (never a skip): run scripts/install-deps.sh.
/// </summary>
public sealed partial class AlertRulesTests
{
    private const string RulesFile = "alerts/natsjs.rules.yml";
    private const string AlertmanagerFile = "alerts/alertmanager.example.yml";
    private const string PrometheusRuleFile = "deploy/kubernetes/base/prometheusrule.yml";
    private const string GeneratorScript = "scripts/gen-prometheusrule.sh";
    private const string RunbookPrefix = "https://github.com/natsjs/natsjs-exporter/blob/main/docs/runbooks.md#";

    private static readonly Lazy<string> RootLazy = new(FindRepoRoot);
    private static string Root => RootLazy.Value;

    [Fact]
    public void PromtoolCheckRules()
    {
        var result = RunTool("promtool", "check", "rules", RulesFile);
        AssertSucceeded(result, "promtool check rules " + RulesFile);
    }

    [Fact]
    public void PromtoolTestRules()
    {
        var testFiles = Directory.GetFiles(Path.Combine(Root, "alerts", "tests"), "*.yml")
            .Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.True(testFiles.Length > 0, "no promtool unit tests found in alerts/tests/*.yml");

        var result = RunTool("promtool", ["test", "rules", .. testFiles]);
        AssertSucceeded(result, "promtool test rules " + string.Join(' ', testFiles));
    }

    [Fact]
    public void AmtoolCheckConfig()
    {
        var result = RunTool("amtool", "check-config", AlertmanagerFile);
        AssertSucceeded(result, "amtool check-config " + AlertmanagerFile);
    }

    [Fact]
    public void PrometheusRuleIsUpToDateWithGenerator()
    {
        var tmp = Path.Combine(Path.GetTempPath(), $"natsjs-prometheusrule-{Guid.NewGuid():N}.yml");
        try
        {
            var result = Run(FindOnPath("bash") ?? "/bin/bash", [GeneratorScript, tmp]);
            AssertSucceeded(result, $"bash {GeneratorScript} {tmp}");
            var expected = File.ReadAllText(tmp);
            var actual = ReadRepoFile(PrometheusRuleFile);
            Assert.True(expected == actual,
                $"{PrometheusRuleFile} differs from what {GeneratorScript} generates from {RulesFile}: " +
                $"run {GeneratorScript} and commit the result.");
        }
        finally
        {
            File.Delete(tmp);
        }
    }

    /// <summary>Independent of the generator: the PrometheusRule's spec is the plain file's groups, verbatim.</summary>
    [Fact]
    public void PrometheusRuleHoldsTheSameGroupsAsPlainRules()
    {
        var crd = ReadLines(PrometheusRuleFile);
        Assert.Contains("apiVersion: monitoring.coreos.com/v1", crd);
        Assert.Contains("kind: PrometheusRule", crd);

        var specAt = Array.IndexOf(crd, "spec:");
        Assert.True(specAt >= 0, $"{PrometheusRuleFile} has no top-level 'spec:' line");
        var specGroups = crd.Skip(specAt + 1)
            .Select(l => l.Length == 0 ? l : l.StartsWith("  ", StringComparison.Ordinal) ? l[2..] : "<not indented> " + l)
            .ToArray();

        var plain = ReadLines(RulesFile);
        var groupsAt = Array.IndexOf(plain, "groups:");
        Assert.True(groupsAt >= 0, $"{RulesFile} has no top-level 'groups:' line");
        var plainGroups = plain.Skip(groupsAt).ToArray();

        Assert.Equal(string.Join('\n', plainGroups).TrimEnd(), string.Join('\n', specGroups).TrimEnd());
    }

    [Fact]
    public void EveryAlertHasSeverityAnnotationsAndRunbook()
    {
        var problems = new List<string>();
        foreach (var (name, block) in AlertBlocks())
        {
            if (!SeverityRegex().IsMatch(block))
                problems.Add($"{name}: needs a severity label of critical or warning");
            if (!Regex.IsMatch(block, @"^\s+for:\s+\d+[smh]\s*$", RegexOptions.Multiline))
                problems.Add($"{name}: needs a for: duration");
            foreach (var annotation in new[] { "summary", "description" })
                if (!Regex.IsMatch(block, $@"^\s+{annotation}:\s*\S", RegexOptions.Multiline))
                    problems.Add($"{name}: needs a {annotation} annotation");
            var expectedRunbook = RunbookPrefix + name.ToLowerInvariant();
            if (!block.Contains("runbook_url: " + expectedRunbook + "\n", StringComparison.Ordinal))
                problems.Add($"{name}: runbook_url must be {expectedRunbook}");
        }
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void EveryAlertHasARunbookSection()
    {
        var anchors = ReadLines("docs/runbooks.md")
            .Select(l => HeadingRegex().Match(l))
            .Where(m => m.Success)
            .Select(m => GitHubAnchor(m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);

        var missing = AlertNames().Where(n => !anchors.Contains(n.ToLowerInvariant())).ToList();
        Assert.True(missing.Count == 0, "docs/runbooks.md lacks a section for: " + string.Join(", ", missing));
    }

    [Fact]
    public void EveryAlertIsUnitTestedAndListedInReadme()
    {
        var tests = string.Join('\n', Directory.GetFiles(Path.Combine(Root, "alerts", "tests"), "*.yml").Select(File.ReadAllText));
        var readme = ReadRepoFile("alerts/README.md");
        var problems = new List<string>();
        foreach (var name in AlertNames())
        {
            if (!Regex.IsMatch(tests, $@"alertname:\s*{Regex.Escape(name)}\s*$", RegexOptions.Multiline))
                problems.Add($"{name}: no promtool test in alerts/tests/*.yml");
            if (!readme.Contains($"[{name}]", StringComparison.Ordinal))
                problems.Add($"{name}: not listed in alerts/README.md");
        }
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    /// <summary>
    /// Contract between the rules and the exporter: every natsjs_* metric the rules mention
    /// must be in the README's metric table or in a golden exposition file.
    /// </summary>
    [Fact]
    public void EveryMetricInAlertsIsKnown()
    {
        var goldenDir = Path.Combine(Root, "tests", "NatsJsExporter.Tests", "testdata", "golden");
        var goldenFiles = Directory.Exists(goldenDir) ? Directory.GetFiles(goldenDir, "*.prom") : [];
        Assert.True(goldenFiles.Length > 0,
            $"no golden files in {Path.GetRelativePath(Root, goldenDir)}/*.prom: the metric contract of " +
            $"{RulesFile} cannot be checked until the exporter's golden expositions exist (scripts/update-golden.sh).");

        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in goldenFiles)
            foreach (var line in File.ReadLines(file))
            {
                var m = GoldenMetricRegex().Match(line);
                if (m.Success)
                    known.Add(m.Groups[1].Value);
            }

        var readmePath = Path.Combine(Root, "README.md");
        if (File.Exists(readmePath))
            foreach (var line in File.ReadLines(readmePath).Where(l => l.TrimStart().StartsWith('|')))
                foreach (Match m in MetricNameRegex().Matches(line))
                    known.Add(m.Value);

        var used = MetricNameRegex().Matches(ReadRepoFile(RulesFile)).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(used);
        var unknown = used.Where(n => !known.Contains(n)).Order(StringComparer.Ordinal).ToList();
        Assert.True(unknown.Count == 0,
            $"{RulesFile} uses metrics that are neither in README.md's metric table nor in any " +
            $"testdata/golden/*.prom file (renamed or not exported?): {string.Join(", ", unknown)}");
    }

    // ------------------------------------------------------------------------------------

    private static IEnumerable<string> AlertNames() => AlertBlocks().Select(b => b.Name).Distinct();

    /// <summary>Each `- alert:` rule of the rules file with its text up to the next rule.</summary>
    private static IEnumerable<(string Name, string Block)> AlertBlocks()
    {
        var text = ReadRepoFile(RulesFile).Replace("\r\n", "\n");
        var starts = RuleStartRegex().Matches(text).ToList();
        Assert.NotEmpty(starts);
        for (var i = 0; i < starts.Count; i++)
        {
            var end = i + 1 < starts.Count ? starts[i + 1].Index : text.Length;
            var block = text[starts[i].Index..end];
            var name = AlertNameRegex().Match(block);
            if (name.Success)
                yield return (name.Groups[1].Value, block);
        }
    }

    /// <summary>GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens.</summary>
    private static string GitHubAnchor(string heading)
    {
        var sb = new StringBuilder();
        foreach (var c in heading.Trim().ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_')
                sb.Append(c);
            else if (c == ' ')
                sb.Append('-');
        }
        return sb.ToString();
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NatsJsExporter.sln")))
            dir = dir.Parent;
        return dir?.FullName
            ?? throw new InvalidOperationException("NatsJsExporter.sln not found above " + AppContext.BaseDirectory);
    }

    private static string ReadRepoFile(string relative) => File.ReadAllText(Path.Combine(Root, relative));

    private static string[] ReadLines(string relative) =>
        ReadRepoFile(relative).Replace("\r\n", "\n").Split('\n');

    private static string? FindOnPath(string tool)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Append("/usr/local/bin")
            .Select(d => Path.Combine(d, tool))
            .FirstOrDefault(File.Exists);
    }

    private static ProcessResult RunTool(string tool, params string[] args)
    {
        var binary = FindOnPath(tool);
        if (binary is null)
        {
            var package = tool == "amtool" ? "prometheus-alertmanager" : "prometheus";
            var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
            Assert.Fail(ci
                ? $"{tool} is not installed on this CI machine (CI=true): the CI run must install it first " +
                  $"with scripts/install-deps.sh (Debian package {package}). Alert checks are never skipped."
                : $"{tool} not found on PATH: run scripts/install-deps.sh (as root; installs the Debian " +
                  $"package {package}) and re-run the tests.");
        }
        return Run(binary!, args);
    }

    private static ProcessResult Run(string binary, string[] args)
    {
        var psi = new ProcessStartInfo(binary)
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);

        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + binary);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{binary} {string.Join(' ', args)} did not finish within 2 minutes");
        }
        p.WaitForExit();
        return new ProcessResult(p.ExitCode, stdout.Result + stderr.Result);
    }

    private static void AssertSucceeded(ProcessResult result, string command) =>
        Assert.True(result.ExitCode == 0, $"`{command}` exited with {result.ExitCode}:\n{result.Output}");

    private sealed record ProcessResult(int ExitCode, string Output);

    [GeneratedRegex(@"^\s*- alert:", RegexOptions.Multiline)]
    private static partial Regex RuleStartRegex();

    [GeneratedRegex(@"^\s*- alert:\s*(\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex AlertNameRegex();

    [GeneratedRegex(@"^\s+severity:\s*(critical|warning)\s*$", RegexOptions.Multiline)]
    private static partial Regex SeverityRegex();

    [GeneratedRegex(@"^#{1,6}\s+(.+?)\s*$")]
    private static partial Regex HeadingRegex();

    [GeneratedRegex(@"natsjs_[a-z0-9_]+")]
    private static partial Regex MetricNameRegex();

    [GeneratedRegex(@"^(?:# (?:HELP|TYPE) )?(natsjs_[a-z0-9_]+)[\s{]")]
    private static partial Regex GoldenMetricRegex();
}
