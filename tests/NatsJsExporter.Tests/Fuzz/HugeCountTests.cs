using System.Text;
using System.Text.Json.Nodes;
using NatsJsExporter.Model;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Tests.Support;
using NatsJsExporter.Views;

namespace NatsJsExporter.Tests.Fuzz;

/// <summary>
/// Counts summed from servers' answers (an account's consumers, the meta groups' cluster sizes, the
/// servers' streams) saturate instead of throwing: the fuzz test found an OverflowException in the
/// snapshot builder (seed 2glRajRHxSn4) when two streams of one account claimed ~long.MaxValue consumers.
/// </summary>
public sealed class HugeCountTests
{
    [Fact]
    public void Counts_near_the_64_bit_limit_saturate_and_the_snapshot_is_built()
    {
        const string fixture = "2.15.1-cluster-features";
        var reports = Fixtures.Reports(fixture);
        var dir = Fixtures.Dir(fixture);
        int set = 0;
        var mutated = reports.Select(r =>
        {
            var root = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, r.Target + ".json")))!;
            root["streams"] = long.MaxValue;
            root["consumers"] = long.MaxValue;
            if (root["meta_cluster"] is JsonObject meta) meta["cluster_size"] = long.MaxValue - 1;
            foreach (var acc in root["account_details"]?.AsArray() ?? [])
                foreach (var st in acc?["stream_detail"]?.AsArray() ?? [])
                    if (st?["state"] is JsonObject state) { state["consumer_count"] = long.MaxValue - 1; set++; }
            return r with { Jsz = JszReader.Read(Encoding.UTF8.GetBytes(root.ToJsonString())) };
        }).ToList();
        Assert.True(set > 1, "the fixture has fewer than two streams");

        var snapshot = Fixtures.Build(mutated).Snapshot;
        Assert.Contains(snapshot.Accounts, a => a.Consumers == long.MaxValue);
        Assert.Equal(long.MaxValue - 1, snapshot.ServersDiscovered); // one meta group here; several are summed with saturation
        var summary = OperatorTables.JetStreamSummary(snapshot, HealthCheck.Evaluate(snapshot, DateTimeOffset.UtcNow));
        Assert.Equal(Format.Count(long.MaxValue), summary.Footer![2]); // streams, summed over the servers
    }

    [Theory]
    [InlineData(new long[] { 1, 2, 3 }, 6)]
    [InlineData(new long[] { long.MaxValue, 1 }, long.MaxValue)]
    [InlineData(new long[] { long.MaxValue - 1, long.MaxValue - 1, -5 }, long.MaxValue)]
    [InlineData(new long[] { long.MinValue, -1 }, long.MinValue)]
    [InlineData(new long[] { long.MaxValue, long.MinValue }, -1)]
    public void Sums_saturate(long[] values, long expected) => Assert.Equal(expected, Saturating.Sum(values, v => v));
}
