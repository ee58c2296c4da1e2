using System.Text;
using Microsoft.Extensions.Logging;
using NatsJsExporter.Hosting;
using NatsJsExporter.Sources;
using NatsJsExporter.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace NatsJsExporter.Tests.Sources;

/// <summary>
/// A healthy server beside one that misbehaves in a way a real server won't on demand. The bad
/// one is marked down with a reason and one clear log line; the good one's metrics are intact.
/// </summary>
public sealed class HttpFaultTests : IDisposable
{
    private readonly WireMockServer _good = WireMockServer.Start();
    private readonly WireMockServer _bad = WireMockServer.Start();
    private static readonly string GoodJsz = File.ReadAllText(Path.Combine(Fixtures.Dir("2.9.10-single"), "n1.json"));

    // Generous for a loaded 2-core CI machine (the good WireMock server must answer within it); the
    // slow server delays far past it.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public HttpFaultTests()
    {
        var id = Fixtures.Parse(Path.Combine(Fixtures.Dir("2.9.10-single"), "n1.json")).ServerId;
        _good.Given(Request.Create().WithPath("/jsz").UsingGet()).RespondWith(Response.Create().WithBody(GoodJsz));
        _good.Given(Request.Create().WithPath("/varz").UsingGet())
            .RespondWith(Response.Create().WithBody($$"""{"server_id":"{{id}}","server_name":"good1","version":"2.9.10"}"""));
        _bad.Given(Request.Create().WithPath("/varz").UsingGet())
            .RespondWith(Response.Create().WithBody("""{"server_id":"BAD","server_name":"bad1","version":"2.9.10"}"""));
    }

    public void Dispose()
    {
        _good.Stop();
        _bad.Stop();
    }

    private async Task<(string Metrics, ListLogger Log, PublishedSnapshot Published)> PollAsync(int polls = 1)
    {
        var source = new HttpMonitorSource(HttpMonitorSource.CreateHttpClient(Timeout), [new Uri(_good.Url!), new Uri(_bad.Url!)], Timeout);
        var log = new ListLogger();
        var poller = new Poller(source, new SnapshotStore(), log, TimeSpan.FromSeconds(15));
        PublishedSnapshot published = null!;
        for (int i = 0; i < polls; i++) published = await poller.PollOnceAsync(CancellationToken.None);
        return (Encoding.UTF8.GetString(published.Text()), log, published);
    }

    private void BadJsz(IResponseBuilder response) =>
        _bad.Given(Request.Create().WithPath("/jsz").UsingGet()).RespondWith(response);

    private static void AssertGoodIntact(string metrics)
    {
        Assert.Contains("natsjs_up{server=\"good1\"} 1", metrics);
        Assert.Contains("natsjs_server_streams{server=\"good1\",cluster=\"\"}", metrics);
        Assert.Contains("natsjs_stream_messages{cluster=\"\",account=\"APP\",stream=\"ORDERS\"}", metrics);
    }

    private static string Label(string url) => url.TrimEnd('/');

    [Fact]
    public async Task Http_500_marks_the_target_down_with_the_status_as_reason()
    {
        BadJsz(Response.Create().WithStatusCode(500).WithBody("internal error: boom"));
        var (metrics, log, _) = await PollAsync();
        AssertGoodIntact(metrics);
        var bad = Label(_bad.Url!);
        Assert.Contains($"natsjs_up{{server=\"{bad}\"}} 0", metrics);
        Assert.Contains($"natsjs_scrape_errors_total{{server=\"{bad}\",reason=\"http_500\"}} 1", metrics);
        var line = Assert.Single(log.Lines, l => l.Level == LogLevel.Warning).Message;
        Assert.Contains(bad, line);
        Assert.Contains("HTTP 500", line);
        Assert.Contains("boom", line);
    }

