using System.Text;
using System.Text.Json;
using NatsJsExporter.Metrics;
using NatsJsExporter.Model;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Tests.Support;
using NatsJsExporter.Views;

namespace NatsJsExporter.Tests.Snapshot;

/// <summary>
/// natscli's per-asset thresholds (`io.nats.monitor.*` metadata): read as natscli reads them, one
/// gauge per key with the asset's identity labels, a bad value reported (once in the log, as a
/// problem while it lasts) and never a reason to drop the asset's other series.
/// </summary>
public class MonitorThresholdsTests
{
    private const string Fixture = "2.15.1-monitor-metadata";

    [Theory]
    [InlineData("200", 200d)]
    [InlineData("0", 0d)]
    [InlineData("18446744073709551615", 18446744073709551615d)]
    public void Unsigned_keys_read_whole_numbers(string raw, double expected)
    {
        var (value, error) = MonitorThresholds.Parse(MonitorValueKind.Unsigned, raw);
        Assert.Null(error);
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("-5")]      // Go ParseUint refuses a sign: natscli fails the check
    [InlineData("+5")]
    [InlineData("1.5")]
    [InlineData("1e3")]
    [InlineData("200 ")]
    [InlineData("lots")]
    [InlineData("")]
    [InlineData("18446744073709551616")]
    public void Unsigned_keys_refuse_what_natscli_refuses(string raw)
    {
        var (value, error) = MonitorThresholds.Parse(MonitorValueKind.Unsigned, raw);
        Assert.Null(value);
        Assert.StartsWith("a whole number", error);
    }

    [Theory]
    [InlineData("10", 10d)]
    [InlineData("+10", 10d)]
    [InlineData("-1", -1d)]   // natscli's own default for "off"
    [InlineData("0", 0d)]
    public void Signed_keys_read_whole_numbers_with_a_sign(string raw, double expected)
    {
        var (value, error) = MonitorThresholds.Parse(MonitorValueKind.Signed, raw);
        Assert.Null(error);
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("1.0")]
    [InlineData("ten")]
    [InlineData("-")]
    [InlineData("5s")]
    public void Signed_keys_refuse_what_natscli_refuses(string raw) =>
        Assert.Null(MonitorThresholds.Parse(MonitorValueKind.Signed, raw).Value);

    [Theory]
    [InlineData("5s", 5d)]
    [InlineData("1m30s", 90d)]
    [InlineData("1h", 3600d)]
    [InlineData("1.5h", 5400d)]
    [InlineData("500ms", 0.5d)]
    [InlineData("2d", 172800d)]
    [InlineData("1w", 604800d)]
    [InlineData("1M", 2592000d)]   // month: 30 days
    [InlineData("1y", 31536000d)]
    [InlineData(" 10m ", 600d)]   // jsm.go trims
    [InlineData("0", 0d)]
    [InlineData("-5s", -5d)]
    public void Durations_read_as_jsm_go_reads_them_in_seconds(string raw, double seconds)
    {
        var (value, error) = MonitorThresholds.Parse(MonitorValueKind.Duration, raw);
        Assert.Null(error);
        Assert.Equal(seconds, value!.Value, 9);
    }

