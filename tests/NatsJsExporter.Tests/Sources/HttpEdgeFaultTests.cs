using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using NatsJsExporter.Hosting;
using NatsJsExporter.Sources;
using NatsJsExporter.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace NatsJsExporter.Tests.Sources;

/// <summary>
/// Faults WireMock cannot stage, from a raw socket server (<see cref="RawHttpServer"/>), beside a
/// healthy WireMock server. Each case: the healthy target's metrics are intact, the bad one has
/// natsjs_up 0 and a reason on the error counter, exactly one warning names it, and the poll
/// ends within the timeout (plus slack for a loaded machine).
/// </summary>
public sealed class HttpEdgeFaultTests : HttpEdgeFaultBase
{
    [Fact]
    public async Task A_name_that_does_not_resolve_is_a_dns_error()
    {
        // .invalid never resolves (RFC 2606).
        var o = await PollAsync("http://no-such-nats-server.invalid:8222");
        AssertDown(o, "dns");
        Assert.Contains("does not resolve", o.Warning);
    }

    [Fact]
    public async Task A_tls_handshake_failure_is_a_tls_error()
    {
        // https:// to a server that answers the ClientHello with plain HTTP.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var serve = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using var client = await listener.AcceptTcpClientAsync();
                    await client.GetStream().WriteAsync("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
                }
            }
            catch (Exception) { }
        });
        Outcome o;
        try
        {
            o = await PollAsync($"https://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}");
        }
        finally
        {
            listener.Stop();
            await serve;
        }
        AssertDown(o, "tls");
        Assert.Contains("TLS handshake failed", o.Warning);
    }

    [Fact]
    public async Task Headers_that_never_arrive_time_out()
    {
        var bad = Bad((_, ct) => Task.Delay(System.Threading.Timeout.Infinite, ct));
        var o = await PollAsync(bad.Url);
        AssertDown(o, "timeout");
        Assert.Contains("no complete answer within 10s", o.Warning);
    }

    [Fact]
    public async Task A_body_trickling_past_the_timeout_is_cut_off_at_the_timeout()
    {
        var body = Encoding.UTF8.GetBytes(GoodJsz);
        var bad = Bad(async (s, ct) =>
        {
            await RawHttpServer.WriteAsync(s, $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n", ct);
            foreach (var b in body)
            {
                await s.WriteAsync(new[] { b }, ct);
                await s.FlushAsync(ct);
                await Task.Delay(100, ct); // the whole body would take minutes
            }
        });
        var o = await PollAsync(bad.Url);
        AssertDown(o, "timeout");
        Assert.True(bad.BytesWritten < body.Length, "the trickle was read to the end");
    }

    [Theory]
    [InlineData(400, "invalid value for accounts: strconv.ParseBool: parsing \"yes\": invalid syntax")]
    [InlineData(404, "404 page not found")]
    public async Task Http_4xx_with_a_text_body_names_status_and_body(int status, string body)
    {
        var bad = BadBody(Encoding.UTF8.GetBytes(body + "\n"), status, "text/plain; charset=utf-8");
        var o = await PollAsync(bad.Url);
        AssertDown(o, $"http_{status}");
        Assert.Contains($"HTTP {status}", o.Warning);
        Assert.Contains(body, o.Warning);
    }

    [Fact]
    public async Task Invalid_utf8_is_an_invalid_json_error()
    {
        var bytes = Encoding.UTF8.GetBytes(GoodJsz);
        // Inside a string the exporter reads (the first stream's name), not one it skips.
        int at = GoodJsz.IndexOf("\"stream_detail\"", StringComparison.Ordinal);
        at = GoodJsz.IndexOf("\"name\": \"", at, StringComparison.Ordinal) + "\"name\": \"".Length;
        bytes[at] = 0xFF;
        bytes[at + 1] = 0xFE;
        var o = await PollAsync(BadBody(bytes).Url);
        AssertDown(o, "invalid_json");
        Assert.Contains("is not valid /jsz JSON", o.Warning);
    }

    [Fact]
    public async Task Json_nested_thousands_deep_is_an_invalid_json_error()
    {
        const int depth = 100_000;
        // Under a key the exporter does not know, so the parser has to skip it (a known field of the
        // wrong shape fails at once, at depth 2).
        var json = "{\"server_id\":\"BAD\",\"extra\":" + new string('[', depth) + new string(']', depth) + "}";
        var o = await PollAsync(BadBody(Encoding.UTF8.GetBytes(json)).Url);
        AssertDown(o, "invalid_json");
        Assert.Contains("depth", o.Warning);
    }

    [Fact]
    public async Task A_string_where_a_number_belongs_is_an_invalid_json_error_naming_the_field()
    {
        var node = JsonNode.Parse(GoodJsz)!;
        node["streams"] = "many";
        var o = await PollAsync(BadBody(Encoding.UTF8.GetBytes(node.ToJsonString())).Url);
        AssertDown(o, "invalid_json");
        Assert.Contains("$.streams", o.Warning);
    }

    [Theory]
    [InlineData("messages", "184467440737095516150")]   // ten times uint64 max
    [InlineData("streams", "9223372036854775808")]      // int64 max + 1
    [InlineData("memory", "-1")]                        // negative where unsigned
    [InlineData("bytes", "1e400")]
    public async Task A_number_beyond_64_bits_is_an_invalid_json_error(string field, string number)
    {
        var json = GoodJsz.Replace($"\"{field}\": ", $"\"{field}\": {number}, \"x_{field}\": ", StringComparison.Ordinal);
        Assert.NotEqual(GoodJsz, json);
        var o = await PollAsync(BadBody(Encoding.UTF8.GetBytes(json)).Url);
        AssertDown(o, "invalid_json");
        Assert.Contains($"$.{field}", o.Warning);
    }

    [Fact]
    public async Task A_declared_length_over_the_limit_is_aborted_before_reading_the_body()
    {
        const long limit = 1024 * 1024;
        var bad = Bad(async (s, ct) =>
        {
            await RawHttpServer.WriteAsync(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n", ct);
            var chunk = new byte[64 * 1024];
            chunk.AsSpan().Fill((byte)' ');
            for (int i = 0; i < 10 * 16 * 1024; i++) await s.WriteAsync(chunk, ct);
        });
        var o = await PollAsync(bad.Url, limit);
        AssertDown(o, "too_large");
        Assert.Contains("larger than the 1 MiB limit", o.Warning);
        // Only what the socket buffers took before the client hung up; never the 10 GiB.
        Assert.True(bad.BytesWritten < 64L * 1024 * 1024, $"server wrote {bad.BytesWritten} bytes");
    }

    [Fact]
    public async Task Two_servers_claiming_the_same_stream_pick_one_deterministically_count_and_log_it()
    {
        var dir = Fixtures.Dir("2.9.10-cluster-healthy");
        var servers = new List<WireMockServer>();
        try
        {
            foreach (var n in new[] { "n1", "n2", "n3" })
            {
                var node = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, n + ".json")))!;
                if (n == "n2")
                {
                    // n2 is a follower of ORDERS (led by n1) but claims it too: a stale or split leadership.
                    var orders = node["account_details"]!.AsArray().SelectMany(a => a!["stream_detail"]!.AsArray())
                        .Single(s => (string?)s!["name"] == "ORDERS")!;
                    orders["cluster"]!["leader"] = "n2";
                }
                var server = WireMockServer.Start();
                servers.Add(server);
                server.Given(Request.Create().WithPath("/jsz").UsingGet()).RespondWith(Response.Create().WithBody(node.ToJsonString()));
                server.Given(Request.Create().WithPath("/varz").UsingGet()).RespondWith(Response.Create()
                    .WithBody($$"""{"server_id":"{{(string?)node["server_id"]}}","server_name":"{{n}}","version":"2.9.10"}"""));
            }

            async Task<(string Metrics, ListLogger Log)> Poll(IEnumerable<WireMockServer> order)
            {
                var urls = order.Select(s => new Uri(s.Url!)).ToList();
                var source = new HttpMonitorSource(HttpMonitorSource.CreateHttpClient(Timeout), urls, Timeout);
                var log = new ListLogger();
                var published = await new Poller(source, new SnapshotStore(), log, TimeSpan.FromSeconds(15)).PollOnceAsync(default);
                return (Encoding.UTF8.GetString(published.Text()), log);
            }

            var forward = await Poll(servers);
            var backward = await Poll(Enumerable.Reverse(servers));
            foreach (var (metrics, log) in new[] { forward, backward })
            {
                // Equal claims (no leader_since, same last sequence): the lowest name wins, whatever the order.
                Assert.Contains("natsjs_stream_peer_is_leader{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\",peer=\"n1\"} 1", metrics);
                Assert.Contains("natsjs_stream_peer_is_leader{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\",peer=\"n2\"} 0", metrics);
                Assert.Contains("natsjs_conflicts_total 1", metrics);
                foreach (var n in new[] { "n1", "n2", "n3" }) Assert.Contains($"natsjs_up{{server=\"{n}\"}} 1", metrics);
                var line = Assert.Single(log.Lines, l => l.Level == LogLevel.Warning).Message;
                Assert.Contains("Leadership conflict: stream APP/ORDERS", line);
                Assert.Contains("using n1", line);
            }
        }
        finally
        {
            foreach (var s in servers) s.Stop();
        }
    }
}

