using NatsJsExporter.IntegrationTests.Infrastructure;
using NATS.Client.JetStream.Models;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// natscli's per-asset thresholds set through the official client's metadata on a real 2.15.1
/// server: the exporter turns them into gauges with the asset's labels, and a value natscli cannot
/// read is logged once (not every poll) and shown as a problem, the asset's other series intact.
/// </summary>
[Collection("real processes")]
public sealed class MonitorThresholdTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(15);

    private static (string, string) L(string label, string value) => (label, value);

    [Fact]
    public async Task Metadata_thresholds_become_gauges_and_a_bad_value_is_logged_once()
    {
        await using var cluster = await NatsCluster.StartAsync(size: 1, binary: NatsVersions.Binary("2.15.1"));
        await using var demo = await Demo.ConnectAsync(cluster);
        await demo.CreateStreamAsync(new StreamConfig("ORDERS", ["orders.>"])
        {
            Metadata = new Dictionary<string, string>
            {
                ["io.nats.monitor.msgs-critical"] = "5",
                ["io.nats.monitor.peer-seen-critical"] = "1m30s",
                ["owner"] = "team-a",
            },
        });
        await demo.Js.CreateOrUpdateConsumerAsync("ORDERS", new ConsumerConfig("PROCESSOR")
        {
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            Metadata = new Dictionary<string, string>
            {
                ["io.nats.monitor.outstanding-ack-critical"] = "100",
                ["io.nats.monitor.last-ack-critical"] = "soon",
            },
        });
        await demo.PublishAsync("ORDERS", 3);

        await using var exporter = await ExporterProcess.StartAsync("--monitor-urls", cluster.MonitorUrls, "--interval", "200ms", "--timeout", "180ms");
        var m = await exporter.WaitForAsync("the ORDERS thresholds exported", e =>
            e.Value("natsjs_stream_monitor_msgs_critical", L("stream", "ORDERS")) is not null
            && e.Value("natsjs_consumer_monitor_outstanding_ack_critical", L("consumer", "PROCESSOR")) is not null, Converge);

        var msgs = Assert.Single(m.Find("natsjs_stream_monitor_msgs_critical"));
        Assert.Equal(5, msgs.Value);
        Assert.Equal(Assert.Single(m.Find("natsjs_stream_messages", L("stream", "ORDERS"))).Labels, msgs.Labels);
        Assert.Equal(90, m.Value("natsjs_stream_monitor_peer_seen_critical_seconds", L("stream", "ORDERS")));
        var ack = Assert.Single(m.Find("natsjs_consumer_monitor_outstanding_ack_critical"));
        Assert.Equal(100, ack.Value);
        Assert.Equal(Assert.Single(m.Find("natsjs_consumer_pending_messages", L("consumer", "PROCESSOR"))).Labels, ack.Labels);
        Assert.Empty(m.Find("natsjs_consumer_monitor_last_ack_critical_seconds"));       // "soon" is not a duration
        Assert.Equal(3, m.Value("natsjs_consumer_pending_messages", L("consumer", "PROCESSOR")));  // the consumer's other series stay

        // Let at least ten more polls pass: the bad value stays logged once.
        await Task.Delay(TimeSpan.FromSeconds(3));
        using var http = new HttpClient();
        var snapshot = await http.GetStringAsync(exporter.BaseUrl + "/api/v1/snapshot");
        Assert.Contains("\"monitor_threshold_invalid\"", snapshot);
        var logged = exporter.Output.Where(l => l.Contains("io.nats.monitor.last-ack-critical", StringComparison.Ordinal)).ToArray();
        output.WriteLine(string.Join("\n", logged));
        var line = Assert.Single(logged);
        Assert.Contains("io.nats.monitor.last-ack-critical=\"soon\"", line);
        Assert.Contains("account APP, stream ORDERS, consumer PROCESSOR", line);
        Assert.Contains("write a duration such as 30s", line);
    }
}
