using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CsCheck;
using NatsJsExporter.Options;
using NatsJsExporter.Metrics;
using NatsJsExporter.Model;
using NatsJsExporter.Sources;
using NatsJsExporter.Tests.Support;
using Xunit.Abstractions;

namespace NatsJsExporter.Tests.Fuzz;

/// <summary>
/// Property-based fuzzing (CsCheck) of parse → merge → render, seeded with the real captured /jsz
/// answers in testdata/fixtures and mutated structurally (fields removed, retyped, duplicated,
/// leaders renamed, numbers at the 64-bit edges) and byte-wise (truncated, flipped, cut).
/// Properties: parsing fails only with JsonException (which the source turns into invalid_json);
/// merge and render never throw; every iteration ends within a few seconds (no hang).
///
/// CI runs a bounded sample (a few seconds). Longer runs:
///   NATSJS_FUZZ_ITER=200000 dotnet test tests/NatsJsExporter.Tests --filter FullyQualifiedName~Fuzz
///   NATSJS_FUZZ_SECONDS=600 ...   (run for a time instead of a count)
///   NATSJS_FUZZ_SEED=&lt;seed printed by a failure&gt; ...  (replay one failure exactly)
/// </summary>
public sealed class ParseMergeFuzzTests(ITestOutputHelper output)
{
    // A hang, not a slow machine: each case runs on its own thread (no wait for a thread-pool thread
    // while the other test classes keep the pool busy), and 30 s is thousands of times a case's time.
    private static readonly TimeSpan PerIteration = TimeSpan.FromSeconds(30);

    internal static readonly (string Fixture, (string Server, string Json)[] Files)[] Seeds =
        Fixtures.All().Select(f => (f, Directory.GetFiles(Fixtures.Dir(f), "*.json").Order(StringComparer.Ordinal)
            .Select(p => (Path.GetFileNameWithoutExtension(p), File.ReadAllText(p))).ToArray())).ToArray();

    private static readonly JsonNode?[] Scalars =
    [
        null, JsonValue.Create(""), JsonValue.Create("n1"), JsonValue.Create("n2"), JsonValue.Create("n9"),
        JsonValue.Create(0), JsonValue.Create(-1), JsonValue.Create(1), JsonValue.Create(ulong.MaxValue),
        JsonValue.Create(long.MaxValue), JsonValue.Create(long.MinValue), JsonValue.Create(true), JsonValue.Create(false),
        JsonValue.Create("0001-01-01T00:00:00Z"), JsonValue.Create("9999-12-31T23:59:59.999999999Z"), JsonValue.Create(1.5),
        JsonValue.Create(new string('x', 5000)), JsonValue.Create("APP"), JsonValue.Create("ORDERS"), JsonValue.Create("a\"b\\c\nd{}=,"),
    ];

    /// <summary>One mutation: what to do, where (a fraction of the document), and a parameter.</summary>
    public readonly record struct Mutation(int Kind, double Where, int Param);

    public sealed record Case(int Fixture, int Target, Mutation[] Mutations, bool NamesKnown)
    {
        public override string ToString() => $"{Seeds[Fixture].Fixture}/{Seeds[Fixture].Files[Target % Seeds[Fixture].Files.Length].Server} " +
            string.Join(" ", Mutations.Select(m => $"({m.Kind},{m.Where:0.###},{m.Param})")) + $" names={NamesKnown}";
    }

    internal static readonly Gen<Mutation> GenMutation =
        Gen.Select(Gen.Int[0, 10], Gen.Double[0, 1], Gen.Int[0, 1000]).Select(t => new Mutation(t.Item1, t.Item2, t.Item3));

    private static readonly Gen<Case> GenCase =
        from fixture in Gen.Int[0, Seeds.Length - 1]
        from target in Gen.Int[0, 10]
        from mutations in GenMutation.Array[1, 12]
        from bytewise in Gen.Int[0, 3]
        from names in Gen.Bool
        // One case in four also gets byte-level damage; the rest stay JSON and reach the merge more often.
        select new Case(fixture, target, bytewise == 0 ? mutations : [.. mutations.Select(m => m.Kind >= 8 ? m with { Kind = 5 } : m)], names);

