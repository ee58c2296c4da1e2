using NatsJsExporter.Sources;
using NatsJsExporter.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace NatsJsExporter.Tests.Sources;

/// <summary>When the HTTP source asks /raftz, and that nothing about it can fail a poll.</summary>
public sealed class RaftzFetchTests : IDisposable
{
    private readonly WireMockServer _server = WireMockServer.Start();

    public void Dispose() => _server.Stop();

    private const string Fixture = "2.15.1-cluster-raftz";

    private async Task<(List<ServerReport> Reports, List<string> Raftz)> PollAsync(string version, int raftzStatus, RaftzGroups groups, int polls = 2)
    {
        var jszPath = Path.Combine(Fixtures.Dir(Fixture), "n1.json");
        var id = Fixtures.Parse(jszPath).ServerId;
        _server.Given(Request.Create().WithPath("/jsz").UsingGet()).RespondWith(Response.Create().WithBody(File.ReadAllText(jszPath)));
        _server.Given(Request.Create().WithPath("/varz").UsingGet())
            .RespondWith(Response.Create().WithBody($$"""{"server_id":"{{id}}","server_name":"n1","version":"{{version}}"}"""));
        var raftz = File.ReadAllText(Path.Combine(Fixtures.Dir(Fixture), "raftz", "n1.json"));
        _server.Given(Request.Create().WithPath("/raftz").UsingGet())
            .RespondWith(raftzStatus == 200 ? Response.Create().WithBody(raftz) : Response.Create().WithStatusCode(raftzStatus).WithBody("No Raft nodes registered"));
        var timeout = TimeSpan.FromSeconds(20);
        var source = new HttpMonitorSource(HttpMonitorSource.CreateHttpClient(timeout), [new Uri(_server.Url!)], timeout, raftz: groups);
        var reports = new List<ServerReport>();
        for (int i = 0; i < polls; i++) reports.Add((await source.CollectAsync(default)).Single());
        return (reports, _server.LogEntries.Where(e => e.RequestMessage.Path == "/raftz").Select(e => e.RequestMessage.Url).ToList());
    }

    [Fact]
    public async Task A_2_9_server_is_never_asked()
    {
        var (reports, raftz) = await PollAsync("2.9.10", 200, RaftzGroups.All);
        Assert.Empty(raftz);
        Assert.All(reports, r => Assert.True(r.Succeeded));
        Assert.All(reports, r => Assert.Null(r.Raftz));
    }

    [Fact]
    public async Task A_404_is_no_error_and_is_not_asked_again_until_a_restart()
    {
        var (reports, raftz) = await PollAsync("2.10.27", 404, RaftzGroups.Meta, polls: 3);
        Assert.Single(raftz);
        Assert.All(reports, r => Assert.True(r.Succeeded));
        Assert.All(reports, r => Assert.Null(r.ErrorReason));
    }

    [Fact]
    public async Task A_failing_raftz_leaves_the_poll_successful()
    {
        var (reports, raftz) = await PollAsync("2.15.1", 500, RaftzGroups.Meta);
        Assert.Equal(2, raftz.Count); // not a 404: asked again next poll
        Assert.All(reports, r => Assert.True(r.Succeeded));
        Assert.All(reports, r => Assert.Null(r.Raftz));
    }

    [Fact]
    public async Task Meta_asks_once_per_poll_and_all_adds_one_request_per_replicated_account()
    {
        var (meta, metaQueries) = await PollAsync("2.15.1", 200, RaftzGroups.Meta, polls: 1);
        Assert.Equal(["/raftz"], metaQueries.Select(u => new Uri(u).PathAndQuery));
        Assert.Contains("_meta_", meta[0].Raftz!.SelectMany(a => a.Value.Keys));
        _server.ResetLogEntries();
        var (_, allQueries) = await PollAsync("2.15.1", 200, RaftzGroups.All, polls: 1);
        Assert.Equal(["/raftz", "/raftz?acc=APP"], allQueries.Select(u => new Uri(u).PathAndQuery).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Off_never_asks()
    {
        var (_, raftz) = await PollAsync("2.15.1", 200, RaftzGroups.Off);
        Assert.Empty(raftz);
    }
}
