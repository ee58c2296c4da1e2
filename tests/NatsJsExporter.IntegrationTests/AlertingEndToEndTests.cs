using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Net;
using NatsJsExporter.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// The paging path end to end with real processes on 127.0.0.1, as shipped: per scenario a
/// 3-node nats-server 2.15.1 cluster, the exporter (--interval 5s), Prometheus (scrape and rule
/// evaluation every 15 s) loading alerts/natsjs.rules.yml UNCHANGED, Alertmanager running
/// alerts/alertmanager.example.yml with only its receiver URLs pointed at a webhook receiver in
/// the test, which records every notification as a pager or ticket system would get it.
/// The four scenarios run concurrently, each on its own stack (see alerts/README.md, "End-to-end test").
/// </summary>
[Collection("real processes")]
public sealed partial class AlertingEndToEndTests(ITestOutputHelper output)
{
    private const string Version = "2.15.1";
    private const string ServerOffline = "NatsJsServerOffline";
    /// <summary>What issue 15 promises: a stuck server pages within 90 s.</summary>
    private static readonly TimeSpan PageWithin = TimeSpan.FromSeconds(90);
    /// <summary>How long after a freeze/kill every later critical alert (the replica rules at 60 s
    /// of silence, + poll, scrape, evaluation and group_wait) has reached Alertmanager.</summary>
    private static readonly TimeSpan SettleAfterFailure = TimeSpan.FromSeconds(130);
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(90);

    private static (string, string) L(string label, string value) => (label, value);

    [Fact]
    public async Task Shipped_rules_page_once_on_a_stuck_or_dead_server_and_stay_quiet_through_catch_up_and_a_rolling_restart()
    {
        // Fails at once (before any process starts) if the example has changed in another way than its URLs.
        _ = ExampleAlertmanagerConfig("http://127.0.0.1:9/hook");
        var scenarios = new (string Name, Func<Scenario, Task> Run)[]
        {
            ("A frozen follower", FrozenFollowerAsync),
            ("B catch-up, then stall", CatchUpThenStallAsync),
            ("C lame-duck rolling restart", RollingRestartAsync),
            ("D killed server", KilledServerAsync),
        };
        var only = Environment.GetEnvironmentVariable("NATSJS_E2E_ONLY"); // e.g. "B" to run one scenario by hand
        var runs = scenarios.Where(s => string.IsNullOrEmpty(only) || only.Contains(s.Name[0], StringComparison.Ordinal))
            .Select(async s =>
            {
                var scenario = new Scenario(s.Name);
                await Task.Yield();
                try { await s.Run(scenario); }
                catch (Exception e) { scenario.Error = e; }
                scenario.Done();
                return scenario;
            }).ToList();
        var results = await Task.WhenAll(runs);
        foreach (var r in results)
        {
            output.WriteLine($"=== {r.Name}: {(r.Error is null ? "passed" : "FAILED")} ({r.Elapsed.TotalSeconds:0}s)");
            foreach (var line in r.Lines) output.WriteLine("  " + line);
            if (r.Error is not null) output.WriteLine("  " + r.Error);
        }
        var failed = results.Where(r => r.Error is not null).ToList();
        Assert.True(failed.Count == 0, string.Join("\n\n", failed.Select(f => $"{f.Name}: {f.Error!.Message}")));
    }

