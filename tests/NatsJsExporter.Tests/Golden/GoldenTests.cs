using System.Text;
using NatsJsExporter.Metrics;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Golden;

/// <summary>
/// Each fixture folder (real or authored /jsz answers) is merged and rendered, and the result is
/// diffed against testdata/golden/&lt;fixture&gt;.prom. Regenerate on purpose with
/// NATSJS_UPDATE_GOLDEN=1 (scripts/update-golden.sh) and review the diff in its own commit.
/// </summary>
public class GoldenTests
{
    public static TheoryData<string> FixtureNames() => new(Fixtures.All());

    public static bool Update => Environment.GetEnvironmentVariable("NATSJS_UPDATE_GOLDEN") == "1";

    public static string GoldenPath(string fixture) => Path.Combine(Repo.TestData, "golden", fixture + ".prom");

    public static byte[] Render(string fixture) => MetricsRenderer.Render(Fixtures.Snapshot(fixture), "test");

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Exposition_matches_golden_file(string fixture)
    {
        var actual = Encoding.UTF8.GetString(Render(fixture));
        var path = GoldenPath(fixture);
        if (Update)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
        }
        Assert.True(File.Exists(path), $"{path} is missing: run scripts/update-golden.sh and review the new file");
        var expected = File.ReadAllText(path);
        if (expected != actual)
        {
            var e = expected.Split('\n');
            var a = actual.Split('\n');
            int i = 0;
            while (i < e.Length && i < a.Length && e[i] == a[i]) i++;
            Assert.Fail($"{fixture}: rendered metrics differ from {path} at line {i + 1}:\n  expected: {(i < e.Length ? e[i] : "<end>")}\n  actual:   {(i < a.Length ? a[i] : "<end>")}\n" +
                        "If the change is intended, run scripts/update-golden.sh and commit the golden diff on its own.");
        }
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Exposition_passes_promtool_check_metrics(string fixture)
    {
        var (code, output) = Promtool.CheckMetrics(Render(fixture));
        Assert.True(code == 0, $"promtool check metrics failed for {fixture}:\n{output}");
    }
}