    [Fact]
    public void Mutated_real_answers_never_crash_or_hang_parse_merge_and_render()
    {
        long iter = long.TryParse(Environment.GetEnvironmentVariable("NATSJS_FUZZ_ITER"), out var i) ? i : 400;
        int seconds = int.TryParse(Environment.GetEnvironmentVariable("NATSJS_FUZZ_SECONDS"), out var s) ? s : -1;
        var seed = Environment.GetEnvironmentVariable("NATSJS_FUZZ_SEED");
        int parsed = 0, rejected = 0;
        GenCase.Sample(c =>
        {
            var run = Task.Factory.StartNew(() => RunCase(c), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            if (!run.Wait(PerIteration)) throw new TimeoutException($"parse-merge-render took longer than {PerIteration.TotalSeconds}s");
            if (run.Result) Interlocked.Increment(ref parsed); else Interlocked.Increment(ref rejected);
        }, writeLine: output.WriteLine, seed: seed, iter: iter, time: seconds);
        output.WriteLine($"mutated documents parsed and merged: {parsed}, rejected as invalid JSON: {rejected}");
        Assert.True(parsed > 0, "no mutated document got past the parser: the fuzzing reaches nothing beyond it");
    }

    /// <summary>True when the mutated document parsed (and went through merge and render).</summary>
    private static bool RunCase(Case c)
    {
        var (_, files) = Seeds[c.Fixture];
        int target = c.Target % files.Length;
        var reports = new List<ServerReport>();
        bool parsedMutated = false;
        for (int f = 0; f < files.Length; f++)
        {
            var (server, json) = files[f];
            byte[] bytes = f == target ? Mutate(json, c.Mutations) : Encoding.UTF8.GetBytes(json);
            JszResponse? jsz;
            try
            {
                jsz = JszReader.Read(bytes); // the exporter's parser (JszReaderTests check it against System.Text.Json)
            }
            catch (JsonException)
            {
                reports.Add(ServerReport.Failed(server, c.NamesKnown ? server : null, "invalid_json", "not JSON", TimeSpan.FromMilliseconds(3)));
                continue;
            }
            if (f == target) parsedMutated = true;
            if (jsz is null)
            {
                reports.Add(ServerReport.Failed(server, server, "invalid_json", "null", TimeSpan.Zero));
                continue;
            }
            reports.Add(new ServerReport
            {
                Target = server,
                ServerName = c.NamesKnown ? server : null,
                ServerVersion = Seeds[c.Fixture].Fixture.Split('-')[0],
                Jsz = jsz,
                Duration = TimeSpan.FromMilliseconds(4),
            });
        }

        // Two polls, the second seeing the first as previous (leader-change counters, dropped series).
        var first = Fixtures.Build(reports);
        var second = Fixtures.Build(reports, new SnapshotFilter { Ephemeral = true }, first.Snapshot);
        var text = Encoding.UTF8.GetString(MetricsRenderer.Render(second.Snapshot, "fuzz"));
        MetricsRenderer.Render(first.Snapshot, "fuzz");
        if (!text.Contains("natsjs_up", StringComparison.Ordinal)) throw new InvalidOperationException("rendered metrics lack natsjs_up");
        if (ExpositionError(text) is { } error) throw new InvalidOperationException(error);
        return parsedMutated;
    }

    // A sample line of the Prometheus text format: name, optional {label="value",...} with only \\ \" \n
    // escapes inside values, one space, a float. A raw newline or quote in a value breaks the line.
    private static readonly Regex SampleLine = new(
        """^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? (NaN|[+-]Inf|[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)$""",
        RegexOptions.CultureInvariant);

    /// <summary>
    /// Null when every line is a comment, a blank final line, or a well-formed sample of the family
    /// the last # TYPE line declared; else the first bad line.
    /// </summary>
    internal static string? ExpositionError(string text)
    {
        string? family = null;
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0)
            {
                if (i == lines.Length - 1) continue;
                return $"line {i + 1} is empty";
            }
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                family = line.Split(' ')[2];
                continue;
            }
            if (line.StartsWith("# HELP ", StringComparison.Ordinal)) continue;
            var m = SampleLine.Match(line);
            if (!m.Success) return $"line {i + 1} is not a sample: {line}";
            if (m.Groups[1].Value != family) return $"line {i + 1}: sample {m.Groups[1].Value} is not of the declared family {family}";
        }
        return null;
    }

    [Theory]
    [InlineData("# TYPE a gauge\na{x=\"1\"} 2\n", null)]
    [InlineData("# TYPE a gauge\na{x=\"q\\\"u\\no\\\\\"} -1.5e+3\n", null)]
    [InlineData("# TYPE a gauge\na{x=\"line\nbreak\"} 2\n", "line 2 is not a sample")]
    [InlineData("# TYPE a gauge\na{x=\"q\"uote\"} 2\n", "line 2 is not a sample")]
    [InlineData("# TYPE a gauge\na 1\n\nb 2\n", "line 3 is empty")]
    [InlineData("# TYPE a gauge\nb 1\n", "line 2: sample b is not of the declared family a")]
    [InlineData("# TYPE a gauge\na 1 2\n", "line 2 is not a sample")]
    public void The_exposition_check_rejects_broken_lines(string text, string? error)
    {
        var actual = ExpositionError(text);
        if (error is null) Assert.Null(actual);
        else Assert.StartsWith(error, actual);
    }

    internal static byte[] Mutate(string json, Mutation[] mutations)
    {
        JsonNode? root = JsonNode.Parse(json);
        var tail = new List<Mutation>();
        int copies = 0;
        foreach (var m in mutations)
        {
            if (m.Kind >= 8) { tail.Add(m); continue; } // byte-level, after the structural ones
            if (m.Kind is 3 or 5 or 6 && ++copies > 3) continue; // copies can double the document: keep it bounded
            var nodes = new List<JsonNode>();
            Collect(root, nodes);
            if (nodes.Count == 0) break;
            var node = nodes[(int)(m.Where * (nodes.Count - 1))];
            var parent = node.Parent;
            var replacement = m.Kind switch
            {
                0 => null, // remove
                1 or 2 => Scalars[m.Param % Scalars.Length]?.DeepClone(),
                3 => nodes[m.Param % nodes.Count].DeepClone(), // type confusion: another part of the document
                4 => node is JsonObject ? new JsonObject() : new JsonArray(),
                _ => node.DeepClone(),
            };
            if (parent is JsonObject obj)
            {
                var key = obj.First(p => ReferenceEquals(p.Value, node)).Key;
                if (m.Kind == 0) obj.Remove(key);
                else if (m.Kind == 5 && node is JsonObject o && o.ContainsKey("leader")) o["leader"] = $"n{m.Param % 5}";
                else if (m.Kind is 6 or 7) obj[key + (m.Kind == 6 ? "" : "_x")] = replacement; // same value / an unknown sibling
                else obj[key] = replacement;
            }
            else if (parent is JsonArray arr)
            {
                int index = arr.IndexOf(node);
                if (m.Kind == 0) arr.RemoveAt(index);
                else if (m.Kind is 5 or 6) arr.Insert(index, replacement); // duplicate entry (same stream twice)
                else arr[index] = replacement;
            }
        }
        var bytes = Encoding.UTF8.GetBytes(root?.ToJsonString() ?? "null");
        foreach (var m in tail)
        {
            if (bytes.Length == 0) break;
            int at = (int)(m.Where * (bytes.Length - 1));
            switch (m.Kind)
            {
                case 8: bytes = bytes[..at]; break; // truncated
                case 9: bytes[at] = (byte)m.Param; break; // flipped (also invalid UTF-8)
                default: bytes = [.. bytes[..at], .. bytes[Math.Min(bytes.Length, at + m.Param)..]]; break; // a piece cut out
            }
        }
        return bytes;
    }

    private static void Collect(JsonNode? node, List<JsonNode> into)
    {
        if (node is null) return;
        if (node.Parent is not null) into.Add(node);
        if (node is JsonObject o) foreach (var (_, v) in o) Collect(v, into);
        else if (node is JsonArray a) foreach (var v in a) Collect(v, into);
    }
}
