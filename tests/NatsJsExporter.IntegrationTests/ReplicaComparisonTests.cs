using System.Diagnostics;
using NatsJsExporter.IntegrationTests.Infrastructure;
using NATS.Client.JetStream;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// Each replica's own copy beside its leader's, on a real 2.15.1 cluster: steady publishing never
/// makes a replica look diverged (polls of different servers are not atomic), and a frozen
/// follower cannot report its own copy; restarted, its own copy is behind until it has caught up.
/// Short on purpose (the suite's time budget): 30 s of steady publishing at about 1,000 msg/s,
/// not the 2 minutes of the issue; 8 s frozen. NATSJS_STEADY_SECONDS=120 runs the issue's two
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
    public async Task Steady_publishing_never_shows_divergence_and_a_frozen_then_restarted_follower_is_behind_until_it_catches_up()
    {
        await using var cluster = await NatsCluster.StartAsync(binary: NatsVersions.Binary("2.15.1"));
        await using var demo = await Demo.ConnectAsync(cluster);
        await demo.CreateStreamAsync("ORDERS", replicas: 3);
        await demo.CreateConsumerAsync("ORDERS", "PROCESSOR");
        await demo.PublishAsync("ORDERS", 10);
        await using var exporter = await ExporterProcess.StartAsync("--monitor-urls", cluster.MonitorUrls, "--interval", "200ms", "--timeout", "200ms");
        // A second exporter for the restart below, patient with a throttled server: a 1 s timeout and
        // one round of requests per poll (/jsz beside /healthz, no /raftz after it).
        await using var patient = await ExporterProcess.StartAsync("--monitor-urls", cluster.MonitorUrls, "--interval", "1s", "--timeout", "1s",
            "--raftz-groups", "off");
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
            // Every scrape compares the 3 copies; a poll of one server that overran the 200 ms timeout on a
            // loaded machine drops that server's series from one scrape: allow 5 % of them, no more.
            Assert.True(compared >= scrapes * 3 * 0.95, $"the divergence series of ORDERS were missing from scrapes ({compared} of {scrapes * 3})");

            // Freeze a follower (not the meta leader): it cannot report its own copy while frozen.
            cluster.Freeze(victim);
            var frozen = Stopwatch.StartNew();
            await exporter.WaitForAsync($"{victim} down", e => e.Value("natsjs_up", L("server", victim)) == 0, Converge);
            var during = await exporter.MetricsAsync();
            Assert.Null(during.Value("natsjs_stream_replica_behind_messages", L("stream", "ORDERS"), L("peer", victim)));
            var rest = TimeSpan.FromSeconds(8) - frozen.Elapsed;
            if (rest > TimeSpan.Zero) await Task.Delay(rest);

            // Then restarted, as an operator restarts a hung server. Not resumed: a resumed follower
            // finds the leader's appends of the whole freeze queued in its route socket (8 MB fit in
            // loopback buffers) and applies them in milliseconds, often before it answers its first
            // /jsz (a CI run saw it level at its first report). Restarted, it recovers its store as of
            // the freeze and must ask its leader for the rest: its own copy is behind until then. On
            // loopback that is a few tenths of a second, so the restarted server is throttled (20 ms
            // running in every 200 ms) until the patient exporter has read its own copy: the catch-up
            // takes many round trips with its leader, a poll one.
            cluster.Restart(victim);
            var restarted = Stopwatch.StartNew();
            double firstBehind = -1, maxBehind2 = -1;
            TimeSpan firstReport = TimeSpan.Zero, lastBehind = TimeSpan.Zero;
            int behindScrapes = 0, cycles = 0;
            try
            {
                while (firstBehind < 0)
                {
                    Assert.True(restarted.Elapsed < Converge, $"the exporter never read {victim}'s own copy within {Converge.TotalSeconds:0}s of its restart ({cycles} throttle cycles)");
                    await Task.Delay(20);
                    cluster.Freeze(victim);
                    cycles++;
                    var m = await patient.MetricsAsync();
                    if (m.Value("natsjs_stream_replica_behind_messages", L("stream", "ORDERS"), L("peer", victim)) is { } b)
                        (firstBehind, maxBehind2, firstReport) = (b, b, restarted.Elapsed);
                    else
                        await Task.Delay(180);
                    cluster.Resume(victim);
                }
            }
            finally
            {
                cluster.Resume(victim);
            }
            var released = Stopwatch.StartNew();
            while (true)
            {
                Assert.True(released.Elapsed < Converge, $"{victim}'s own copy not back level within {Converge.TotalSeconds:0}s of its release (first report {firstBehind}, max behind seen {maxBehind2})");
                var m = await exporter.MetricsAsync();
                if (m.Value("natsjs_stream_replica_behind_messages", L("stream", "ORDERS"), L("peer", victim)) is { } b)
                {
                    maxBehind2 = Math.Max(maxBehind2, b);
                    // The leader keeps publishing: "level" is within a fraction of a second's traffic.
                    if (b < 200) break;
                    behindScrapes++;
                    lastBehind = released.Elapsed;
                }
                await Task.Delay(50);
            }
            output.WriteLine($"{victim}: frozen {frozen.Elapsed.TotalSeconds - restarted.Elapsed.TotalSeconds:0.0}s, then restarted; first own report " +
                $"{firstBehind} behind {firstReport.TotalSeconds:0.0}s after the restart ({cycles} throttle cycles), at most {maxBehind2}; released, " +
                $"seen behind in {behindScrapes} more scrapes until {lastBehind.TotalSeconds:0.0}s; level {released.Elapsed.TotalSeconds:0.0}s after the release");
            Assert.True(firstBehind > 200, $"{victim}'s own copy never showed the freeze (first report {firstBehind} behind, at most {maxBehind2})");
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