    // ---------------------------------------------------------------------------------------
    // A. A frozen follower pages within 90 s, once (NatsJsServerOffline).
    // ---------------------------------------------------------------------------------------
    private static async Task FrozenFollowerAsync(Scenario s)
    {
        await using var stack = await Stack.StartAsync(s, extraNatsConfig: null);
        var cluster = stack.Cluster;
        await stack.Demo.CreateStreamAsync("ORDERS", replicas: 3);
        await WaitStreamsCurrentAsync(stack, ["ORDERS"]);
        var victim = await FollowerAsync(cluster, "ORDERS");
        s.Log($"ORDERS leader {await cluster.StreamLeaderAsync("ORDERS")}, meta leader {await cluster.MetaLeaderAsync()}, freezing {victim}");

        // The publisher must not be connected to the victim: its connection would hang with the
        // frozen server and publishing would stop.
        await using var publisherClient = ClientAvoiding(cluster, victim);
        using var publishing = new CancellationTokenSource();
        var publisher = PublishUntilAsync(publisherClient.CreateJetStreamContext(), "orders.new", publishing.Token);
        await Task.Delay(2000);

        var sw = Stopwatch.StartNew();
        var frozenAt = DateTime.UtcNow;
        cluster.Freeze(victim);
        Notification first;
        try
        {
            first = await stack.Webhook.WaitForAsync("a critical notification after the freeze",
                n => n.Status == "firing" && n["severity"] == "critical", PageWithin + TimeSpan.FromSeconds(60));
            s.Log($"freeze -> first critical notification: {(first.ReceivedUtc - frozenAt).TotalSeconds:0.0}s ({first})");
            await WaitUntilAsync(sw, SettleAfterFailure);
        }
        finally
        {
            cluster.Resume(victim);
        }
        publishing.Cancel();
        await publisher;
        await AssertOnePageForAsync(s, stack, victim, frozenAt, first);
    }

    // ---------------------------------------------------------------------------------------
    // B. A replica catching up for more than 60 s does not page; when its catch-up stalls, it does.
    // ---------------------------------------------------------------------------------------

    /// <summary>Down for at most this long, well under NatsJsServerOffline's 45 s (the stop itself must not page).</summary>
    private static readonly TimeSpan StopPhase = TimeSpan.FromSeconds(25);
    /// <summary>Stop publishing at this much data (keeps the three stores well under 2 GB on disk).</summary>
    private const long MaxBytes = 400L << 20;
    private const int PayloadBytes = 512;
    private const int Publishers = 64;
    /// <summary>Share of the wall clock the restarted follower may run (SIGSTOP/SIGCONT every 100 ms).</summary>
    private const double RunningShare = 0.02;
    /// <summary>Catching up this long without a page, then the catch-up is stalled (frozen).</summary>
    private static readonly TimeSpan StallAfter = TimeSpan.FromSeconds(65);

    /// <summary>Catch-up bytes a server may have in flight to all its followers (default 64 MB):
    /// with the follower answering only in its running slices, this sets the catch-up's pace.</summary>
    private const string MaxOutstandingCatchup = "max_outstanding_catchup: 256KB";

