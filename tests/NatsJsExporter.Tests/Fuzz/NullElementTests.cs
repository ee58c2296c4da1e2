using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NatsJsExporter.Metrics;
using NatsJsExporter.Model;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Fuzz;

/// <summary>
/// A null element in any list of a /jsz answer (<c>"stream_detail": [null]</c>; found by the fuzz
/// test as a NullReferenceException in the snapshot builder) is left out at parsing: the rest of
/// the answer is kept, nothing throws.
/// </summary>
public sealed class NullElementTests
{
    [Theory]
    [InlineData("account_details")]
    [InlineData("stream_detail")]
    [InlineData("consumer_detail")]
    [InlineData("replicas")]
    [InlineData("sources")]
    public void A_null_element_in_a_list_is_left_out_and_the_rest_of_the_answer_kept(string list)
    {
        const string fixture = "2.15.1-cluster-features";
        var reports = Fixtures.Reports(fixture);
        var before = Fixtures.Build(reports).Snapshot;
        var dir = Fixtures.Dir(fixture);
        int inserted = 0;
        var mutated = reports.Select(r =>
        {
            var root = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, r.Target + ".json")))!;
            inserted += InsertNulls(root, list);
            return r with { Jsz = JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(root.ToJsonString()), JszJsonContext.Default.JszResponse) };
        }).ToList();
        Assert.True(inserted > 0, $"the fixture has no '{list}' array");

        var after = Fixtures.Build(mutated).Snapshot;
        Assert.Equal(before.Streams.Select(s => (s.Account, s.Name, s.Messages)), after.Streams.Select(s => (s.Account, s.Name, s.Messages)));
        Assert.Equal(before.Streams.Sum(s => s.Consumers.Count), after.Streams.Sum(s => s.Consumers.Count));
        Assert.Equal(Encoding.UTF8.GetString(MetricsRenderer.Render(before, "test", includeExporter: false)), Encoding.UTF8.GetString(MetricsRenderer.Render(after, "test", includeExporter: false)));
    }

    private static int InsertNulls(JsonNode node, string name)
    {
        int n = 0;
        if (node is JsonObject o)
        {
            foreach (var (k, v) in o.ToList())
            {
                if (v is null) continue;
                if (k == name && v is JsonArray a) { a.Insert(0, null); n++; }
                n += InsertNulls(v, name);
            }
        }
        else if (node is JsonArray arr)
        {
            foreach (var v in arr.ToList()) if (v is not null) n += InsertNulls(v, name);
        }
        return n;
    }
}
