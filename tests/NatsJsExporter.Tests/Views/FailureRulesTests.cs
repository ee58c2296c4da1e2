using System.Text;
using System.Text.Json;
using NatsJsExporter.Metrics;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Sources;
using NatsJsExporter.Tests.Support;
using NatsJsExporter.Views;

namespace NatsJsExporter.Tests.Views;

/// <summary>
/// The failure rules every output shares: metrics, status page, JSON and the text report read the
/// same snapshot and the same problems, so they say the same thing.
/// </summary>
public class FailureRulesTests
{
    private const string Nonce = "N";

    private static (string Metrics, string Page, string StreamPage, JsonElement Json, string Report, int Exit) AllOutputs(ClusterSnapshot s, StreamKey? stream = null)
    {
        var now = s.CollectedAt;
        var health = HealthCheck.Evaluate(s, now);
        var metrics = Encoding.UTF8.GetString(MetricsRenderer.Render(s, "test"));
        var page = StatusPage.Render(s, health, now, "test", Nonce);
        var streamPage = stream is { } k ? StatusPage.RenderStream(s, health, OperatorTables.Find(s, k), k, now, "test", Nonce) : "";
        var json = JsonDocument.Parse(SnapshotDocument.Serialize(SnapshotDocument.From(s, health, now, "test"))).RootElement.Clone();
        var w = new StringWriter();
        ReportText.Render(s, health, "all", w, plain: true);
        return (metrics, page, streamPage, json, w.ToString(), health.ExitCode);
    }

    [Fact]
    public void A_stream_whose_every_replica_is_on_failed_servers_is_listed_unreachable_critical_and_without_numbers_everywhere()
    {
        // 2.10-cluster: EVENTS is R1 on n3. A poll sees it; the next poll, n3 does not answer.
        var first = Fixtures.Snapshot("2.10-cluster");
        Assert.True(first.Streams.Single(x => x.Name == "EVENTS").Reachable);
        var reports = Fixtures.Reports("2.10-cluster").Where(r => r.ServerName != "n3")
            .Append(ServerReport.Failed("n3", "n3", "connection", "cannot connect (Connection refused)", TimeSpan.FromMilliseconds(1))).ToList();
        var s = Fixtures.Build(reports, previous: first).Snapshot;
        var key = new StreamKey("", "APP", "EVENTS");

        var (metrics, page, streamPage, json, report, exit) = AllOutputs(s, key);

        // Metrics: the stream is there with no leader; its numbers are absent, not stale.
        Assert.Contains("natsjs_stream_has_leader{cluster=\"c1\",account=\"APP\",stream=\"EVENTS\"} 0", metrics);
        Assert.Contains("natsjs_stream_info{cluster=\"c1\",account=\"APP\",stream=\"EVENTS\"", metrics);
        Assert.DoesNotContain("natsjs_stream_messages{cluster=\"c1\",account=\"APP\",stream=\"EVENTS\"}", metrics);
        Assert.DoesNotContain("natsjs_stream_bytes{cluster=\"c1\",account=\"APP\",stream=\"EVENTS\"}", metrics);

        // Status page: critical stream_unreachable, the row marked with unknown numbers; the stream page says so.
        Assert.Contains("<li class=\"critical\" data-kind=\"stream_unreachable\" data-account=\"APP\" data-stream=\"EVENTS\">", page);
        Assert.Contains("<tr class=\"bad\" data-account=\"APP\" data-stream=\"EVENTS\">", page);
        Assert.DoesNotContain("data-kind=\"stream_leader_missing\" data-account=\"APP\" data-stream=\"EVENTS\"", page);
        Assert.Contains("<dt>Messages</dt><dd>unknown</dd>", streamPage);
        Assert.Contains("<span class=\"bad\">               Leader: none: every server hosting it failed this poll</span>", streamPage);

        // JSON: listed, reachable false, numbers null, the same problem.
        Assert.Equal("critical", json.GetProperty("status").GetString());
        var events = json.GetProperty("streams").EnumerateArray().Single(x => x.GetProperty("name").GetString() == "EVENTS");
        Assert.False(events.GetProperty("reachable").GetBoolean());
        Assert.Equal(JsonValueKind.Null, events.GetProperty("messages").ValueKind);
        Assert.Equal(JsonValueKind.Null, events.GetProperty("state_from").ValueKind);
        var problem = json.GetProperty("problems").EnumerateArray().Single(p => p.GetProperty("stream").GetString() == "EVENTS");
        Assert.Equal(("stream_unreachable", "critical"), (problem.GetProperty("kind").GetString(), problem.GetProperty("severity").GetString()));

        // Report: critical, exit 2, the same sentence, the row with unknown numbers.
        Assert.Equal(2, exit);
        Assert.StartsWith("CRITICAL: 2 critical, 1 warning; 2/3 servers answered", report); // and PROCESSOR, whose leader was n3
        Assert.Contains("CRITICAL stream APP > EVENTS is unreachable: every server hosting it (n3) failed this poll; its state is unknown", report);
        Assert.Contains(report.Split('\n'), l => l.Contains(" EVENTS ") && l.Contains(" unknown "));

        // n3 answers again without EVENTS: it was deleted meanwhile, and it is gone everywhere.
        var back = Fixtures.Build(Fixtures.Reports("2.10-cluster").Select(r => r.ServerName != "n3" ? r : r with
        {
            Jsz = r.Jsz! with { AccountDetails = [.. r.Jsz.AccountDetails!.Select(a => a with { StreamDetail = [.. (a.StreamDetail ?? []).Where(x => x.Name != "EVENTS")] })] },
        }).ToList(), previous: s).Snapshot;
        Assert.DoesNotContain(back.Streams, x => x.Name == "EVENTS");
    }