    [Fact]
    public async Task A_server_slower_than_the_timeout_does_not_delay_the_others()
    {
        BadJsz(Response.Create().WithBody(GoodJsz).WithDelay(TimeSpan.FromSeconds(25)));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var (metrics, log, published) = await PollAsync();
        // Ended at the timeout (10 s; reason "timeout" below), before the slow server's answer at 25 s
        // (WireMock holds its Stop until then: a longer delay only lengthens the test).
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(24), $"poll took {sw.Elapsed}");
        AssertGoodIntact(metrics);
        var bad = Label(_bad.Url!);
        Assert.Contains($"natsjs_scrape_errors_total{{server=\"{bad}\",reason=\"timeout\"}} 1", metrics);
        Assert.Contains("no complete answer within 10s", Assert.Single(log.Lines, l => l.Level == LogLevel.Warning).Message);
        Assert.False(published.Snapshot.Targets.Single(t => t.Target == bad).Up);
    }

    [Fact]
    public async Task Truncated_json_is_an_invalid_json_error()
    {
        BadJsz(Response.Create().WithBody(GoodJsz[..(GoodJsz.Length / 2)]));
        var (metrics, log, _) = await PollAsync();
        AssertGoodIntact(metrics);
        var bad = Label(_bad.Url!);
        Assert.Contains($"natsjs_scrape_errors_total{{server=\"{bad}\",reason=\"invalid_json\"}} 1", metrics);
        Assert.Contains("is not valid /jsz JSON", Assert.Single(log.Lines, l => l.Level == LogLevel.Warning).Message);
    }

    [Fact]
    public async Task Garbage_is_an_invalid_json_error_and_is_logged_once_over_several_polls()
    {
        BadJsz(Response.Create().WithBody("<html><body>502 Bad Gateway</body></html>"));
        var (metrics, log, _) = await PollAsync(polls: 3);
        AssertGoodIntact(metrics);
        var bad = Label(_bad.Url!);
        Assert.Contains($"natsjs_up{{server=\"{bad}\"}} 0", metrics);
        Assert.Contains($"natsjs_scrape_errors_total{{server=\"{bad}\",reason=\"invalid_json\"}} 3", metrics);
        Assert.Single(log.Lines, l => l.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task JetStream_disabled_is_down_but_the_server_is_still_described()
    {
        BadJsz(Response.Create().WithBody("""{"server_id":"BAD","now":"2026-01-01T00:00:00Z","disabled":true,"config":{"max_memory":0,"max_storage":0},"memory":0,"storage":0,"reserved_memory":0,"reserved_storage":0,"accounts":0,"ha_assets":0,"api":{"total":0,"errors":0},"streams":0,"consumers":0,"messages":0,"bytes":0}"""));
        var (metrics, log, _) = await PollAsync();
        AssertGoodIntact(metrics);
        Assert.Contains("natsjs_up{server=\"bad1\"} 0", metrics);
        Assert.Contains("natsjs_scrape_errors_total{server=\"bad1\",reason=\"jetstream_disabled\"} 1", metrics);
        Assert.Contains("natsjs_server_jetstream_enabled{server=\"bad1\",cluster=\"\"} 0", metrics);
        Assert.Contains("JetStream is disabled on server bad1", Assert.Single(log.Lines, l => l.Level == LogLevel.Warning).Message);
    }

    [Fact]
    public async Task Connection_refused_is_a_connection_error()
    {
        var url = _bad.Url!;
        _bad.Stop();
        var (metrics, log, _) = await PollAsync();
        AssertGoodIntact(metrics);
        Assert.Contains($"natsjs_scrape_errors_total{{server=\"{Label(url)}\",reason=\"connection\"}} 1", metrics);
        Assert.Contains("cannot connect", Assert.Single(log.Lines, l => l.Level == LogLevel.Warning).Message);
    }

    [Fact]
    public async Task A_server_that_goes_down_keeps_its_name_and_its_recovery_is_logged()
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(GoodJsz)!;
        node["server_id"] = "BAD";
        var healthy = Response.Create().WithBody(node.ToJsonString());
        BadJsz(healthy);
        var source = new HttpMonitorSource(HttpMonitorSource.CreateHttpClient(Timeout), [new Uri(_good.Url!), new Uri(_bad.Url!)], Timeout);
        var log = new ListLogger();
        var poller = new Poller(source, new SnapshotStore(), log, TimeSpan.FromSeconds(15));
        var first = Encoding.UTF8.GetString((await poller.PollOnceAsync(default)).Text());
        Assert.Contains("natsjs_up{server=\"bad1\"} 1", first);

        _bad.Reset();
        _bad.Given(Request.Create().WithPath("/jsz").UsingGet()).RespondWith(Response.Create().WithStatusCode(503));
        var second = Encoding.UTF8.GetString((await poller.PollOnceAsync(default)).Text());
        Assert.Contains("natsjs_up{server=\"bad1\"} 0", second);
        Assert.Contains("natsjs_scrape_errors_total{server=\"bad1\",reason=\"http_503\"} 1", second);
        Assert.DoesNotContain("natsjs_server_info{server=\"bad1\"", second);
        Assert.Contains("natsjs_server_info{server=\"good1\"", second);

        _bad.Reset();
        _bad.Given(Request.Create().WithPath("/jsz").UsingGet()).RespondWith(healthy);
        var third = Encoding.UTF8.GetString((await poller.PollOnceAsync(default)).Text());
        Assert.Contains("natsjs_up{server=\"bad1\"} 1", third);
        Assert.Contains("natsjs_scrape_errors_total{server=\"bad1\",reason=\"http_503\"} 1", third);
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Information && l.Message.Contains("answers again"));
    }

    [Fact]
    public async Task Accounts_are_paged_with_offset_and_limit()
    {
        // Page size 1: the fixture's single account fills page one, so a second page is asked for.
        var jsz = Fixtures.Parse(Path.Combine(Fixtures.Dir("2.9.10-cluster-healthy"), "n1.json"));
        var body = File.ReadAllText(Path.Combine(Fixtures.Dir("2.9.10-cluster-healthy"), "n1.json"));
        _bad.Given(Request.Create().WithPath("/jsz").WithParam("offset", "0").UsingGet()).RespondWith(Response.Create().WithBody(body));
        _bad.Given(Request.Create().WithPath("/jsz").WithParam("offset", "1").UsingGet())
            .RespondWith(Response.Create().WithBody($$"""{"server_id":"{{jsz.ServerId}}","account_details":[{"name":"OTHER","memory":0,"storage":0,"reserved_memory":0,"reserved_storage":0}]}"""));
        _bad.Given(Request.Create().WithPath("/jsz").WithParam("offset", "2").UsingGet())
            .RespondWith(Response.Create().WithBody($$"""{"server_id":"{{jsz.ServerId}}","account_details":[]}"""));
        _bad.Given(Request.Create().WithPath("/varz").UsingGet())
            .RespondWith(Response.Create().WithBody($$"""{"server_id":"{{jsz.ServerId}}","server_name":"n1","version":"2.9.10"}"""));
        var source = new HttpMonitorSource(HttpMonitorSource.CreateHttpClient(Timeout), [new Uri(_bad.Url!)], Timeout, pageSize: 1);
        var report = Assert.Single(await source.CollectAsync(default));
        Assert.True(report.Succeeded, report.ErrorMessage);
        Assert.Equal(["APP", "OTHER"], report.Jsz!.AccountDetails!.Select(a => a.Name));
    }
}