    private static async Task CatchUpThenStallAsync(Scenario s)
    {
        await using var stack = await Stack.StartAsync(s, extraNatsConfig: null, jetStreamConfig: MaxOutstandingCatchup);
        var cluster = stack.Cluster;
        await stack.Demo.CreateStreamAsync("BULK", replicas: 3);
        await WaitStreamsCurrentAsync(stack, ["BULK"]);
        var victim = await FollowerAsync(cluster, "BULK");
        s.Log($"BULK leader {await cluster.StreamLeaderAsync("BULK")}, meta leader {await cluster.MetaLeaderAsync()}, stopping {victim}");

        await using var publisherClient = ClientAvoiding(cluster, victim);
        var js = publisherClient.CreateJetStreamContext();
        var down = Stopwatch.StartNew();
        var stoppedAt = DateTime.UtcNow;
        cluster.Kill(victim);
        long published = 0, bytes = 0;
        var payload = new byte[PayloadBytes];
        Random.Shared.NextBytes(payload);
        using (var stopPublishing = new CancellationTokenSource(StopPhase - TimeSpan.FromSeconds(2)))
        {
            await Task.WhenAll(Enumerable.Range(0, Publishers).Select(_ => Task.Run(async () =>
            {
                while (!stopPublishing.IsCancellationRequested && Interlocked.Read(ref bytes) < MaxBytes)
                {
                    try
                    {
                        await js.PublishAsync("bulk.new", payload, cancellationToken: stopPublishing.Token);
                        Interlocked.Increment(ref published);
                        Interlocked.Add(ref bytes, payload.Length);
                    }
                    catch (OperationCanceledException) { break; }
                    catch (Exception) { }
                }
            })));
        }
        s.Log($"while {victim} was down: published {published} messages, {bytes >> 20} MiB in {down.Elapsed.TotalSeconds:0.0}s; stores on disk {DiskMiB(cluster)} MiB");
        await WaitUntilAsync(down, StopPhase);
        cluster.Restart(victim);
        var restartedAt = DateTime.UtcNow;
        var catchUp = Stopwatch.StartNew();
        s.Log($"{victim} down {down.Elapsed.TotalSeconds:0.0}s, restarted; throttled to {RunningShare:P0} CPU");

        var leaderLast = await LastSeqAsync(cluster.Nodes.Where(n => n.Name != victim), "BULK") ?? 0;
        ulong? own = null;
        var caughtUp = TimeSpan.Zero;
        var throttle = new Throttle(cluster[victim].Process!.Id, TimeSpan.FromMilliseconds(100), RunningShare);
        try
        {
            var nextLog = TimeSpan.Zero;
            while (catchUp.Elapsed < StallAfter)
            {
                own = await LastSeqAsync([cluster[victim]], "BULK");
                if (own >= leaderLast) { caughtUp = catchUp.Elapsed; break; }
                if (catchUp.Elapsed >= nextLog)
                {
                    s.Log($"  +{catchUp.Elapsed.TotalSeconds:0}s: {victim} at {(own is null ? "?" : own.ToString())} of {leaderLast}");
                    nextLog += TimeSpan.FromSeconds(10);
                }
                await Task.Delay(1000);
            }
        }
        finally
        {
            throttle.Dispose();
        }
        if (caughtUp > TimeSpan.Zero)
            throw new InvalidOperationException($"{victim} caught up {leaderLast} messages in {caughtUp.TotalSeconds:0.0}s ({throttle.Cycles} throttle cycles), before {StallAfter.TotalSeconds:0}s: nothing to stall");
        var pace = (own ?? 0) / catchUp.Elapsed.TotalSeconds;
        s.Log($"catching up for {catchUp.Elapsed.TotalSeconds:0.0}s ({throttle.Cycles} throttle cycles), at {own} of {leaderLast} " +
            $"({pace:0} msg/s, whole catch-up ~{leaderLast / pace:0}s at that pace); stores on disk {DiskMiB(cluster)} MiB: freezing {victim} (catch-up stalls)");

        var frozenAt = DateTime.UtcNow;
        var sw = Stopwatch.StartNew();
        cluster.Freeze(victim);
        var criticalsWhileCatchingUp = stack.Webhook.Received.Where(n => n.Status == "firing" && n["severity"] == "critical").ToList();
        var window = (int)Math.Ceiling((frozenAt - stoppedAt).TotalSeconds);
        var firingInPrometheus = await stack.Prometheus.QueryAsync($"max_over_time(ALERTS{{severity=\"critical\",alertstate=\"firing\"}}[{window}s])");
        var pending = await stack.Prometheus.QueryAsync("ALERTS{severity=\"critical\",alertstate=\"pending\"}");
        var lastSeen = await stack.Prometheus.QueryAsync($"max by (peer) (max_over_time(natsjs_meta_peer_last_seen_seconds[{window}s]))");
        s.Log($"stop + catch-up ({window}s): meta leader's longest silence from each peer: {Series(lastSeen, "peer")}");
        s.Log($"critical alerts pending at the freeze: {Series(pending, "alertname", "peer")}");
        Notification first;
        try
        {
            first = await stack.Webhook.WaitForAsync("a critical notification after the stall",
                n => n.Status == "firing" && n["severity"] == "critical" && n.ReceivedUtc > frozenAt, PageWithin + TimeSpan.FromSeconds(60));
            s.Log($"stall (freeze) -> first critical notification: {(first.ReceivedUtc - frozenAt).TotalSeconds:0.0}s ({first})");
        }
        finally
        {
            cluster.Resume(victim);
        }
        s.LogNotifications(stack.Webhook, restartedAt, frozenAt);
        Assert.True(criticalsWhileCatchingUp.Count == 0, "critical notification while stopped or catching up: " + string.Join("; ", criticalsWhileCatchingUp));
        Assert.True(firingInPrometheus.Count == 0, "critical alert firing in Prometheus while stopped or catching up: " + Series(firingInPrometheus, "alertname", "peer"));
        Assert.True(first.ReceivedUtc - frozenAt <= PageWithin, $"stall paged after {(first.ReceivedUtc - frozenAt).TotalSeconds:0.0}s");
        Assert.Equal(victim, first["peer"]);
    }

