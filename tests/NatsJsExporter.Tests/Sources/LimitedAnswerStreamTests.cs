using System.Text.Json;
using NatsJsExporter.Benchmarks;
using NatsJsExporter.Model;
using NatsJsExporter.Sources;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Sources;

/// <summary>
/// A /jsz answer is parsed as it arrives, never held whole. What bounds a misbehaving target then:
/// the answer's size (--max-response-size) and what the parser may build from it (twice that).
/// </summary>
public sealed class LimitedAnswerStreamTests
{
    [Fact]
    public async Task A_real_sized_answer_within_the_limit_parses_as_it_arrives_like_the_whole_bytes()
    {
        var json = Workload.Generate(1000, 1).Jsz[0]; // ~6.6 MB, 1,000 streams with 3 consumers each
        var body = new TricklingStream(json, 16 * 1024);
        var parsed = await JszReader.ReadAsync(new LimitedAnswerStream(body, json.Length), CancellationToken.None);
        Assert.Equal(JsonSerializer.Serialize(JszReader.Read(json), JszJsonContext.Default.JszResponse),
            JsonSerializer.Serialize(parsed, JszJsonContext.Default.JszResponse));
        Assert.Equal(1000, parsed!.AccountDetails![0].StreamDetail!.Count);
    }

    [Fact]
    public async Task An_answer_one_byte_over_the_limit_is_refused()
    {
        var json = Workload.Generate(100, 1).Jsz[0];
        await Assert.ThrowsAsync<ResponseTooLargeException>(async () =>
            await JszReader.ReadAsync(new LimitedAnswerStream(new TricklingStream(json, 4096), json.Length - 1), CancellationToken.None));
    }

    [Fact]
    public async Task An_endless_answer_of_tiny_objects_is_stopped_by_what_it_makes_not_by_its_size()
    {
        // [{},{},...]: 3 bytes make a whole account object; 64 MiB of it would build gigabytes.
        const long limit = 64L * 1024 * 1024;
        var flood = new EndlessStream("{\"server_id\":\"X\",\"account_details\":["u8.ToArray(), "{},"u8.ToArray(), maxRead: 64 * 1024);
        var limited = new LimitedAnswerStream(flood, limit);
        long before = GC.GetAllocatedBytesForCurrentThread();
        await Assert.ThrowsAsync<ResponseTooLargeException>(async () => await JszReader.ReadAsync(limited, CancellationToken.None));
        Assert.True(limited.BytesRead < limit / 2, $"read {limited.BytesRead} bytes before stopping: the size limit stopped it, not the allocation bound");
        Assert.True(limited.BytesRead > 0);
        // Allocated on this thread (the synchronous test path) stays near the bound of 2 x limit.
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < (LimitedAnswerStream.AllocationFactor + 1) * limit, $"allocated {allocated / 1048576} MiB");
    }
}
