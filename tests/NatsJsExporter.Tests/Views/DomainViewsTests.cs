using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NatsJsExporter.Hosting;
using NatsJsExporter.Metrics;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Tests.Support;
using NatsJsExporter.Views;

namespace NatsJsExporter.Tests.Views;

/// <summary>
/// Two JetStream domains with a stream of the same account and name (the captured 2.10-domains
/// fixture: ORDERS holds 7 messages in east, 3 in west). Served by the exporter's own endpoints:
/// every link of the status page reaches its own stream, with its own numbers and problems.
/// </summary>
public sealed class DomainViewsTests : IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>The fixture, collected now (so the page is not stale), with west's ORDERS replica n3-west outdated.</summary>
    private static ClusterSnapshot Snapshot()
    {
        var s = Fixtures.Snapshot("2.10-domains") with { CollectedAt = DateTimeOffset.UtcNow };
        return s with
        {
            Streams = s.Streams.Select(x => x.Domain == "west" && x.Name == "ORDERS"
                ? x with { Peers = x.Peers.Select(p => p.Name == "n3-west" ? p with { Current = false, Lag = 42, LastSeenSeconds = 12.5 } : p).ToArray() }
                : x).ToArray(),
        };
    }

    private async Task<HttpClient> Serve(ClusterSnapshot s)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSingleton<ExpositionCache>();
        builder.Services.AddSingleton<SnapshotStore>();
        _app = builder.Build();
        _app.MapExporterEndpoints();
        await _app.StartAsync();
        _app.Services.GetRequiredService<SnapshotStore>().Publish(new PublishedSnapshot(s, MetricsRenderer.Render(s, "test")));
        return new HttpClient { BaseAddress = new Uri(_app.Urls.First() + "/") };
    }

    [Fact]
    public async Task Both_ORDERS_pages_are_reached_from_the_status_page_each_with_its_own_numbers_and_problems()
    {
        using var http = await Serve(Snapshot());
        var index = await http.GetStringAsync("/");

        // Every stream link on the page answers 200; the two ORDERS rows link to two different pages.
        var links = Regex.Matches(index, "href=\"(/(?:domains/[^\"/]+/)?streams/[^\"]+)\"").Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).Distinct().ToArray();
        Assert.Contains("/domains/east/streams/APP/ORDERS", links);
        Assert.Contains("/domains/west/streams/APP/ORDERS", links);
        foreach (var link in links)
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(link)).StatusCode);

        // The stream table has a Domain column and marks only west's row.
        Assert.Contains("<th>Domain</th>", index);
        Assert.Contains("<tr class=\"bad\" data-domain=\"west\" data-account=\"APP\" data-stream=\"ORDERS\">", index);
        Assert.Contains("<tr data-domain=\"east\" data-account=\"APP\" data-stream=\"ORDERS\">", index);
        Assert.Contains("data-kind=\"replica_outdated\" data-domain=\"west\" data-account=\"APP\" data-stream=\"ORDERS\" data-server=\"n3-west\"", index);
        Assert.Contains("stream west: APP &gt; ORDERS: replica n3-west is outdated", index);

        var east = await http.GetStringAsync("/domains/east/streams/APP/ORDERS");
        Assert.Contains("<dt>Domain</dt><dd>east</dd>", east);
        Assert.Contains("<dt>Messages</dt><dd>7</dd>", east);
        Assert.Contains("All healthy", east);
        Assert.DoesNotContain("n3-west", east);

        var west = await http.GetStringAsync("/domains/west/streams/APP/ORDERS");
        Assert.Contains("<dt>Domain</dt><dd>west</dd>", west);
        Assert.Contains("<dt>Messages</dt><dd>3</dd>", west);
        Assert.Contains("data-kind=\"replica_outdated\"", west);
        Assert.Contains("<span class=\"bad\">              Replica: n3-west, outdated, seen 12.50s ago, 42 operations behind</span>", west);
        Assert.DoesNotContain("east", west.Replace("domain-east", ""));
    }

    [Fact]
    public async Task The_path_without_a_domain_is_for_streams_outside_domains_and_points_to_the_domain_pages()
    {
        using var http = await Serve(Snapshot());
        var response = await http.GetAsync("/streams/APP/ORDERS");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("href=\"/domains/east/streams/APP/ORDERS\"", body);
        Assert.Contains("href=\"/domains/west/streams/APP/ORDERS\"", body);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/domains/north/streams/APP/ORDERS")).StatusCode);
    }

    [Fact]
    public void Problems_carry_the_domain_and_the_report_and_json_keep_the_domains_apart()
    {
        var s = Snapshot();
        var health = HealthCheck.Evaluate(s, s.CollectedAt);
        var p = Assert.Single(health.Problems, x => x.Kind != ProblemKind.QuorumAtRisk); // also at risk: 2 of 3 current
        Assert.Equal((ProblemKind.ReplicaOutdated, "west", "APP", "ORDERS", "n3-west"), (p.Kind, p.Domain, p.Account, p.Stream, p.Server));
        Assert.False(health.StreamHasProblem(new StreamKey("east", "APP", "ORDERS")));
        Assert.True(health.StreamHasProblem(new StreamKey("west", "APP", "ORDERS")));

        var w = new StringWriter();
        ReportText.Render(s, health, "streams", w, plain: true);
        var lines = w.ToString().Split('\n');
        Assert.Contains(lines, l => l.Contains(" east ") && l.Contains(" ORDERS ") && l.Contains(" 7 ") && !l.Contains('!'));
        Assert.Contains(lines, l => l.Contains(" west ") && l.Contains(" ORDERS ") && l.Contains(" 3 ") && l.Contains("n3-west!"));

        using var doc = System.Text.Json.JsonDocument.Parse(SnapshotDocument.Serialize(SnapshotDocument.From(s, health, s.CollectedAt, "test")));
        var problem = Assert.Single(doc.RootElement.GetProperty("problems").EnumerateArray(), x => x.GetProperty("kind").GetString() != "quorum_at_risk");
        Assert.Equal("west", problem.GetProperty("domain").GetString());
        Assert.Equal("n3-west", problem.GetProperty("server").GetString());
        Assert.Equal(["east", "west"], doc.RootElement.GetProperty("streams").EnumerateArray()
            .Where(x => x.GetProperty("name").GetString() == "ORDERS").Select(x => x.GetProperty("domain").GetString()));
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