    // ---------------------------------------------------------------------------------------
    // C. A lame-duck rolling restart of all three servers sends no critical notification.
    // ---------------------------------------------------------------------------------------

    /// <summary>How long each server stays down between its exit and its new start: the upper end
    /// of a real restart (docs/runbooks.md#timing-assumptions); a bare restart takes 1-2 s here.</summary>
    private static readonly TimeSpan RestartDowntime = TimeSpan.FromSeconds(30);

    private static async Task RollingRestartAsync(Scenario s)
    {
        // lame_duck_duration 30s (the minimum nats-server accepts), grace period 2s: lame duck
        // mode hands the server's Raft leaderships over, closes client connections and exits.
        await using var stack = await Stack.StartAsync(s, extraNatsConfig: """
            lame_duck_duration: "30s"
            lame_duck_grace_period: "2s"
            """);
        var cluster = stack.Cluster;
        await stack.Demo.CreateStreamAsync("ORDERS", replicas: 3);
        await stack.Demo.CreateConsumerAsync("ORDERS", "PROCESSOR");
        await WaitAllHealthyAsync(stack, DateTimeOffset.UtcNow);

        using var publishing = new CancellationTokenSource();
        var publisher = stack.Demo.PublishUntilAsync("ORDERS", publishing.Token);
        var processor = ConsumeUntilAsync(stack.Demo.Js, "ORDERS", "PROCESSOR", publishing.Token);
        await Task.Delay(2000);

        var start = DateTime.UtcNow;
        var rolling = Stopwatch.StartNew();
        foreach (var node in cluster.Nodes.Select(n => n.Name))
        {
            var step = Stopwatch.StartNew();
            var leaders = $"ORDERS leader {await cluster.StreamLeaderAsync("ORDERS")}, meta leader {await cluster.MetaLeaderAsync()}";
            var exited = await cluster.LameDuckRestartAsync(node, TimeSpan.FromSeconds(60), RestartDowntime);
            var ready = step.Elapsed;
            await WaitAllHealthyAsync(stack, DateTimeOffset.UtcNow);
            s.Log($"{node} ({leaders}): exit {exited.TotalSeconds:0.0}s after SIGUSR2, down {RestartDowntime.TotalSeconds:0}s, " +
                $"/healthz ready at {ready.TotalSeconds:0.0}s, every replica current (exporter) at {step.Elapsed.TotalSeconds:0.0}s");
        }
        s.Log($"rolling restart of {cluster.Nodes.Count} servers: {rolling.Elapsed.TotalSeconds:0.0}s");

        // Anything the restart set off reaches the webhook by now: the for: 1m rules (Stuck,
        // CatchUpStalled) + one poll, scrape and evaluation + group_wait.
        await Task.Delay(TimeSpan.FromSeconds(90));
        publishing.Cancel();
        await publisher;
        await processor;
        var window = (int)Math.Ceiling((DateTime.UtcNow - start).TotalSeconds) + 5;
        var lastSeen = await stack.Prometheus.QueryAsync($"max by (peer) (max_over_time(natsjs_meta_peer_last_seen_seconds[{window}s]))");
        s.Log($"meta leader's longest silence from each peer: {Series(lastSeen, "peer")} (NatsJsServerOffline at 45 s)");
        var firing = await stack.Prometheus.QueryAsync($"max_over_time(ALERTS{{severity=\"critical\",alertstate=\"firing\"}}[{window}s])");
        var pending = await stack.Prometheus.QueryAsync($"max_over_time(ALERTS{{alertstate=\"pending\"}}[{window}s])");
        s.Log($"alerts pending at some point: {Series(pending, "alertname", "peer", "severity")}");
        var streaks = await stack.Prometheus.QueryAsync(
            $"max by (alertname, peer) (max_over_time((timestamp(ALERTS_FOR_STATE{{severity=\"critical\"}}) - ALERTS_FOR_STATE{{severity=\"critical\"}})[{window}s:5s]))");
        s.Log($"longest pending streak of critical alerts (s): {Series(streaks, "alertname", "peer")}");
        s.LogNotifications(stack.Webhook, start, null);
        var critical = stack.Webhook.Received.Where(n => n["severity"] == "critical").ToList();
        Assert.True(critical.Count == 0, "critical notification during the rolling restart: " + string.Join("; ", critical));
        Assert.True(firing.Count == 0, "critical alert firing in Prometheus during the rolling restart: " + Series(firing, "alertname", "peer"));
    }