/// <summary>The target setup and checks of <see cref="HttpEdgeFaultTests"/>.</summary>
public abstract class HttpEdgeFaultBase : IAsyncDisposable
{
    protected static readonly string GoodJsz = File.ReadAllText(Path.Combine(Fixtures.Dir("2.9.10-single"), "n1.json"));
    // Generous for a loaded 2-core machine: the healthy WireMock server must answer within it.
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(15);
    protected readonly WireMockServer _good = WireMockServer.Start();
    private RawHttpServer? _raw;

    protected HttpEdgeFaultBase()
    {
        var id = Fixtures.Parse(Path.Combine(Fixtures.Dir("2.9.10-single"), "n1.json")).ServerId;
        _good.Given(Request.Create().WithPath("/jsz").UsingGet()).RespondWith(Response.Create().WithBody(GoodJsz));
        _good.Given(Request.Create().WithPath("/varz").UsingGet())
            .RespondWith(Response.Create().WithBody($$"""{"server_id":"{{id}}","server_name":"good1","version":"2.9.10"}"""));
    }

    public async ValueTask DisposeAsync()
    {
        _good.Stop();
        if (_raw is not null) await _raw.DisposeAsync();
    }

    /// <summary>A raw server: /varz answers normally, /jsz runs the fault.</summary>
    protected RawHttpServer Bad(Func<Stream, CancellationToken, Task> jsz) => _raw = new RawHttpServer(async (path, s, ct) =>
    {
        if (path == "/varz")
            await RawHttpServer.RespondAsync(s, """{"server_id":"BAD","server_name":"bad1","version":"2.9.10"}"""u8.ToArray(), ct);
        else
            await jsz(s, ct);
    });

