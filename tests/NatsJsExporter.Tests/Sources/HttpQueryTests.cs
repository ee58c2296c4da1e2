using NatsJsExporter.Sources;
using NatsJsExporter.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace NatsJsExporter.Tests.Sources;

/// <summary>What the HTTP source asks each server, depending on the version it learned.</summary>
public sealed class HttpQueryTests : IDisposable
{
    private readonly WireMockServer _server = WireMockServer.Start();

    public void Dispose() => _server.Stop();

    private async Task<List<string>> JszQueriesAsync(string version, bool consumers, int polls = 2, bool everyReplica = false)
    {
        var body = File.ReadAllText(Path.Combine(Fixtures.Dir("2.9.10-single"), "n1.json"));
        var id = Fixtures.Parse(Path.Combine(Fixtures.Dir("2.9.10-single"), "n1.json")).ServerId;
        _server.Given(Request.Create().WithPath("/jsz").UsingGet()).RespondWith(Response.Create().WithBody(body));
        _server.Given(Request.Create().WithPath("/varz").UsingGet())
            .RespondWith(Response.Create().WithBody($$"""{"server_id":"{{id}}","server_name":"n1","version":"{{version}}"}"""));
        var timeout = TimeSpan.FromSeconds(20); // generous: a loaded CI machine starts WireMock slowly
        var source = new HttpMonitorSource(HttpMonitorSource.CreateHttpClient(timeout), [new Uri(_server.Url!)], timeout, consumers: consumers) { EveryReplica = everyReplica };
        for (int i = 0; i < polls; i++)
            Assert.True((await source.CollectAsync(default)).Single().Succeeded);
        return _server.LogEntries.Where(e => e.RequestMessage.Path == "/jsz").Select(e => e.RequestMessage.Url).ToList();
    }

    [Fact]
    public async Task Old_servers_get_only_the_basic_options()
    {
        var queries = await JszQueriesAsync("2.9.10", consumers: true);
        Assert.All(queries, q => Assert.Contains("accounts=true&streams=true&consumers=true&config=true&offset=0&limit=1024", q));
        Assert.All(queries, q => Assert.DoesNotContain("raft", q));
    }

    [Fact]
    public async Task Raft_groups_are_asked_for_once_the_server_is_known_to_support_them()
    {
        var queries = await JszQueriesAsync("2.10.27", consumers: true);
        Assert.DoesNotContain("raft=true", queries[0]); // first contact: version not known yet
        Assert.Contains("raft=true", queries[1]);
        Assert.All(queries, q => Assert.DoesNotContain("stream-leader-only", q));
    }

    [Fact]
    public async Task Stream_leader_only_is_used_when_consumer_metrics_are_off()
    {
        var queries = await JszQueriesAsync("2.15.1", consumers: false);
        Assert.Contains("consumers=false", queries[1]);
        Assert.Contains("stream-leader-only=true", queries[1]);
    }

    [Fact]
    public async Task Stream_leader_only_is_not_used_while_replicas_are_compared()
    {
        // --consumers=false with --replica-comparison (the default): every follower's own copy is needed.
        var queries = await JszQueriesAsync("2.15.1", consumers: false, everyReplica: true);
        Assert.Contains("consumers=false", queries[1]);
        Assert.Contains("raft=true", queries[1]);
        Assert.All(queries, q => Assert.DoesNotContain("stream-leader-only", q));
    }
}
