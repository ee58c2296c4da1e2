using System.Text;
using System.Text.Json;
using NatsJsExporter.Model;
using NatsJsExporter.Sources;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Sources;

/// <summary>
/// How an HTTP answer is read before parsing: whole, into pooled chunks, stopped at
/// --max-response-size. A misbehaving target's endless answer must cost no more than the limit
/// (plus one 64 KiB chunk), and an answer within the limit must come back byte for byte.
/// </summary>
public sealed class PooledAnswerTests
{
    [Fact]
    public async Task An_endless_answer_is_read_only_up_to_the_limit_plus_one_chunk()
    {
        const long limit = 3 * 1024 * 1024 + 17;
        var source = new EndlessStream([], "["u8.ToArray(), maxRead: 10_000);
        await Assert.ThrowsAsync<ResponseTooLargeException>(() => PooledAnswer.ReadWholeAsync(source, limit, CancellationToken.None));
        Assert.True(source.Served > limit, $"stopped before the limit: {source.Served}");
        Assert.True(source.Served <= limit + PooledAnswer.ChunkSize, $"read {source.Served} bytes for a limit of {limit}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(PooledAnswer.ChunkSize)]
    [InlineData(PooledAnswer.ChunkSize + 1)]
    [InlineData(5 * PooledAnswer.ChunkSize - 3)]
    public async Task An_answer_within_the_limit_reads_back_byte_for_byte(int size)
    {
        var data = new byte[size];
        new Random(size).NextBytes(data);
        // The source hands out odd-sized pieces, as a socket does.
        await using var answer = await PooledAnswer.ReadWholeAsync(new TricklingStream(data, 1000), size, CancellationToken.None);
        Assert.Equal(size, answer.Length);
        var back = new MemoryStream();
        var buffer = new byte[7777];
        int n;
        while ((n = await answer.ReadAsync(buffer)) > 0) back.Write(buffer, 0, n);
        Assert.Equal(data, back.ToArray());
    }

    [Fact]
    public async Task An_answer_one_byte_over_the_limit_is_refused()
    {
        var data = new byte[PooledAnswer.ChunkSize * 2 + 1];
        await Assert.ThrowsAsync<ResponseTooLargeException>(() =>
            PooledAnswer.ReadWholeAsync(new TricklingStream(data, 4096), data.Length - 1, CancellationToken.None));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(PooledAnswer.WholeParseLimit + 1)] // past the limit: parsed as a stream, chunk by chunk
    public async Task A_jsz_answer_parses_the_same_in_one_piece_and_as_a_stream(int leadingSpaces)
    {
        var json = File.ReadAllBytes(Path.Combine(Fixtures.Dir("2.15.1-cluster-raftz"), "n1.json"));
        var padded = Encoding.ASCII.GetBytes(new string(' ', leadingSpaces)).Concat(json).ToArray();
        var expected = JsonSerializer.Serialize(JsonSerializer.Deserialize(json, JszJsonContext.Default.JszResponse), JszJsonContext.Default.JszResponse);
        await using var answer = await PooledAnswer.ReadWholeAsync(new TricklingStream(padded, 5000), padded.Length, CancellationToken.None);
        var parsed = await answer.DeserializeAsync(JszJsonContext.Default.JszResponse, CancellationToken.None);
        Assert.Equal(expected, JsonSerializer.Serialize(parsed, JszJsonContext.Default.JszResponse));
        Assert.Contains("\"stream_detail\"", expected);
    }
}
