using System.Text;
using NatsJsExporter.Metrics;
using NatsJsExporter.Tests.Support;
using NatsJsExporter.Views;

namespace NatsJsExporter.Tests.Golden;

/// <summary>
/// Each fixture folder (real or authored /jsz answers) is merged and rendered, and the result is
/// diffed byte for byte against testdata/golden/&lt;fixture&gt;.prom; for a few fixtures the
/// /api/v1/snapshot document too (&lt;fixture&gt;.snapshot.json). Regenerate on purpose with
/// NATSJS_UPDATE_GOLDEN=1 (scripts/update-golden.sh) and review the diff in its own commit.
/// </summary>
public class GoldenTests
{
    public static TheoryData<string> FixtureNames() => new(Fixtures.All());

    public static bool Update => Environment.GetEnvironmentVariable("NATSJS_UPDATE_GOLDEN") == "1";

    public static string GoldenPath(string fixture) => Path.Combine(Repo.TestData, "golden", fixture + ".prom");

    public static byte[] Render(string fixture) => MetricsRenderer.Render(Fixtures.Snapshot(fixture), "test");

    /// <summary>Fixtures whose /api/v1/snapshot document is pinned (its schema is public API): domains, a frozen replica, a killed node, a single server, /raftz with a frozen follower, a replica's own healthz failing.</summary>
    public static TheoryData<string> SnapshotDocumentFixtures() =>
        new("2.10-domains", "2.9.10-cluster-node-killed", "2.9.10-cluster-replica-frozen", "2.14-single", "2.15.1-cluster-raftz-frozen", "2.15.1-cluster-healthz-catchup");

    public static string SnapshotGoldenPath(string fixture) => Path.Combine(Repo.TestData, "golden", fixture + ".snapshot.json");

    /// <summary>The document at a fixed clock (1.5 s after collection) and version, as /api/v1/snapshot serves it.</summary>
    public static byte[] RenderSnapshotDocument(string fixture)
    {
        var s = Fixtures.Snapshot(fixture);
        var now = Fixtures.CollectedAt.AddSeconds(1.5);
        return SnapshotDocument.Serialize(SnapshotDocument.From(s, HealthCheck.Evaluate(s, now), now, "test"));
    }

    [Theory]
    [MemberData(nameof(SnapshotDocumentFixtures))]
    public void Snapshot_document_matches_golden_file(string fixture) =>
        Compare(fixture, Encoding.UTF8.GetString(RenderSnapshotDocument(fixture)) + "\n", SnapshotGoldenPath(fixture), "the /api/v1/snapshot document");

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Exposition_matches_golden_file(string fixture)
    {
        Compare(fixture, Encoding.UTF8.GetString(Render(fixture)), GoldenPath(fixture), "rendered metrics");
    }

    private static void Compare(string fixture, string actual, string path, string what)
    {
        if (Update)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
        }
        Assert.True(File.Exists(path), $"{path} is missing: run scripts/update-golden.sh and review the new file");
        var expected = File.ReadAllText(path);
        if (!File.ReadAllBytes(path).AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(actual)))
        {
            var e = expected.Split('\n');
            var a = actual.Split('\n');
            int i = 0;
            while (i < e.Length && i < a.Length && e[i] == a[i]) i++;
            Assert.Fail($"{fixture}: {what} differ from {path} at line {i + 1}:\n  expected: {(i < e.Length ? e[i] : "<end>")}\n  actual:   {(i < a.Length ? a[i] : "<end>")}\n" +
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