    // ---------------------------------------------------------------------------------------
    // D. A killed server hosting many replicas: one critical notification, not one per replica.
    // ---------------------------------------------------------------------------------------
    private static readonly string[] KillStreams = ["ORDERS", "PAYMENTS", "EVENTS"];

    private static async Task KilledServerAsync(Scenario s)
    {
        await using var stack = await Stack.StartAsync(s, extraNatsConfig: null);
        var cluster = stack.Cluster;
        foreach (var stream in KillStreams)
        {
            await stack.Demo.CreateStreamAsync(stream, replicas: 3);
            await stack.Demo.CreateConsumerAsync(stream, stream + "_WORKER");
            await stack.Demo.PublishAsync(stream, 20);
        }
        await WaitStreamsCurrentAsync(stack, KillStreams);
        // Not the meta leader: a new meta leader would first have to learn when it last heard from the victim.
        var metaLeader = await cluster.MetaLeaderAsync();
        var victim = cluster.Nodes.Select(n => n.Name).First(n => n != metaLeader);
        var leads = new List<string>();
        foreach (var stream in KillStreams)
            if (await cluster.StreamLeaderAsync(stream) == victim) leads.Add(stream);
        s.Log($"meta leader {metaLeader}; killing {victim} (SIGKILL): {KillStreams.Length} R3 streams and {KillStreams.Length} R3 consumers have a replica there, it leads [{string.Join(", ", leads)}]");

        var sw = Stopwatch.StartNew();
        var killedAt = DateTime.UtcNow;
        cluster.Kill(victim);
        var first = await stack.Webhook.WaitForAsync("a critical notification after the kill",
            n => n.Status == "firing" && n["severity"] == "critical", PageWithin + TimeSpan.FromSeconds(60));
        s.Log($"kill -> first critical notification: {(first.ReceivedUtc - killedAt).TotalSeconds:0.0}s ({first})");
        await WaitUntilAsync(sw, SettleAfterFailure);
        await AssertOnePageForAsync(s, stack, victim, killedAt, first);
    }

    /// <summary>
    /// After a freeze or kill of <paramref name="victim"/>: the first critical notification came
    /// within 90 s, and the only critical alert notified is NatsJsServerOffline for the victim,
    /// although Prometheus fires more critical alerts for it (the per-replica ones), which the
    /// example's inhibitions hold back.
    /// </summary>
    private static async Task AssertOnePageForAsync(Scenario s, Stack stack, string victim, DateTime failedAt, Notification first)
    {
        var window = (int)Math.Ceiling((DateTime.UtcNow - failedAt).TotalSeconds);
        var firing = await stack.Prometheus.QueryAsync($"max_over_time(ALERTS{{severity=\"critical\",alertstate=\"firing\"}}[{window}s])");
        s.LogNotifications(stack.Webhook, failedAt, null);
        var criticals = stack.Webhook.Received.Where(n => n.Status == "firing" && n["severity"] == "critical").ToList();
        var distinct = criticals.DistinctBy(n => n.ToString()[13..]).ToList();
        var warnings = stack.Webhook.Received.Where(n => n.Status == "firing" && n["severity"] == "warning").DistinctBy(n => n.ToString()[13..]).Count();
        s.Log($"critical alerts firing in Prometheus: {firing.Count} ({Series(firing, "alertname", "peer", "stream", "consumer")})");
        s.Log($"notified: {distinct.Count} critical alert(s) ({criticals.Count} in all), {warnings} warning alert(s)");
        Assert.True(first.ReceivedUtc - failedAt <= PageWithin, $"first page after {(first.ReceivedUtc - failedAt).TotalSeconds:0.0}s");
        var only = Assert.Single(distinct);
        Assert.Equal(ServerOffline, only.AlertName);
        Assert.Equal(victim, only["peer"]);
        Assert.True(firing.Count > 1, "expected the per-replica critical alerts to fire in Prometheus too (held back by inhibition): " + Series(firing, "alertname", "peer"));
    }

