using System.IO.Compression;
using System.Text;
using System.Text.Json;
using CsCheck;
using NatsJsExporter.Benchmarks;
using NatsJsExporter.Model;
using NatsJsExporter.Sources;
using NatsJsExporter.Tests.Fuzz;
using NatsJsExporter.Tests.Support;
using NATS.Client.Core;
using Xunit.Abstractions;

namespace NatsJsExporter.Tests.Model;

/// <summary>
/// The hand-written /jsz reader must build exactly what System.Text.Json (JszJsonContext) builds
/// from the same bytes, whole or fed in pieces of any size, and fail exactly where it fails, with a
/// JsonException. "Exactly": both results re-serialized with JszJsonContext are the same string.
/// </summary>
public sealed class JszReaderTests(ITestOutputHelper output)
{
    private static readonly int[] ChunkSizes = [1, 7, 64, 4096, 64 * 1024];

    /// <summary>Every captured /jsz answer (servers 2.9 to 2.15): one per server in each fixture folder.</summary>
    public static TheoryData<string> CapturedAnswers()
    {
        var data = new TheoryData<string>();
        foreach (var fixture in Fixtures.All())
            foreach (var file in Directory.GetFiles(Fixtures.Dir(fixture), "*.json").Order(StringComparer.Ordinal))
                data.Add(Path.Combine(fixture, Path.GetFileName(file)));
        return data;
    }

    [Theory]
    [MemberData(nameof(CapturedAnswers))]
    public async Task A_captured_answer_parses_as_System_Text_Json_parses_it_whole_in_pieces_and_from_a_stream(string file)
    {
        var json = File.ReadAllBytes(Path.Combine(Repo.TestData, "fixtures", file));
        var expected = Stj(json);
        Assert.Contains("\"server_id\"", expected);
        Assert.Equal(expected, Serialize(JszReader.Read(json)));
        foreach (int size in ChunkSizes) Assert.Equal(expected, Serialize(Fed(json, size)));
        Assert.Equal(expected, Serialize(await JszReader.ReadAsync(new PieceStream(json, 5000), CancellationToken.None)));
    }

    [Theory]
    [MemberData(nameof(CapturedAnswers))]
    public void A_captured_answer_in_a_system_account_reply_parses_as_System_Text_Json_parses_it(string file)
    {
        var jsz = File.ReadAllText(Path.Combine(Repo.TestData, "fixtures", file));
        var reply = Encoding.UTF8.GetBytes(
            """{"server":{"name":"n1","host":"0.0.0.0","id":"NABC","cluster":"c1","ver":"2.10.27","tags":["a",null,"b"],"seq":7,"time":"2026-01-01T00:00:00Z"},"data":"""
            + jsz + ""","error":{"code":500,"err_code":10001,"description":"x"}}""");
        var expected = JsonSerializer.Serialize(JsonSerializer.Deserialize(reply, JszJsonContext.Default.JszServerResponse), JszJsonContext.Default.JszServerResponse);
        Assert.Equal(expected, JsonSerializer.Serialize(JszReader.ReadServerResponse(reply), JszJsonContext.Default.JszServerResponse));
        foreach (int size in new[] { 7, 4096 })
        {
            using var reader = new JszReader(envelope: true);
            for (int o = 0; o < reply.Length; o += size) reader.Feed(reply.AsSpan(o, Math.Min(size, reply.Length - o)));
            Assert.Equal(expected, JsonSerializer.Serialize(reader.CompleteServerResponse(), JszJsonContext.Default.JszServerResponse));
        }
    }

