using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using NatsJsExporter.Hosting;
using NatsJsExporter.Metrics;
using NatsJsExporter.Model;
using NatsJsExporter.Sources;
using NatsJsExporter.Tests.Support;
using NatsJsExporter.Views;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace NatsJsExporter.Tests.Healthz;

/// <summary>
/// A server's own /healthz beside its /jsz: a 503 is data (the server says it is unhealthy), not a
/// failed poll; a healthz that cannot be read drops only the healthz series. Bodies are real
/// answers: the 2.15.1 and 2.9.10 catch-up fixtures.
/// </summary>
public sealed class HealthzTests : IDisposable
{
    private readonly WireMockServer _server = WireMockServer.Start();
    private static readonly string Jsz = File.ReadAllText(Path.Combine(Fixtures.Dir("2.9.10-single"), "n1.json"));
    private static readonly string CatchUpBody = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(Fixtures.Dir("2.15.1-cluster-healthz-catchup"), "healthz", "n1.json"))).RootElement.GetProperty("body").GetRawText();
    // 2.9.10: no details, one sentence (fixture 2.9.10-cluster-healthz-catchup, the restarted replica).
    private static readonly string Body29 = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(Fixtures.Dir("2.9.10-cluster-healthz-catchup"), "healthz", "n1.json"))).RootElement.GetProperty("body").GetRawText();

    public HealthzTests()
    {
        var id = Fixtures.Parse(Path.Combine(Fixtures.Dir("2.9.10-single"), "n1.json")).ServerId;
        _server.Given(Request.Create().WithPath("/jsz").UsingGet()).RespondWith(Response.Create().WithBody(Jsz));
        _server.Given(Request.Create().WithPath("/varz").UsingGet())
            .RespondWith(Response.Create().WithBody($$"""{"server_id":"{{id}}","server_name":"s1","version":"2.15.1"}"""));
    }

    public void Dispose() => _server.Stop();

    private void Healthz(IResponseBuilder response) =>
        _server.Given(Request.Create().WithPath("/healthz").WithParam("details", "true").UsingGet()).RespondWith(response);

    private async Task<(string Metrics, ListLogger Log, PublishedSnapshot Published)> PollAsync(TimeSpan? timeout = null)
    {
        // Generous: WireMock's first answers are slow on a loaded 2-core machine, and every test here
        // needs /jsz answered within the timeout.
        var t = timeout ?? TimeSpan.FromSeconds(15);
        var source = new HttpMonitorSource(HttpMonitorSource.CreateHttpClient(t), [new Uri(_server.Url!)], t);
        var log = new ListLogger();
        var poller = new Poller(source, new SnapshotStore(), log, TimeSpan.FromSeconds(15));
        var published = await poller.PollOnceAsync(CancellationToken.None);
        return (Encoding.UTF8.GetString(published.Text()), log, published);
    }

    private static void AssertPollSucceeded(string metrics, ListLogger log)
    {
        Assert.Contains("natsjs_up{server=\"s1\"} 1", metrics);
        Assert.Contains("natsjs_stream_messages{cluster=\"\",account=\"APP\",stream=\"ORDERS\"}", metrics);
        var counted = Regex.Matches(metrics, "^natsjs_scrape_errors_total\\{server=\"s1\",reason=\"([^\"]+)\"\\} ([0-9]+)$", RegexOptions.Multiline);
        Assert.NotEmpty(counted);
        Assert.All(counted, m => Assert.True(m.Groups[2].Value == "0", $"scrape error counted: {m.Value}"));
        Assert.DoesNotContain(log.Lines, l => l.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task A_503_with_details_is_data_the_server_stays_up_and_the_failing_stream_is_named()
    {
        Healthz(Response.Create().WithStatusCode(503).WithBody(CatchUpBody));
        var (metrics, log, published) = await PollAsync();
        AssertPollSucceeded(metrics, log);
        Assert.Contains("natsjs_server_healthy{server=\"s1\",cluster=\"\"} 0", metrics);
        Assert.Contains("natsjs_healthz_unhealthy{server=\"s1\",cluster=\"\",kind=\"stream\",account=\"APP\",stream=\"ORDERS\"} 1", metrics);
        Assert.DoesNotContain("catching up", metrics); // the text is never a label

        var s = published.Snapshot;
        var health = HealthCheck.Evaluate(s, s.CollectedAt);
        var p = Assert.Single(health.Problems, x => x.Kind == ProblemKind.HealthzError);
        Assert.Equal(("s1", "APP", "ORDERS", (string?)null), (p.Server, p.Account, p.Stream, p.Consumer));
        Assert.Contains("stream catching up", p.Message);
        Assert.Contains("stream catching up", StatusPage.Render(s, health, s.CollectedAt, "test", "n0nce"));
        var text = new StringWriter();
        ReportText.Render(s, health, "all", text, plain: true);
        Assert.Contains("Server Health Checks (/healthz): 0 of 1 ok", text.ToString());
        Assert.Contains("stream catching up", text.ToString());
    }

    [Fact]
    public async Task A_healthy_server_is_1_and_names_nothing()
    {
        Healthz(Response.Create().WithBody("""{"status":"ok"}"""));
        var (metrics, log, published) = await PollAsync();
        AssertPollSucceeded(metrics, log);
        Assert.Contains("natsjs_server_healthy{server=\"s1\",cluster=\"\"} 1", metrics);
        Assert.DoesNotContain("natsjs_healthz_unhealthy", metrics);
        var s = published.Snapshot;
        Assert.DoesNotContain(HealthCheck.Evaluate(s, s.CollectedAt).Problems, p => p.Kind == ProblemKind.HealthzError);
    }

    [Fact]
    public async Task A_2_9_server_without_details_is_judged_at_server_level_only()
    {
        Healthz(Response.Create().WithStatusCode(503).WithBody(Body29));
        var (metrics, log, published) = await PollAsync();
        AssertPollSucceeded(metrics, log);
        Assert.Contains("natsjs_server_healthy{server=\"s1\",cluster=\"\"} 0", metrics);
        Assert.DoesNotContain("natsjs_healthz_unhealthy{", metrics);
        var s = published.Snapshot;
        var p = Assert.Single(HealthCheck.Evaluate(s, s.CollectedAt).Problems, x => x.Kind == ProblemKind.HealthzError);
        Assert.Equal("s1", p.Server);
        Assert.Null(p.Stream);
        Assert.Contains("JetStream stream 'APP > ORDERS' is not current", p.Message);
    }

    [Fact]
    public async Task A_healthz_that_cannot_be_read_drops_only_its_own_series()
    {
        Healthz(Response.Create().WithStatusCode(404).WithBody("404 page not found"));
        var (metrics, log, published) = await PollAsync();
        AssertPollSucceeded(metrics, log);
        Assert.DoesNotContain("natsjs_server_healthy{", metrics);
        var view = Assert.Single(published.Snapshot.Healthz!);
        Assert.Null(view.Healthy);
        Assert.Contains("HTTP 404", view.FetchError);
        Assert.Contains("HTTP 404", HealthzTable.Build(published.Snapshot)!.Rows.Single().Cells[4]);
    }

    [Fact]
    public async Task A_healthz_slower_than_the_timeout_does_not_fail_the_jsz_part()
    {
        // The timeout must also let /jsz through on a loaded machine (2 s did not always); the
        // healthz answer comes at 25 s, and the poll must end before it (WireMock holds its Stop
        // until then: a longer delay only lengthens the test).
        Healthz(Response.Create().WithBody("""{"status":"ok"}""").WithDelay(TimeSpan.FromSeconds(25)));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var (metrics, log, published) = await PollAsync(TimeSpan.FromSeconds(10));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(24), $"poll took {sw.Elapsed}");
        AssertPollSucceeded(metrics, log);
        Assert.DoesNotContain("natsjs_server_healthy{", metrics);
        Assert.Contains("no answer within 10s", published.Snapshot.Healthz!.Single().FetchError);
    }

    [Fact]
    public void System_replies_of_2_15_and_2_9_are_parsed_with_their_status()
    {
        var (name, ok) = HealthzFetch.Parse("""{"server":{"name":"n1","ver":"2.15.1"},"data":{"status":"ok","status_code":200}}"""u8);
        Assert.Equal("n1", name);
        Assert.Equal((true, (int?)200), (ok.Healthy, ok.StatusCode));

        var (_, bad) = HealthzFetch.Parse(Encoding.UTF8.GetBytes("""{"server":{"name":"n2","ver":"2.15.1"},"data":""" + CatchUpBody.TrimEnd()[..^1] + ""","status_code":503}}"""));
        Assert.Equal((false, (int?)503), (bad.Healthy, bad.StatusCode));
        Assert.Equal("STREAM", Assert.Single(bad.Body!.Errors!).Type);

        var (_, old) = HealthzFetch.Parse(Encoding.UTF8.GetBytes($$"""{"server":{"name":"n3","ver":"2.9.10"},"data":{{Body29}}}"""));
        Assert.Equal((false, (int?)null), (old.Healthy, old.StatusCode));
        Assert.Equal("JetStream stream 'APP > ORDERS' is not current", old.Body!.Error);

        var (_, broken) = HealthzFetch.Parse("""{"server":{"name":"n4"},"error":{"code":500,"description":"boom"}}"""u8);
        Assert.Null(broken.Healthy);
        Assert.Contains("boom", broken.FetchError);
    }

    [Fact]
    public void Error_types_sent_as_numbers_map_to_the_same_kinds()
    {
        var body = JsonSerializer.Deserialize("""{"status":"error","errors":[{"type":4,"account":"A","stream":"S","error":"x"},{"type":5,"account":"A","stream":"S","consumer":"C","error":"y"},{"type":2,"error":"z"},{"type":"SOMETHING_NEW","error":"w"}]}""",
            HealthzJsonContext.Default.HealthzResponse)!;
        Assert.Equal(["stream", "consumer", "jetstream", "other"], body.Errors!.Select(e => NatsJsExporter.Snapshot.HealthzKinds.Of(e.Type)));
    }

    [Fact]
    public void Killed_node_fixture_names_each_asset_once_per_server_and_the_text_nowhere_in_the_metrics()
    {
        var s = Fixtures.Snapshot("2.15.1-cluster-healthz-killed");
        var text = Encoding.UTF8.GetString(MetricsRenderer.Render(s, "test"));
        var series = Regex.Matches(text, "^natsjs_healthz_unhealthy\\{(.*)\\} 1$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(4, series.Length); // n1 and n3 each: consumer ORDERS/PROCESSOR and stream ORDERS_ARCHIVE
        Assert.Equal(series.Length, series.Distinct().Count());
        Assert.DoesNotContain("group node unhealthy", text);
        var problems = HealthCheck.Evaluate(s, s.CollectedAt).Problems.Where(p => p.Kind == ProblemKind.HealthzError).ToArray();
        Assert.Equal(4, problems.Length);
        Assert.All(problems, p => Assert.Contains("group node unhealthy", p.Message));
        Assert.Contains(problems, p => p is { Server: "n1", Stream: "ORDERS", Consumer: "PROCESSOR" });
    }

    [Fact]
    public void Fixtures_without_healthz_answers_have_no_healthz_series_nor_json_key()
    {
        foreach (var fixture in new[] { "2.9.10-cluster-healthy", "2.10-cluster", "2.14-cluster" })
        {
            var s = Fixtures.Snapshot(fixture);
            Assert.Null(s.Healthz);
            Assert.DoesNotContain("healthz", Encoding.UTF8.GetString(MetricsRenderer.Render(s, "test")));
            var now = s.CollectedAt;
            Assert.DoesNotContain("\"healthz\"", Encoding.UTF8.GetString(SnapshotDocument.Serialize(SnapshotDocument.From(s, HealthCheck.Evaluate(s, now), now, "test"))));
        }
    }
}