    // ---------------------------------------------------------------------------------------
    // The shipped Alertmanager example with its receiver URLs pointed at the test's webhook.
    // ---------------------------------------------------------------------------------------
    [GeneratedRegex(@"^(?<head>\s*(-\s+)?url:\s*)\S+\s*$")]
    private static partial Regex UrlLine();

    /// <summary>alerts/alertmanager.example.yml with every <c>url:</c> replaced by <paramref name="webhookUrl"/>;
    /// asserts that nothing else differs.</summary>
    private static string ExampleAlertmanagerConfig(string webhookUrl)
    {
        var shipped = File.ReadAllLines(Path.Combine(RepoRoot(), "alerts", "alertmanager.example.yml"));
        var rewritten = shipped.Select(l => UrlLine().Replace(l, m => m.Groups["head"].Value + webhookUrl)).ToArray();
        Assert.Equal(shipped.Length, rewritten.Length);
        var changed = Enumerable.Range(0, shipped.Length).Where(i => shipped[i] != rewritten[i]).ToList();
        Assert.NotEmpty(changed);
        Assert.All(changed, i => Assert.Matches(UrlLine(), shipped[i]));
        Assert.All(changed, i => Assert.Equal(shipped[i][..shipped[i].IndexOf("url:", StringComparison.Ordinal)],
            rewritten[i][..rewritten[i].IndexOf("url:", StringComparison.Ordinal)]));
        return string.Join("\n", rewritten) + "\n";
    }

    private static string ShippedRulesPath => Path.Combine(RepoRoot(), "alerts", "natsjs.rules.yml");

    [Fact]
    public void Shortening_divides_every_for_and_keeps_a_minimum()
    {
        Assert.Equal("15s", ShortenedRules.Shorten("3m"));
        Assert.Equal("10s", ShortenedRules.Shorten("2m"));
        Assert.Equal("75s", ShortenedRules.Shorten("15m"));
        Assert.Equal("5s", ShortenedRules.Shorten("30s"));
        Assert.Equal(TimeSpan.FromSeconds(5400), ShortenedRules.ParseDuration("1h30m"));
    }

    // ---------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------
    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NatsJsExporter.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("NatsJsExporter.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>One scenario's log lines (seconds since its start), printed together at the end.</summary>
    private sealed class Scenario(string name)
    {
        private readonly Stopwatch _sw = Stopwatch.StartNew();
        private readonly ConcurrentQueue<string> _lines = new();
        public string Name { get; } = name;
        public Exception? Error { get; set; }
        public IEnumerable<string> Lines => _lines;
        public TimeSpan Elapsed { get; private set; }
        public void Done() => Elapsed = _sw.Elapsed;
        public void Log(string line) => _lines.Enqueue($"[{_sw.Elapsed.TotalSeconds,5:0.0}s] {line}");

        public void LogNotifications(WebhookReceiver webhook, DateTime from, DateTime? mark)
        {
            Log("notifications:");
            foreach (var n in webhook.Received)
                Log($"  {(n.ReceivedUtc - from).TotalSeconds,6:0.0}s{(mark is { } m ? $" ({(n.ReceivedUtc - m).TotalSeconds:+0.0;-0.0}s)" : "")} {n}");
        }
    }

    private static string Series(JsonArray result, params string[] labels) =>
        result.Count == 0 ? "none" : string.Join(", ", result.Select(r =>
            string.Join(" ", labels.Select(l => r!["metric"]?[l]?.GetValue<string>()).Where(v => !string.IsNullOrEmpty(v)))
            + "=" + r!["value"]![1]!.GetValue<string>()));

    private static long DiskMiB(NatsCluster cluster) =>
        new DirectoryInfo(Path.GetDirectoryName(cluster.Nodes[0].ConfigPath)!).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) >> 20;

