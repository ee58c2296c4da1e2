using System.Text.RegularExpressions;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Golden;

/// <summary>
/// Every metric family the README documents is rendered by some golden file (so a fixture proves
/// it comes out of a real answer), and every family a golden file has is documented.
/// </summary>
public class ReadmeCoverageTests
{
    /// <summary>The first column of the README's metric tables: | `natsjs_…` | type | labels | meaning |</summary>
    private static HashSet<string> ReadmeFamilies() =>
        File.ReadLines(Path.Combine(Repo.Root, "README.md"))
            .Select(l => Regex.Match(l, @"^\| `(natsjs_[a-z0-9_]+)`"))
            .Where(m => m.Success)
            .Select(m => m.Groups[1].Value)
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>Family name → golden files that declare it (# TYPE lines).</summary>
    private static Dictionary<string, List<string>> GoldenFamilies()
    {
        var families = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(Path.Combine(Repo.TestData, "golden"), "*.prom").Order(StringComparer.Ordinal))
            foreach (var line in File.ReadLines(file).Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)))
            {
                var name = line.Split(' ')[2];
                if (!families.TryGetValue(name, out var list)) families[name] = list = [];
                list.Add(Path.GetFileName(file));
            }
        return families;
    }

    [Fact]
    public void Every_family_in_the_readme_is_rendered_by_a_golden_file()
    {
        var documented = ReadmeFamilies();
        Assert.True(documented.Count > 50, $"found only {documented.Count} metric rows in README.md: has the table format changed?");
        var rendered = GoldenFamilies();
        var missing = documented.Where(f => !rendered.ContainsKey(f)).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0,
            "documented in README.md but rendered by no golden file (add a fixture, real if possible, that has them):\n  " + string.Join("\n  ", missing));
    }

    [Fact]
    public void Every_family_a_golden_file_renders_is_in_the_readme()
    {
        var documented = ReadmeFamilies();
        var undocumented = GoldenFamilies().Keys.Where(f => !documented.Contains(f)).Order(StringComparer.Ordinal).ToList();
        Assert.True(undocumented.Count == 0, "rendered but not in README.md's metric tables:\n  " + string.Join("\n  ", undocumented));
    }
}