    [Fact]
    public void Http_mode_with_fewer_monitor_urls_than_the_meta_group_has_warns_that_servers_were_never_polled()
    {
        // Only n1's monitor URL given for a 3-server cluster.
        var s = Fixtures.Build(Fixtures.Reports("2.9.10-cluster-healthy").Where(r => r.ServerName == "n1").ToList()).Snapshot;
        Assert.Null(s.ServersExpected); // HTTP mode: no count from the source
        Assert.Equal(3, s.ExpectedServerCount);

        var (metrics, page, _, json, report, exit) = AllOutputs(s);
        Assert.Equal(1, exit);
        Assert.StartsWith("WARNING: 1 warning; 1/3 servers answered", report);
        Assert.Contains("the meta group counts 3 servers but only 1 monitor URL is polled: 2 servers were never polled", report);
        Assert.Contains("data-kind=\"servers_not_polled\"", page);
        Assert.Contains("1/3 servers answered", page);
        Assert.Equal(3, json.GetProperty("servers_expected").GetInt64());
        Assert.Contains("\nnatsjs_servers_expected 3\n", metrics);

        // Every URL given: no warning.
        var all = Fixtures.Snapshot("2.9.10-cluster-healthy");
        Assert.Equal(0, HealthCheck.Evaluate(all, all.CollectedAt).ExitCode);
    }

    [Fact]
    public void The_text_report_says_why_each_down_server_is_down()
    {
        var s = Fixtures.Snapshot("2.9.10-cluster-healthy");
        string[] why =
        [
            "cannot connect (Connection refused (127.0.0.1:4222)); is nats-server running with its monitor port at this address?",
            "/jsz answered HTTP 401 Unauthorized; check the credentials",
            "the answer is not valid /jsz JSON ('I' is an invalid start of a value.); is this URL a NATS monitor port?",
        ];
        s = s with { Targets = s.Targets.Select((t, i) => t with { Up = false, LastError = why[i] }).ToArray(), Servers = [], MetaGroups = [], Streams = [] };
        var (_, _, _, _, report, exit) = AllOutputs(s);
        Assert.Equal(2, exit);
        for (int i = 0; i < 3; i++)
            Assert.Contains($"{s.Targets[i].Label}: {why[i]}", report);

        // One down, the others up: a line per down server, with its reason.
        var one = Fixtures.Snapshot("2.9.10-cluster-node-killed");
        var (_, _, _, _, text, _) = AllOutputs(one);
        Assert.Contains("WARNING  server n1 did not answer: no complete answer within 5s", text);
    }
}