    protected RawHttpServer BadBody(byte[] body, int status = 200, string contentType = "application/json") =>
        Bad((s, ct) => RawHttpServer.RespondAsync(s, body, ct, status, contentType));

    protected sealed record Outcome(string Metrics, ListLogger Log, TimeSpan Elapsed, string Label)
    {
        public string Warning => Assert.Single(Log.Lines, l => l.Level == LogLevel.Warning).Message;
    }

    protected async Task<Outcome> PollAsync(string badUrl, long maxBytes = 256L * 1024 * 1024)
    {
        var source = new HttpMonitorSource(HttpMonitorSource.CreateHttpClient(Timeout), [new Uri(_good.Url!), new Uri(badUrl)], Timeout,
            maxResponseBytes: maxBytes);
        var log = new ListLogger();
        var poller = new Poller(source, new SnapshotStore(), log, TimeSpan.FromSeconds(15));
        var sw = Stopwatch.StartNew();
        var published = await poller.PollOnceAsync(CancellationToken.None);
        var outcome = new Outcome(Encoding.UTF8.GetString(published.Text()), log, sw.Elapsed, badUrl.TrimEnd('/'));
        Assert.True(outcome.Elapsed < Timeout + Slack, $"poll took {outcome.Elapsed}");
        AssertGoodIntact(outcome.Metrics);
        return outcome;
    }

    private static void AssertGoodIntact(string metrics)
    {
        Assert.Contains("natsjs_up{server=\"good1\"} 1", metrics);
        Assert.Contains("natsjs_server_streams{server=\"good1\",cluster=\"\"}", metrics);
        Assert.Contains("natsjs_stream_messages{cluster=\"\",account=\"APP\",stream=\"ORDERS\"}", metrics);
    }

    protected static void AssertDown(Outcome o, string reason)
    {
        var context = string.Join("\n", o.Metrics.Split('\n').Where(l => l.StartsWith("natsjs_up", StringComparison.Ordinal) || l.StartsWith("natsjs_scrape_errors", StringComparison.Ordinal)))
            + "\n" + string.Join("\n", o.Log.Lines.Select(l => $"{l.Level}: {l.Message}"));
        Assert.True(o.Metrics.Contains($"natsjs_up{{server=\"{o.Label}\"}} 0", StringComparison.Ordinal), context);
        Assert.True(o.Metrics.Contains($"natsjs_scrape_errors_total{{server=\"{o.Label}\",reason=\"{reason}\"}} 1", StringComparison.Ordinal), context);
        Assert.Contains(o.Label, o.Warning);
    }
}

/// <summary>
/// The memory bound of an aborted answer, measured with the process-wide heap size: run alone (after
/// the parallel tests), so other tests' allocations cannot count against it.
/// </summary>
[Collection(nameof(HttpEdgeFaultMemoryTests))]
public sealed class HttpEdgeFaultMemoryTests : HttpEdgeFaultBase
{
    [Fact]
    public async Task An_endless_body_without_length_is_aborted_at_the_limit_with_memory_bounded()
    {
        const long limit = 1024 * 1024;
        var bad = Bad(async (s, ct) =>
        {
            // A valid JSON prefix, then an endless array of accounts: the parser would happily keep going.
            await RawHttpServer.WriteAsync(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"server_id\":\"BAD\",\"account_details\":[", ct);
            var item = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"name\":\"ACCOUNT\",\"memory\":1,\"storage\":2},", 1000)));
            for (long written = 0; written < 4L * 1024 * 1024 * 1024; written += item.Length) await s.WriteAsync(item, ct);
        });
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var o = await PollAsync(bad.Url, limit);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        AssertDown(o, "too_large");
        Assert.True(bad.BytesWritten < 64L * 1024 * 1024, $"server wrote {bad.BytesWritten} bytes of 4 GiB");
        // Nothing of the aborted answer is kept (64 MiB: a loose bound for the runtime's own growth).
        Assert.True(after - before < 64L * 1024 * 1024, $"heap grew by {(after - before) / 1024 / 1024} MiB");
    }
}

[CollectionDefinition(nameof(HttpEdgeFaultMemoryTests), DisableParallelization = true)]
public sealed class HttpEdgeFaultMemoryCollection;
