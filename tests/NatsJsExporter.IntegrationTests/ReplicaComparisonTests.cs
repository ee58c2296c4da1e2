using System.Diagnostics;
using NatsJsExporter.IntegrationTests.Infrastructure;
using NATS.Client.JetStream;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// Each replica's own copy beside its leader's, on a real 2.15.1 cluster: steady publishing never
/// makes a replica look diverged (polls of different servers are not atomic), and a frozen
/// follower's own copy is behind when it answers again and returns to 0.
/// Short on purpose (the suite's time budget): 30 s of steady publishing at about 1,000 msg/s,
/// not the 2 minutes of the issue; 10 s frozen. NATSJS_STEADY_SECONDS=120 runs the issue's two
/// minutes by hand.
/// </summary>
[Collection("real processes")]
public sealed class ReplicaComparisonTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Steady = TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("NATSJS_STEADY_SECONDS"), out var s) && s > 0 ? s : 30);

    private static (string, string) L(string label, string value) => (label, value);

    [Fact]
    public async Task Steady_publishing_never_shows_divergence_and_a_frozen_follower_is_behind_until_it_catches_up()
    {
        await using var cluster = await NatsCluster.StartAsync(binary: NatsVersions.Binary("2.15.1"));
        await using var demo = await Demo.ConnectAsync(cluster);
        await demo.CreateStreamAsync("ORDERS", replicas: 3);
        await demo.CreateConsumerAsync("ORDERS", "PROCESSOR");
        await demo.PublishAsync("ORDERS", 10);
        await using var exporter = await ExporterProcess.StartAsync("--monitor-urls", cluster.MonitorUrls, "--interval", "200ms", "--timeout", "180ms");
        await exporter.WaitForAsync("every ORDERS replica level with its leader", e =>
            e.Find("natsjs_stream_replica_behind_messages", L("stream", "ORDERS")).Count(s => s.Value == 0) == 3
            && e.Find("natsjs_consumer_replica_diverged", L("consumer", "PROCESSOR")).Count() == 3, Converge);

        var streamLeader = (await cluster.StreamLeaderAsync("ORDERS"))!;
        var metaLeader = await cluster.MetaLeaderAsync();
        var victim = cluster.Nodes.Select(n => n.Name).First(n => n != streamLeader && n != metaLeader);
        await using var leaderClient = await Demo.ConnectAsync(cluster, streamLeader);
        using var publishing = new CancellationTokenSource();
        long published = 0;
        var publisher = PublishAtRateAsync(leaderClient.Js, 1000, () => Interlocked.Increment(ref published), publishing.Token);
        var consumer = demo.ConsumeUntilAsync("ORDERS", "PROCESSOR", 200, TimeSpan.FromMilliseconds(100), publishing.Token);
        try
        {
            // Steady publishing (and consuming): scrape every 500 ms; no replica may ever show divergence.
            var sw = Stopwatch.StartNew();
            int scrapes = 0, compared = 0;
            double maxBehind = 0;
            while (sw.Elapsed < Steady)
            {
                var m = await exporter.MetricsAsync();
                scrapes++;
                var diverged = m.Find("natsjs_stream_replica_diverged").Concat(m.Find("natsjs_consumer_replica_diverged")).Where(s => s.Value != 0).ToArray();
                Assert.True(diverged.Length == 0, $"divergence reported under steady publishing after {sw.Elapsed.TotalSeconds:0.0}s: " +
                    string.Join("; ", diverged.Select(s => $"{s.Name} {s["stream"]}/{s["consumer"]} {s["peer"]}")) + "\n" + m.Dump());
                compared += m.Find("natsjs_stream_replica_diverged", L("stream", "ORDERS")).Count();
                foreach (var s in m.Find("natsjs_stream_replica_behind_messages", L("stream", "ORDERS"))) maxBehind = Math.Max(maxBehind, s.Value);
                await Task.Delay(500);
            }
            double rate = Interlocked.Read(ref published) / sw.Elapsed.TotalSeconds;
            output.WriteLine($"steady: {Interlocked.Read(ref published)} messages in {sw.Elapsed.TotalSeconds:0.0}s ({rate:0} msg/s), {scrapes} scrapes, " +
                $"{compared} replica series seen, max behind {maxBehind}");
            Assert.True(rate > 500, $"the publisher reached only {rate:0} msg/s");
            Assert.True(compared >= scrapes * 3 - 3, "the divergence series of ORDERS were missing from scrapes");

            // Freeze a follower (not the meta leader): it cannot report its own copy while frozen.
            cluster.Freeze(victim);
            try
            {
                await exporter.WaitForAsync($"{victim} down", e => e.Value("natsjs_up", L("server", victim)) == 0, Converge);
                var during = await exporter.MetricsAsync();
                Assert.Null(during.Value("natsjs_stream_replica_behind_messages", L("stream", "ORDERS"), L("peer", victim)));
                await Task.Delay(TimeSpan.FromSeconds(8));
            }
            finally
            {
                cluster.Resume(victim);
            }

            // Its own copy is behind when it answers again, and returns to 0 as it catches up: a
            // 200 ms poll interval and a tight scrape loop, because loopback catch-up takes about a second.
            double maxBehind2 = -1, firstBehind = -1;
            var resumed = Stopwatch.StartNew();
            while (true)
            {
                Assert.True(resumed.Elapsed < Converge, $"{victim}'s own copy not back level within {Converge.TotalSeconds:0}s (max behind seen {maxBehind2})");
                var m = await exporter.MetricsAsync();
                if (m.Value("natsjs_stream_replica_behind_messages", L("stream", "ORDERS"), L("peer", victim)) is { } b)
                {
                    if (firstBehind < 0) firstBehind = b;
                    maxBehind2 = Math.Max(maxBehind2, b);
                    if (b < 200 && maxBehind2 > 0) break; // the leader keeps publishing: "level" is within a fraction of a second's traffic
                    if (b < 200 && resumed.Elapsed > TimeSpan.FromSeconds(5)) break;
                }
                await Task.Delay(50);
            }
            output.WriteLine($"{victim}: first own report after resume {firstBehind} behind, at most {maxBehind2}; level again after {resumed.Elapsed.TotalSeconds:0.0}s");
            Assert.True(maxBehind2 > 200, $"{victim}'s own copy never showed the freeze (at most {maxBehind2} behind)");
        }
        finally
        {
            publishing.Cancel();
            await publisher;
            await consumer;
        }

        // Publishing stopped: every replica is exactly level, none diverged.
        var idle = await exporter.WaitForAsync("every ORDERS replica at 0 behind", e =>
            e.Find("natsjs_stream_replica_behind_messages", L("stream", "ORDERS")).Count(s => s.Value == 0) == 3, Converge);
        Assert.All(idle.Find("natsjs_stream_replica_diverged"), s => Assert.Equal(0, s.Value));
    }

    /// <summary>About <paramref name="perSecond"/> acknowledged publishes a second, 20 in flight at a time; errors (elections) are ignored.</summary>
    private static Task PublishAtRateAsync(INatsJSContext js, int perSecond, Action published, CancellationToken ct) => Task.Run(async () =>
    {
        var sw = Stopwatch.StartNew();
        long sent = 0;
        while (!ct.IsCancellationRequested)
        {
            var batch = Enumerable.Range(0, 20).Select(async i =>
            {
                try
                {
                    await js.PublishAsync("orders.new", new byte[1024], cancellationToken: ct);
                    published();
                }
                catch (Exception) when (!ct.IsCancellationRequested) { }
                catch (OperationCanceledException) { }
            }).ToArray();
            await Task.WhenAll(batch);
            sent += batch.Length;
            var ahead = TimeSpan.FromSeconds((double)sent / perSecond) - sw.Elapsed;
            if (ahead > TimeSpan.Zero)
            {
                try { await Task.Delay(ahead, ct); } catch (OperationCanceledException) { return; }
            }
        }
    });
}