    private static async Task WaitUntilAsync(Stopwatch sw, TimeSpan at)
    {
        var left = at - sw.Elapsed;
        if (left > TimeSpan.Zero) await Task.Delay(left);
    }

    /// <summary>A server that leads neither the stream nor the meta group.</summary>
    private static async Task<string> FollowerAsync(NatsCluster cluster, string stream)
    {
        var streamLeader = await cluster.StreamLeaderAsync(stream);
        var metaLeader = await cluster.MetaLeaderAsync();
        return cluster.Nodes.Select(n => n.Name).First(n => n != streamLeader && n != metaLeader);
    }

    /// <summary>A client of APP connected only to the servers other than <paramref name="avoid"/>.</summary>
    private static NatsClient ClientAvoiding(NatsCluster cluster, string avoid) => new(new NatsOpts
    {
        Url = string.Join(",", cluster.Nodes.Where(n => n.Name != avoid).Select(n => n.ClientUrl)),
        AuthOpts = new NatsAuthOpts { Username = "app", Password = "app" },
        RequestTimeout = TimeSpan.FromSeconds(10),
    });

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>The highest last sequence of <paramref name="stream"/> any of the nodes holds (its own copy, from its /jsz).</summary>
    private static async Task<ulong?> LastSeqAsync(IEnumerable<NatsCluster.Node> nodes, string stream)
    {
        ulong? best = null;
        foreach (var n in nodes)
        {
            try
            {
                var jsz = await Http.GetFromJsonAsync<JsonObject>(n.MonitorUrl + "/jsz?accounts=true&streams=true");
                foreach (var acc in jsz?["account_details"]?.AsArray() ?? [])
                    foreach (var st in acc?["stream_detail"]?.AsArray() ?? [])
                        if (st?["name"]?.GetValue<string>() == stream && st["state"]?["last_seq"] is { } seq)
                            best = Math.Max(best ?? 0, seq.GetValue<ulong>());
            }
            catch (Exception) { }
        }
        return best;
    }

    /// <summary>Publishes about 50 messages/s until cancelled; errors (elections, reconnects) are ignored.</summary>
    private static Task PublishUntilAsync(INatsJSContext js, string subject, CancellationToken ct) => Task.Run(async () =>
    {
        for (int i = 0; !ct.IsCancellationRequested; i++)
        {
            try { await js.PublishAsync(subject, $"message {i}", cancellationToken: ct); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception) { }
            try { await Task.Delay(20, ct); } catch (OperationCanceledException) { return; }
        }
    });