    [Theory]
    [InlineData("30")]      // a bare number is not a duration (natscli refuses it)
    [InlineData("5x")]
    [InlineData("s")]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("1.2.3s")]
    [InlineData("300y")]    // beyond Go's time.Duration
    public void Durations_refuse_what_jsm_go_refuses(string raw)
    {
        var (value, error) = MonitorThresholds.Parse(MonitorValueKind.Duration, raw);
        Assert.Null(value);
        Assert.StartsWith("a duration such as 30s", error);
    }

    [Fact]
    public void Settings_keep_only_the_asset_kinds_keys_and_drop_checks_that_are_off()
    {
        var metadata = new Dictionary<string, string>
        {
            ["io.nats.monitor.enabled"] = "true",
            ["io.nats.monitor.peer-lag-critical"] = "200",
            ["io.nats.monitor.seen-critical"] = "1m",
            ["io.nats.monitor.msgs-warn"] = "0",          // off: no threshold
            ["io.nats.monitor.min-sources"] = "-1",       // off
            ["io.nats.monitor.msgs-critical"] = "-1",     // unsigned: an error for natscli
            ["io.nats.monitor.waiting-critical"] = "5",   // a consumer key on a stream: natscli ignores it
        };
        var stream = MonitorThresholds.From(metadata, consumer: false)!;
        Assert.Equal([("io.nats.monitor.seen-critical", 60d), ("io.nats.monitor.peer-lag-critical", 200d)],
            stream.Thresholds.Select(t => (t.Key, t.Value)));
        var bad = Assert.Single(stream.Invalid);
        Assert.Equal(("io.nats.monitor.msgs-critical", "-1"), (bad.Key, bad.Value));

        var consumer = MonitorThresholds.From(metadata, consumer: true)!;
        Assert.Equal(5d, consumer.Value("io.nats.monitor.waiting-critical"));
        Assert.Single(consumer.Thresholds);

        Assert.Null(MonitorThresholds.From(new Dictionary<string, string> { ["io.nats.monitor.enabled"] = "true" }, consumer: false));
        Assert.Null(MonitorThresholds.From(null, consumer: true));
    }

    [Fact]
    public void Parsing_jsz_keeps_only_monitor_metadata_and_skips_values_that_are_not_strings()
    {
        const string json = """
            {"account_details":[{"name":"APP","stream_detail":[{"name":"S","config":{"name":"S","metadata":{
              "_nats.req.level":"0","owner":"team-a","io.nats.monitor.lag-critical":"10",
              "io.nats.monitor.msgs-warn":5,"io.nats.monitor.nested":{"a":["b"]},"io.nats.monitor.seen-critical":"1m"}},
              "consumer_detail":[{"name":"C","config":{"durable_name":"C","metadata":{"_nats.level":"1"}}}]}]}]}
            """;
        var jsz = JsonSerializer.Deserialize(json, JszJsonContext.Default.JszResponse)!;
        var sd = jsz.AccountDetails![0].StreamDetail![0];
        Assert.Equal(new Dictionary<string, string> { ["io.nats.monitor.lag-critical"] = "10", ["io.nats.monitor.seen-critical"] = "1m" }, sd.Config!.Metadata);
        Assert.Null(sd.ConsumerDetail![0].Config!.Metadata);
    }

    [Fact]
    public void A_real_capture_without_monitor_keys_keeps_no_metadata()
    {
        var s = Fixtures.Snapshot("2.15.1-cluster-features");
        Assert.All(s.Streams, st => Assert.Null(st.Monitor));
        Assert.All(s.Streams.SelectMany(st => st.Consumers), c => Assert.Null(c.Monitor));
        Assert.DoesNotContain("_monitor_", Encoding.UTF8.GetString(MetricsRenderer.Render(s, "test")));
    }

    [Fact]
    public void Each_asset_exports_its_own_thresholds_with_its_identity_labels()
    {
        var text = Encoding.UTF8.GetString(MetricsRenderer.Render(Fixtures.Snapshot(Fixture), "test"));
        var lines = text.Split('\n');
        string[] Series(string family) => lines.Where(l => l.StartsWith(family + "{", StringComparison.Ordinal)).ToArray();

        Assert.Equal(["natsjs_stream_monitor_peer_lag_critical{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\"} 200"],
            Series("natsjs_stream_monitor_peer_lag_critical"));
        Assert.Equal(["natsjs_stream_monitor_peer_seen_critical_seconds{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\"} 5"],
            Series("natsjs_stream_monitor_peer_seen_critical_seconds")); // LIMITED's "30" is not a duration
        Assert.Equal(["natsjs_stream_monitor_seen_critical_seconds{cluster=\"c1\",account=\"APP\",stream=\"ORDERS_ARCHIVE\"} 90",
                      "natsjs_stream_monitor_seen_critical_seconds{cluster=\"c1\",account=\"APP\",stream=\"ORDERS_MIRROR\"} 600"],
            Series("natsjs_stream_monitor_seen_critical_seconds"));
        Assert.Equal(["natsjs_stream_monitor_msgs_critical{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\"} 5"],
            Series("natsjs_stream_monitor_msgs_critical")); // LIMITED's "lots" exports nothing
        Assert.Equal(["natsjs_stream_monitor_msgs_warn{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\"} 10"],
            Series("natsjs_stream_monitor_msgs_warn")); // LIMITED's 0 turns the check off
        Assert.Equal(["natsjs_consumer_monitor_last_ack_critical_seconds{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\",consumer=\"PROCESSOR\"} 3600"],
            Series("natsjs_consumer_monitor_last_ack_critical_seconds")); // AUDIT's "soon" exports nothing
        Assert.Equal(["natsjs_consumer_monitor_waiting_critical{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\",consumer=\"PROCESSOR\"} 50"],
            Series("natsjs_consumer_monitor_waiting_critical")); // AUDIT's -1 is natscli's "off"

        // The labels are the asset's identity, exactly as on its own series (what group_left joins on).
        Assert.Contains(lines, l => l.StartsWith("natsjs_stream_messages{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\"} ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("natsjs_consumer_pending_messages{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\",consumer=\"PROCESSOR\"} ", StringComparison.Ordinal));
        // The assets with a bad value keep every other series.
        Assert.Contains(lines, l => l.StartsWith("natsjs_stream_messages{cluster=\"c1\",account=\"APP\",stream=\"LIMITED\"} ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("natsjs_consumer_pending_messages{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\",consumer=\"AUDIT\"} ", StringComparison.Ordinal));
        Assert.Equal(17, MonitorThresholdMetrics.Families.Count);
        Assert.Equal(MonitorThresholds.Keys.Select(k => k.Key), MonitorThresholdMetrics.Families.Select(f => f.Key));
    }

    [Fact]
    public void A_bad_value_is_a_problem_naming_the_asset_the_key_the_value_and_what_to_write()
    {
        var s = Fixtures.Snapshot(Fixture);
        var problems = HealthCheck.Evaluate(s, Fixtures.CollectedAt).Problems.Where(p => p.Kind == ProblemKind.MonitorThresholdInvalid).ToArray();
        Assert.Equal(3, problems.Length);
        Assert.All(problems, p => Assert.Equal(Severity.Warning, p.Severity));

        var audit = Assert.Single(problems, p => p.Consumer == "AUDIT");
        Assert.Equal(("APP", "ORDERS"), (audit.Account, audit.Stream));
        Assert.Contains("io.nats.monitor.last-ack-critical=\"soon\"", audit.Message);
        Assert.Contains("account APP, stream ORDERS, consumer AUDIT", audit.Message);
        Assert.Contains("write a duration such as 30s", audit.Message);

        var limited = problems.Where(p => p.Stream == "LIMITED").OrderBy(p => p.Message, StringComparer.Ordinal).ToArray();
        Assert.Equal(2, limited.Length);
        Assert.All(limited, p => Assert.Null(p.Consumer));
        Assert.Contains("io.nats.monitor.msgs-critical=\"lots\"", limited[0].Message);
        Assert.Contains("write a whole number such as 200", limited[0].Message);
        Assert.Contains("io.nats.monitor.peer-seen-critical=\"30\"", limited[1].Message);
    }

    [Fact]
    public void A_bad_value_is_logged_once_while_it_stays_and_again_when_it_changes_to_another_bad_value()
    {
        var first = Fixtures.Snapshot(Fixture);
        var lines = MonitorThresholds.NewlyInvalid(null, first).ToArray();
        Assert.Equal(3, lines.Length);
        Assert.Contains(lines, l => l.Contains("consumer metadata io.nats.monitor.last-ack-critical=\"soon\" on account APP, stream ORDERS, consumer AUDIT", StringComparison.Ordinal));

        var second = Fixtures.Snapshot(Fixture);
        Assert.Empty(MonitorThresholds.NewlyInvalid(first, second));

        // AUDIT's value edited to another bad one: that one line again, nothing for the unchanged ones.
        var streams = second.Streams.Select(st => st.Name != "ORDERS" ? st : st with
        {
            Consumers = st.Consumers.Select(c => c.Name != "AUDIT" ? c : c with
            {
                Monitor = MonitorThresholds.From(new Dictionary<string, string> { ["io.nats.monitor.last-ack-critical"] = "later" }, consumer: true),
            }).ToArray(),
        }).ToArray();
        var third = second with { Streams = streams };
        var again = Assert.Single(MonitorThresholds.NewlyInvalid(second, third));
        Assert.Contains("last-ack-critical=\"later\"", again);
    }

    [Fact]
    public void A_logged_value_is_one_printable_line_however_long_or_odd()
    {
        var x = new InvalidMonitorThreshold("io.nats.monitor.lag-critical", "12\n" + new string('9', 100), "a whole number such as 200");
        var line = MonitorThresholds.Describe("", "APP", "S", null, x);
        Assert.DoesNotContain('\n', line);
        Assert.Contains("12\\u000a999", line);
        Assert.Contains("…", line);
    }

    [Fact]
    public void The_snapshot_document_lists_thresholds_and_bad_values_only_for_assets_that_set_keys()
    {
        var s = Fixtures.Snapshot(Fixture);
        var now = Fixtures.CollectedAt.AddSeconds(1);
        using var doc = JsonDocument.Parse(SnapshotDocument.Serialize(SnapshotDocument.From(s, HealthCheck.Evaluate(s, now), now, "test")));
        var streams = doc.RootElement.GetProperty("streams").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
        Assert.False(streams["EVENTS"].TryGetProperty("monitor", out _));
        var archive = streams["ORDERS_ARCHIVE"].GetProperty("monitor");
        var seen = archive.GetProperty("thresholds").EnumerateArray().Single(t => t.GetProperty("key").GetString() == "io.nats.monitor.seen-critical");
        Assert.Equal(90, seen.GetProperty("value").GetDouble());
        var bad = streams["LIMITED"].GetProperty("monitor").GetProperty("invalid").EnumerateArray()
            .Select(x => (x.GetProperty("key").GetString(), x.GetProperty("value").GetString())).ToArray();
        Assert.Equal([("io.nats.monitor.peer-seen-critical", "30"), ("io.nats.monitor.msgs-critical", "lots")], bad);
        var audit = streams["ORDERS"].GetProperty("consumers").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "AUDIT");
        Assert.Equal("soon", audit.GetProperty("monitor").GetProperty("invalid")[0].GetProperty("value").GetString());
    }
}
