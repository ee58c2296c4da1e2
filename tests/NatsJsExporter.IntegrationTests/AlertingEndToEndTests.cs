using System.Diagnostics;
using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Net;
using NatsJsExporter.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// The paging path end to end with real processes: a 3-node nats-server cluster, the exporter
/// (polling every 1 s), Prometheus (scrape and rule evaluation every 1 s) loading the SHIPPED
/// alerts/natsjs.rules.yml, Alertmanager (group_wait/group_interval 1 s) and a webhook receiver
/// inside the test that records every notification, as a pager would get it.
/// </summary>
[Collection("real processes")]
public sealed class AlertingEndToEndTests(ITestOutputHelper output)
{
    private const string PagingAlert = "NatsJsStreamReplicaUnhealthy";
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);

    private static (string, string) L(string label, string value) => (label, value);

    // ---------------------------------------------------------------------------------------
    // Scenario 1: a frozen replica pages, and the page resolves when it comes back.
    // ---------------------------------------------------------------------------------------
    [Fact]
    public async Task A_frozen_replica_pages_through_alertmanager_and_resolves_when_resumed()
    {
        // Every for: of the shipped rules divided by ShortenedRules.ForDivisor (3m -> 15s), nothing else changed.
        using var rules = ShortenedRules.Write(ShippedRulesPath);
        var (shippedFor, testFor) = (rules.ShippedFor[PagingAlert], rules.TestFor[PagingAlert]);
        output.WriteLine($"{PagingAlert}: shipped for: {shippedFor}, test for: {testFor} " +
            $"(divided by {ShortenedRules.ForDivisor}, min {ShortenedRules.MinFor.TotalSeconds}s)");

        await using var stack = await Stack.StartAsync(rules.Path, extraNatsConfig: null);
        var (cluster, exporter, prometheus, webhook) = (stack.Cluster, stack.Exporter, stack.Prometheus, stack.Webhook);
        await stack.Demo.CreateStreamAsync("ORDERS", replicas: 3);
        await exporter.WaitForAsync("all ORDERS peers current", e =>
            e.Find("natsjs_stream_peer_current", L("stream", "ORDERS")).Count(s => s.Value == 1) == 3, Converge);
        await WaitForPrometheusAsync(prometheus, "count(natsjs_stream_peer_current{stream=\"ORDERS\"} == 1) == 3");

        // Freeze a replica that leads neither ORDERS nor the meta group: only its replica suffers.
        var streamLeader = await cluster.StreamLeaderAsync("ORDERS");
        var metaLeader = await cluster.MetaLeaderAsync();
        var victim = cluster.Nodes.Select(n => n.Name).First(n => n != streamLeader && n != metaLeader);
        output.WriteLine($"ORDERS leader {streamLeader}, meta leader {metaLeader}, freezing {victim}");

        // The publisher must not be connected to the victim: its connection would hang with the
        // frozen server, publishing would stop and the replica would only turn outdated after
        // ~10 s of silence (the idle case) instead of within a second.
        await using var publisherClient = new NatsClient(new NatsOpts
        {
            Url = string.Join(",", cluster.Nodes.Where(n => n.Name != victim).Select(n => n.ClientUrl)),
            AuthOpts = new NatsAuthOpts { Username = "app", Password = "app" },
        });
        using var publishing = new CancellationTokenSource();
        var publisher = PublishUntilAsync(publisherClient.CreateJetStreamContext(), "orders.new", publishing.Token);
        await Task.Delay(1000);

        bool IsOurAlert(Notification n) =>
            n.AlertName == PagingAlert && n["stream"] == "ORDERS" && n["peer"] == victim;

        var sw = Stopwatch.StartNew();
        using var watching = new CancellationTokenSource();
        var firstPending = WatchPendingAsync(prometheus, PagingAlert, victim, sw, watching.Token);
        cluster.Freeze(victim);
        Notification firing;
        TimeSpan freezeToFiring, resumeToResolved;
        try
        {
            firing = await webhook.WaitForAsync($"{PagingAlert} firing for ORDERS on {victim}",
                n => n.Status == "firing" && IsOurAlert(n), TimeSpan.FromSeconds(120));
            freezeToFiring = sw.Elapsed;
        }
        finally
        {
            watching.Cancel();
            cluster.Resume(victim);
        }
        var resumed = Stopwatch.StartNew();
        var pendingAfter = await firstPending;
        output.WriteLine($"freeze -> Prometheus pending: {Seconds(pendingAfter)}");
        output.WriteLine($"freeze -> firing notification: {freezeToFiring.TotalSeconds:0.0}s (for: {testFor})");

        Assert.Equal("critical", firing["severity"]);
        Assert.Equal("APP", firing["account"]);
        Assert.Equal("ORDERS", firing["stream"]);
        Assert.Equal(victim, firing["peer"]);
        Assert.Equal(cluster.ClusterName, firing["cluster"]);
        Assert.Equal($"Stream APP/ORDERS replica on {victim} is outdated", firing.Annotations["summary"]);
        Assert.EndsWith("docs/runbooks.md#natsjsstreamreplicaunhealthy", firing.Annotations["runbook_url"]);
        // Detection is the exporter's job: outdated within seconds, well before the shortened for:.
        Assert.True(freezeToFiring < ShortenedRules.ParseDuration(testFor) + TimeSpan.FromSeconds(20),
            $"paged {freezeToFiring.TotalSeconds:0.0}s after the freeze; for: is {testFor}");

        var resolved = await webhook.WaitForAsync($"{PagingAlert} resolved for ORDERS on {victim}",
            n => n.Status == "resolved" && IsOurAlert(n) && n.ReceivedUtc > firing.ReceivedUtc, TimeSpan.FromSeconds(120));
        resumeToResolved = resumed.Elapsed;
        output.WriteLine($"resume -> resolved notification: {resumeToResolved.TotalSeconds:0.0}s");
        Assert.Equal(firing.Labels.OrderBy(kv => kv.Key), resolved.Labels.OrderBy(kv => kv.Key));

        publishing.Cancel();
        await publisher;
        output.WriteLine("all notifications:");
        foreach (var n in webhook.Received) output.WriteLine("  " + n);
    }

    // ---------------------------------------------------------------------------------------
    // Scenario 2: a rolling restart with lame duck mode does not page.
    // ---------------------------------------------------------------------------------------

    /// <summary>
    /// How long each server stays down between its exit and its new start. On this machine a
    /// bare restart of a nearly empty store takes ~1-2 s, far shorter than a real one (service
    /// manager or pod rescheduling, JetStream recovering a large store, catch-up), and would
    /// prove little. 30 s is the upper end of the offline window the rules assume
    /// (docs/runbooks.md#timing-assumptions: "offline/outdated for ~10-30 s").
    /// </summary>
    private static readonly TimeSpan RestartDowntime = TimeSpan.FromSeconds(30);

    /// <remarks>
    /// This scenario loads the shipped rules UNCHANGED. With the shortened for: of scenario 1
    /// (3m -> 15s) a restart that keeps a replica offline for 30 s would page by design; with
    /// a bare 1-2 s restart it would stay quiet only because this machine is fast. Neither
    /// says anything about production. What must hold is that the shipped for: values stay
    /// quiet through a restart that takes as long as a real one, so the test restarts real
    /// servers (same store, JetStream recovery, Raft catch-up while a client publishes to ORDERS
    /// and another fetches and acks from its R3 consumer PROCESSOR, each server
    /// down for <see cref="RestartDowntime"/>) and measures, from Prometheus'
    /// ALERTS_FOR_STATE, the longest time each alert was pending: it must stay below that
    /// alert's shipped for:. No notification may arrive (critical ones would page; the
    /// warnings are meant to stay quiet through a restart too), and at the end no alert may
    /// still be pending, so nothing from this restart can fire later. The test also asserts
    /// that the paging replica alert WAS pending, so it is the for: (not an absence of
    /// signal) that keeps it quiet.
    /// lame_duck_duration is 30s (the minimum nats-server 2.9 accepts; default 2m) and the grace
    /// period 2s (default 10s): lame duck mode first hands the server's Raft leaderships to
    /// other servers, then closes client connections (at most one per second, spread over the
    /// duration minus the grace period) while the server still serves its Raft groups, and
    /// then shuts down. These settings therefore do not change how long replicas are offline;
    /// that window runs from the shutdown to the catch-up after the new process starts.
    /// </remarks>
    [Fact]
    public async Task A_rolling_restart_with_lame_duck_mode_sends_no_critical_notification()
    {
        var shipped = ShippedRulesPath;
        await using var stack = await Stack.StartAsync(shipped, extraNatsConfig: """
            lame_duck_duration: "30s"
            lame_duck_grace_period: "2s"
            """);
        var (cluster, exporter, prometheus, webhook) = (stack.Cluster, stack.Exporter, stack.Prometheus, stack.Webhook);
        await stack.Demo.CreateStreamAsync("ORDERS", replicas: 3);
        await stack.Demo.CreateConsumerAsync("ORDERS", "PROCESSOR");
        await WaitAllHealthyAsync(exporter, cluster, "before the rolling restart", DateTimeOffset.UtcNow);
        await WaitForPrometheusAsync(prometheus, "count(natsjs_consumer_peer_current{stream=\"ORDERS\"} == 1) == 3");

        using var publishing = new CancellationTokenSource();
        var publisher = stack.Demo.PublishUntilAsync("ORDERS", publishing.Token);
        var processor = ConsumeUntilAsync(stack.Demo.Js, "ORDERS", "PROCESSOR", publishing.Token);
        await Task.Delay(2000);

        var start = DateTimeOffset.UtcNow;
        var rolling = Stopwatch.StartNew();
        foreach (var node in cluster.Nodes.Select(n => n.Name))
        {
            var step = Stopwatch.StartNew();
            var leaders = $"ORDERS leader {await cluster.StreamLeaderAsync("ORDERS")}, meta leader {await cluster.MetaLeaderAsync()}";
            var exited = await cluster.LameDuckRestartAsync(node, TimeSpan.FromSeconds(60), RestartDowntime);
            var ready = step.Elapsed;
            await WaitAllHealthyAsync(exporter, cluster, $"after restarting {node}", DateTimeOffset.UtcNow);
            output.WriteLine($"{node} ({leaders}): lame duck -> exit {exited.TotalSeconds:0.0}s, down {RestartDowntime.TotalSeconds:0}s, " +
                $"-> /healthz ready {ready.TotalSeconds:0.0}s, -> every replica current (exporter) {step.Elapsed.TotalSeconds:0.0}s");
        }
        output.WriteLine($"rolling restart of {cluster.Nodes.Count} nodes: {rolling.Elapsed.TotalSeconds:0.0}s");

        // Margin: long enough for anything already firing in Prometheus to reach the webhook
        // (eval 1s + group_wait 1s) and for late effects of the last restart to show up.
        await Task.Delay(TimeSpan.FromSeconds(15));
        publishing.Cancel();
        await publisher;
        await processor;
        var window = (int)Math.Ceiling((DateTimeOffset.UtcNow - start).TotalSeconds) + 5;

        output.WriteLine("all notifications:");
        foreach (var n in webhook.Received) output.WriteLine("  " + n);

        // Longest pending streak per alert series during the window (ALERTS_FOR_STATE holds the
        // time the alert became active; it resets when the condition clears).
        var streaks = await prometheus.QueryAsync(
            $"max_over_time((timestamp(ALERTS_FOR_STATE) - ALERTS_FOR_STATE)[{window}s:1s])");
        var forByAlert = ShortenedRules.ForByAlert(File.ReadAllText(shipped));
        var tooLong = new List<string>();
        foreach (var s in streaks)
        {
            var labels = s!["metric"]!.AsObject();
            var name = labels["alertname"]!.GetValue<string>();
            var streak = double.Parse(s["value"]![1]!.GetValue<string>(), CultureInfo.InvariantCulture);
            var line = $"{name} {{{string.Join(",", labels.Where(kv => kv.Key is "server" or "stream" or "consumer" or "peer" or "severity").Select(kv => $"{kv.Key}={kv.Value}"))}}} " +
                $"pending at most {streak:0}s of for: {forByAlert[name]}";
            output.WriteLine("longest pending: " + line);
            if (TimeSpan.FromSeconds(streak) >= ShortenedRules.ParseDuration(forByAlert[name])) tooLong.Add(line);
        }
        Assert.Empty(tooLong);
        Assert.Contains(streaks, s => s!["metric"]!["alertname"]!.GetValue<string>() == PagingAlert);

        Assert.DoesNotContain(webhook.Received, n => n["severity"] == "critical");
        Assert.Empty(await prometheus.QueryAsync($"max_over_time(ALERTS{{severity=\"critical\",alertstate=\"firing\"}}[{window}s])"));
        Assert.Empty(webhook.Received);
        // A replica catching up right after the last restart may be briefly pending again; it must
        // clear by itself (well before any for:), not stay.
        var stillActive = await prometheus.AlertsAsync();
        for (var clearBy = DateTime.UtcNow.AddSeconds(60); stillActive.Count > 0 && DateTime.UtcNow < clearBy; stillActive = await prometheus.AlertsAsync())
            await Task.Delay(1000);
        Assert.True(stillActive.Count == 0, "still pending or firing a minute after the restart: " + stillActive.ToJsonString());
    }

    // ---------------------------------------------------------------------------------------
    // Shortening for: in a copy of the shipped rules.
    // ---------------------------------------------------------------------------------------
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

    private static string Seconds(TimeSpan? t) => t is { } v ? $"{v.TotalSeconds:0.0}s" : "not seen";

    /// <summary>Polls Prometheus' alerts until the paging alert for the peer is active; returns when.</summary>
    private static async Task<TimeSpan?> WatchPendingAsync(PrometheusProcess prometheus, string alert, string peer, Stopwatch sw, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var alerts = await prometheus.AlertsAsync();
                if (alerts.Any(a => a!["labels"]!["alertname"]?.GetValue<string>() == alert && a["labels"]!["peer"]?.GetValue<string>() == peer))
                    return sw.Elapsed;
                await Task.Delay(250, ct);
            }
            catch (OperationCanceledException) { break; }
            catch (Exception) { }
        }
        return null;
    }

    private static async Task WaitForPrometheusAsync(PrometheusProcess prometheus, string promql)
    {
        var deadline = DateTime.UtcNow + Converge;
        while (DateTime.UtcNow < deadline)
        {
            if ((await prometheus.QueryAsync(promql)).Count > 0) return;
            await Task.Delay(250);
        }
        throw new TimeoutException($"Prometheus: {promql} not true within {Converge.TotalSeconds:0}s\n{string.Join("\n", prometheus.Output)}");
    }

    /// <summary>What an operator checks before restarting the next server: every server answers,
    /// ORDERS and its consumer have a leader and every replica is current and online.</summary>
    /// <param name="since">Only polls that succeeded after this time count (no stale view from before a restart).</param>
    private static Task WaitAllHealthyAsync(ExporterProcess exporter, NatsCluster cluster, string when, DateTimeOffset since) =>
        exporter.WaitForAsync($"every replica current and online {when}", e =>
            cluster.Nodes.All(n => e.Value("natsjs_up", L("server", n.Name)) == 1
                && e.Value("natsjs_last_success_timestamp_seconds", L("server", n.Name)) > since.ToUnixTimeMilliseconds() / 1000.0 + 0.5)
            && e.Value("natsjs_stream_has_leader", L("stream", "ORDERS")) == 1
            && e.Find("natsjs_stream_peer_current", L("stream", "ORDERS")).Count(s => s.Value == 1) == 3
            && !e.Find("natsjs_stream_peer_offline", L("stream", "ORDERS")).Any(s => s.Value == 1)
            && e.Find("natsjs_consumer_has_leader", L("stream", "ORDERS")).All(s => s.Value == 1)
            && e.Find("natsjs_consumer_peer_current", L("stream", "ORDERS")).Count(s => s.Value == 1) == 3
            && !e.Find("natsjs_consumer_peer_offline", L("stream", "ORDERS")).Any(s => s.Value == 1),
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

        public static async Task<Stack> StartAsync(string rulesPath, string? extraNatsConfig)
        {
            var stack = new Stack { Cluster = await NatsCluster.StartAsync(extraConfig: extraNatsConfig) };
            try
            {
                stack.Demo = await Demo.ConnectAsync(stack.Cluster);
                stack.Exporter = await ExporterProcess.StartAsync("--monitor-urls", stack.Cluster.MonitorUrls, "--interval", "1s", "--timeout", "800ms");
                stack.Webhook = new WebhookReceiver();
                // Everything to the webhook, one notification per alert ('...' groups by all labels).
                stack.Alertmanager = await AlertmanagerProcess.StartAsync($"""
                    route:
                      receiver: webhook
                      group_by: ['...']
                      group_wait: 1s
                      group_interval: 1s
                      repeat_interval: 1m
                    receivers:
                      - name: webhook
                        webhook_configs:
                          - url: {stack.Webhook.Url}
                            send_resolved: true
                    """);
                stack.Prometheus = await PrometheusProcess.StartAsync([$"127.0.0.1:{stack.Exporter.Port}"], [rulesPath],
                    stack.Alertmanager.Address, scrapeInterval: "1s", evaluationInterval: "1s");
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