    /// <summary>Fetches and acks from a durable consumer until cancelled, like a real processor, so
    /// that NatsJsConsumerStalled stays quiet; errors (its server restarting, elections) are retried.</summary>
    private static Task ConsumeUntilAsync(INatsJSContext js, string stream, string durable, CancellationToken ct) => Task.Run(async () =>
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var consumer = await js.GetConsumerAsync(stream, durable, ct);
                await foreach (var msg in consumer.FetchAsync<string>(new NatsJSFetchOpts { MaxMsgs = 200, Expires = TimeSpan.FromSeconds(1) }, cancellationToken: ct))
                    await msg.AckAsync(cancellationToken: ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception)
            {
                try { await Task.Delay(500, ct); } catch (OperationCanceledException) { return; }
            }
        }
    });

    private static Task WaitStreamsCurrentAsync(Stack stack, string[] streams) =>
        stack.Exporter.WaitForAsync($"every replica of {string.Join(", ", streams)} current", e =>
            streams.All(st => e.Find("natsjs_stream_peer_current", L("stream", st)).Count(x => x.Value == 1) == 3)
            && e.Find("natsjs_meta_peer_current").Count(x => x.Value == 1) == 3, Converge);

    /// <summary>What an operator checks before restarting the next server: every server answers,
    /// ORDERS and its consumer have a leader and every replica is current and online.</summary>
    /// <param name="since">Only polls that succeeded after this time count (no stale view from before a restart).</param>
    private static Task WaitAllHealthyAsync(Stack stack, DateTimeOffset since) =>
        stack.Exporter.WaitForAsync("every replica current and online", e =>
            stack.Cluster.Nodes.All(n => e.Value("natsjs_up", L("server", n.Name)) == 1
                && e.Value("natsjs_last_success_timestamp_seconds", L("server", n.Name)) > since.ToUnixTimeMilliseconds() / 1000.0 + 0.5)
            && e.Value("natsjs_stream_has_leader", L("stream", "ORDERS")) == 1
            && e.Find("natsjs_stream_peer_current", L("stream", "ORDERS")).Count(x => x.Value == 1) == 3
            && !e.Find("natsjs_stream_peer_offline", L("stream", "ORDERS")).Any(x => x.Value == 1)
            && e.Find("natsjs_consumer_has_leader", L("stream", "ORDERS")).All(x => x.Value == 1)
            && e.Find("natsjs_consumer_peer_current", L("stream", "ORDERS")).Count(x => x.Value == 1) == 3
            && !e.Find("natsjs_consumer_peer_offline", L("stream", "ORDERS")).Any(x => x.Value == 1),
            Converge);

    /// <summary>Cluster, client, exporter, webhook, Alertmanager and Prometheus, torn down in reverse.</summary>
    private sealed class Stack : IAsyncDisposable
    {
        public required NatsCluster Cluster { get; init; }
        public Demo Demo { get; private set; } = null!;
        public ExporterProcess Exporter { get; private set; } = null!;
        public WebhookReceiver Webhook { get; private set; } = null!;
        public AlertmanagerProcess Alertmanager { get; private set; } = null!;
        public PrometheusProcess Prometheus { get; private set; } = null!;

        public static async Task<Stack> StartAsync(Scenario s, string? extraNatsConfig, string? jetStreamConfig = null)
        {
            var stack = new Stack { Cluster = await NatsCluster.StartAsync(binary: NatsVersions.Binary(Version), extraConfig: extraNatsConfig, jetStreamConfig: jetStreamConfig) };
            try
            {
                stack.Demo = await Demo.ConnectAsync(stack.Cluster);
                stack.Exporter = await ExporterProcess.StartAsync("--monitor-urls", stack.Cluster.MonitorUrls, "--interval", "5s");
                stack.Webhook = new WebhookReceiver();
                stack.Alertmanager = await AlertmanagerProcess.StartAsync(ExampleAlertmanagerConfig(stack.Webhook.Url));
                stack.Prometheus = await PrometheusProcess.StartAsync([$"127.0.0.1:{stack.Exporter.Port}"], [ShippedRulesPath],
                    stack.Alertmanager.Address, scrapeInterval: "15s", evaluationInterval: "15s");
                s.Log($"stack up: nats-server {Version} x{stack.Cluster.Nodes.Count}, exporter --interval 5s, Prometheus 15s/15s, Alertmanager (example config)");
                return stack;
            }
            catch
            {
                await stack.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Prometheus is not null) await Prometheus.DisposeAsync();
            if (Alertmanager is not null) await Alertmanager.DisposeAsync();
            if (Webhook is not null) await Webhook.DisposeAsync();
            if (Exporter is not null) await Exporter.DisposeAsync();
            if (Demo is not null) await Demo.DisposeAsync();
            await Cluster.DisposeAsync();
        }
    }
}