    [Fact]
    public void A_system_account_reply_parses_the_same_plain_and_gzipped()
    {
        var jsz = File.ReadAllText(Path.Combine(Fixtures.Dir("2.15.1-cluster-raftz"), "n2.json"));
        var reply = Encoding.UTF8.GetBytes($"{{\"server\":{{\"name\":\"n2\",\"id\":\"NID\"}},\"data\":{jsz}}}");
        var expected = JsonSerializer.Serialize(JsonSerializer.Deserialize(reply, JszJsonContext.Default.JszServerResponse), JszJsonContext.Default.JszServerResponse);
        Assert.Contains("\"stream_detail\"", expected);
        Assert.Equal(expected, JsonSerializer.Serialize(SystemAccountSource.Deserialize(reply, null), JszJsonContext.Default.JszServerResponse));
        var zipped = new MemoryStream();
        using (var gzip = new GZipStream(zipped, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(reply);
        var headers = new NatsHeaders { ["Content-Encoding"] = "gzip" };
        Assert.Equal(expected, JsonSerializer.Serialize(SystemAccountSource.Deserialize(zipped.ToArray(), headers), JszJsonContext.Default.JszServerResponse));
        Assert.Throws<JsonException>(() => SystemAccountSource.Deserialize(reply.AsMemory(0, reply.Length / 2), null));
    }

    [Fact]
    public async Task A_pooled_answer_parses_as_System_Text_Json_parses_the_same_bytes()
    {
        var json = Workload.Generate(300, 3).Jsz[0];
        Assert.True(json.Length > 3 * PooledAnswer.ChunkSize, "the answer should span several chunks");
        await using var answer = await PooledAnswer.ReadWholeAsync(new PieceStream(json, 3000), json.Length, CancellationToken.None);
        Assert.Equal(Stj(json), Serialize(await JszReader.ReadAsync(answer, CancellationToken.None)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    public void The_bench_workload_parses_as_System_Text_Json_parses_it(int accounts)
    {
        var workload = Workload.Generate(1000, accounts);
        foreach (var json in workload.Jsz)
        {
            var expected = Stj(json);
            Assert.Equal(expected, Serialize(JszReader.Read(json)));
            foreach (int size in ChunkSizes) Assert.Equal(expected, Serialize(Fed(json, size)));
        }
    }

    // Values at the edges and the ways an answer can be wrong: both parsers must agree on each,
    // on the value or on failing (with a JsonException).
    [Theory]
    [InlineData("""{"memory":18446744073709551615,"api":{"total":18446744073709551615,"inflight":18446744073709551615}}""")]
    [InlineData("""{"memory":18446744073709551616}""")]
    [InlineData("""{"memory":-1}""")]
    [InlineData("""{"memory":1.0}""")]
    [InlineData("""{"memory":1e3}""")]
    [InlineData("""{"memory":"5"}""")]
    [InlineData("""{"memory":null}""")]
    [InlineData("""{"accounts":9223372036854775807,"streams":-9223372036854775808}""")]
    [InlineData("""{"accounts":9223372036854775808}""")]
    [InlineData("""{"streams_leader":null,"total":null,"api":{"level":null,"inflight":null}}""")]
    [InlineData("""{"disabled":1}""")]
    [InlineData("""{"disabled":null}""")]
    [InlineData("""{"disabled":"true"}""")]
    [InlineData("""{"server_id":5}""")]
    [InlineData("""{"server_id":{}}""")]
    [InlineData("""{"server_id":"a\u0000b\"c\\\ud83d\ude00"}""")]
    [InlineData("""{"server_id":"\ud800"}""")]
    [InlineData("""{"now":"2026-11-30T21:00:00.123456789+02:00"}""")]
    [InlineData("""{"now":"2026-11-30"}""")]
    [InlineData("""{"now":"2026-11-30T25:00:00Z"}""")]
    [InlineData("""{"now":"yesterday"}""")]
    [InlineData("""{"now":0}""")]
    [InlineData("""{"now":"0001-01-01T00:00:00Z"}""")]
    [InlineData("""{"server_id":"a","server_id":"b","memory":1,"memory":2}""")]
    [InlineData("""{"account_details":[{"name":"A"}],"account_details":[{"name":"B"}]}""")]
    [InlineData("""{"account_details":[{"name":"A","stream_detail":[{"name":"S"}],"stream_detail":null}]}""")]
    [InlineData("""{"account_details":[null,{"stream_detail":[null,{"name":"S","consumer_detail":[null],"sources":[null,{"name":"X"}],"cluster":{"replicas":[null]}}]}]}""")]
    [InlineData("""{"account_details":{}}""")]
    [InlineData("""{"account_details":[5]}""")]
    [InlineData("""{"account_details":[[]]}""")]
    [InlineData("""{"account_details":[{"stream_detail":5}]}""")]
    [InlineData("""{"account_details":[{"stream_detail":[5]}]}""")]
    [InlineData("""{"account_details":[{"stream_detail":[{"state":{"lost":{"msgs":[1,2,18446744073709551615],"bytes":3}}}]}]}""")]
    [InlineData("""{"account_details":[{"stream_detail":[{"state":{"lost":{"msgs":[1,null]}}}]}]}""")]
    [InlineData("""{"account_details":[{"stream_detail":[{"config":{"subjects":["a",null,"b"],"metadata":{"io.nats.monitor.msgs-warn":"5","_nats.level":"1","io.nats.monitor.x":5,"io.nats.monitor.msgs-warn":"6"}}}]}]}""")]
    [InlineData("""{"account_details":[{"stream_detail":[{"config":{"metadata":[1,{"a":2}]}},{"config":{"metadata":"x"}},{"config":{"metadata":null}}]}]}""")]
    [InlineData("""{"account_details":[{"stream_detail":[{"config":{"metadata":{"io.nats.monitor\u002Ea":"escaped key"}}}]}]}""")]
    [InlineData("""{"account_details":[{"stream_detail":[{"consumer_detail":[{"config":{"metadata":{"io.nats.monitor.ack":"1"}},"paused":null,"delivered":{"last_active":null}}]}]}]}""")]
    [InlineData("""{"account_details":[{"stream_detail":[{"consumer_detail":[{"paused":"no"}]}]}]}""")]
    [InlineData("""{"\u0073erver_id":"escaped name","Server_Id":"other case","serverId":"camel","unknown":{"deep":[1,[2,{"x":null}]]}}""")]
    [InlineData("""{"meta_cluster":{"replicas":[null,{"name":"n2","current":true,"active":-1,"lag":18446744073709551615}],"snapshot":{"pending_entries":1},"pending":null}}""")]
    [InlineData("""{"config":{"max_memory":-1,"domain":null},"config":null}""")]
    [InlineData("""{"meta_cluster":[]}""")]
    [InlineData("""  {"streams":1}  """)]
    [InlineData("""{"streams":1} x""")]
    [InlineData("""{"streams":1}{}""")]
    [InlineData("""{"streams":1,}""")]
    [InlineData("""{"streams":1 /* c */}""")]
    [InlineData("""{'streams':1}""")]
    [InlineData("""null""")]
    [InlineData("""[]""")]
    [InlineData("""5""")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\uFEFF{\"streams\":1}")]
    [InlineData("""{""")]
    [InlineData("""{"account_details":[{"stream_detail":[{"name":"S"}""")]
    public void An_edge_case_parses_or_fails_as_with_System_Text_Json(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var expected = Outcome(() => Serialize(JsonSerializer.Deserialize(bytes, JszJsonContext.Default.JszResponse)));
        Assert.Equal(expected, Outcome(() => Serialize(JszReader.Read(bytes))));
        foreach (int size in new[] { 1, 3, 64 }) Assert.Equal(expected, Outcome(() => Serialize(Fed(bytes, size))));
    }

    [Fact]
    public void Uint64_max_and_dropped_null_elements_come_through()
    {
        var jsz = JszReader.Read("""{"memory":18446744073709551615,"account_details":[null,{"name":"A","stream_detail":[null,{"name":"S"}]}]}"""u8)!;
        Assert.Equal(ulong.MaxValue, jsz.Memory);
        var account = Assert.Single(jsz.AccountDetails!);
        Assert.Equal("S", Assert.Single(account.StreamDetail!).Name);
    }

    [Fact]
    public void A_truncated_answer_fails_with_a_JsonException_wherever_it_is_cut()
    {
        var json = File.ReadAllBytes(Path.Combine(Fixtures.Dir("2.15.1-cluster-raftz"), "n1.json"));
        int cuts = 0;
        for (int at = 0; at < json.Length - 1; at += 97)
        {
            // Trailing whitespace only is not a cut.
            if (json.AsSpan(at).IndexOfAnyExcept(" \t\r\n"u8) < 0) continue;
            var cut = json[..at];
            Assert.Throws<JsonException>(() => JszReader.Read(cut));
            Assert.Throws<JsonException>(() => Fed(cut, 64));
            cuts++;
        }
        Assert.True(cuts > 100, $"only {cuts} cuts");
    }

    /// <summary>The fuzz test's mutations of the captured answers (retyped, removed, duplicated fields, 64-bit edges, cut and flipped bytes): both parsers agree on every one.</summary>
    [Fact]
    public void Mutated_real_answers_parse_or_fail_as_with_System_Text_Json()
    {
        long iter = long.TryParse(Environment.GetEnvironmentVariable("NATSJS_FUZZ_ITER"), out var i) ? i : 400;
        var seed = Environment.GetEnvironmentVariable("NATSJS_FUZZ_SEED");
        int parsed = 0, failed = 0;
        var gen = Gen.Select(Gen.Int[0, ParseMergeFuzzTests.Seeds.Length - 1], Gen.Int[0, 10], ParseMergeFuzzTests.GenMutation.Array[1, 12], Gen.Int[1, 5000]);
        gen.Sample(t =>
        {
            var (fixture, target, mutations, chunk) = t;
            var files = ParseMergeFuzzTests.Seeds[fixture].Files;
            var bytes = ParseMergeFuzzTests.Mutate(files[target % files.Length].Json, mutations);
            var expected = Outcome(() => Serialize(JsonSerializer.Deserialize(bytes, JszJsonContext.Default.JszResponse)));
            Same(expected, Outcome(() => Serialize(JszReader.Read(bytes))));
            Same(expected, Outcome(() => Serialize(Fed(bytes, chunk))));
            if (expected.StartsWith("JsonException", StringComparison.Ordinal)) Interlocked.Increment(ref failed);
            else Interlocked.Increment(ref parsed);
        }, writeLine: output.WriteLine, seed: seed, iter: iter);
        output.WriteLine($"parsed by both: {parsed}, rejected by both: {failed}");
        Assert.True(parsed > 0 && failed > 0, $"parsed {parsed}, failed {failed}: the mutations reach only one side");
    }

    private static void Same(string expected, string actual) =>
        Assert.True(expected == actual, $"System.Text.Json: {Clip(expected)}\nJszReader: {Clip(actual)}");

    private static string Clip(string s) => s.Length > 400 ? s[..400] + "…" : s;

    private static string Stj(byte[] json) => Serialize(JsonSerializer.Deserialize(json, JszJsonContext.Default.JszResponse));

    private static string Serialize(JszResponse? jsz) => JsonSerializer.Serialize(jsz, JszJsonContext.Default.JszResponse);

    private static JszResponse? Fed(byte[] json, int size)
    {
        using var reader = new JszReader();
        for (int o = 0; o < json.Length; o += size) reader.Feed(json.AsSpan(o, Math.Min(size, json.Length - o)));
        return reader.Complete();
    }

    /// <summary>
    /// The re-serialized result, or "JsonException" when parsing failed that way (any other exception
    /// escapes), with the path the message names for a value of the wrong type or out of range.
    /// </summary>
    private static string Outcome(Func<string> parse)
    {
        try
        {
            return parse();
        }
        catch (JsonException ex) when (ex.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
        {
            var path = ex.Message[ex.Message.IndexOf("Path: ", StringComparison.Ordinal)..];
            return "JsonException " + path[..path.IndexOf(" | ", StringComparison.Ordinal)];
        }
        catch (JsonException)
        {
            return "JsonException";
        }
    }

    [Theory]
    [InlineData("""{"streams":"many"}""", "$.streams")]
    [InlineData("""{"account_details":[null,{"stream_detail":[{},{"state":{"messages":-1}}]}]}""", "$.account_details[1].stream_detail[1].state.messages")]
    [InlineData("""{"account_details":[{"stream_detail":[{"consumer_detail":[{},{"cluster":{"replicas":[{},{"lag":"x"}]}}]}]}]}""", "$.account_details[0].stream_detail[0].consumer_detail[1].cluster.replicas[1].lag")]
    [InlineData("""{"account_details":[{},{"api":{"total":1.5}}]}""", "$.account_details[1].api.total")]
    [InlineData("""{"account_details":[{},5]}""", "$.account_details[1]")]
    public void A_value_of_the_wrong_type_is_reported_with_its_path(string json, string path)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        foreach (int size in new[] { bytes.Length, 1, 5 })
        {
            var ex = Assert.Throws<JsonException>(() => Fed(bytes, size));
            Assert.Contains($"Path: {path} |", ex.Message);
        }
        Assert.Contains($"Path: {path} |", Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(bytes, JszJsonContext.Default.JszResponse)).Message);
    }

    /// <summary>Hands out at most <paramref name="piece"/> bytes per read, as a socket does.</summary>
    private sealed class PieceStream(byte[] data, int piece) : MemoryStream(data, writable: false)
    {
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, piece)]);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, piece)], cancellationToken);
    }
}
