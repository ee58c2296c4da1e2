using System.Diagnostics;
using System.Globalization;
using NatsJsExporter.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// An HA pair as users run it, on real processes: a 3-node nats-server cluster, two exporters,
/// two identical Prometheus servers (replica "a" and "b") each scraping the exporter beside it,
/// both loading the SHIPPED alerts/natsjs.rules.yml with every <c>for:</c> divided by
/// <see cref="ShortenedRules.ForDivisor"/> (see below) and sending to ONE Alertmanager configured
/// from the shipped alerts/alertmanager.example.yml (only group_wait/group_interval shortened,
/// receivers pointed at a webhook inside the test).
/// </summary>
/// <remarks>
/// What makes the two replicas' alerts one alert in Alertmanager (README "Running at scale"):
/// <list type="bullet">
/// <item>each Prometheus has <c>external_labels: {replica: a|b}</c> (what Thanos/Mimir need to
/// tell the copies apart) and drops that label from its alerts with <c>alert_relabel_configs</c>
/// (what the Prometheus Operator does for <c>prometheus_replica</c>);</item>
/// <item>each scrapes the exporter beside it under the same <c>instance</c> label, as two hosts
/// scraping <c>localhost:PORT</c> would get without relabelling (here both run on one machine,
/// so a relabel rule sets it). The rules keep target labels by design
/// (<c>without (...)</c>), so alerts from two different instances would be two alerts.</item>
/// </list>
/// The incident: a NATS server is killed and stays down until its alerts have fired
/// (NatsJsStreamQuorumMarginZero, NatsJsTargetDown, NatsJsDataStale, NatsJsServersMissing, ...);
/// then it is started again and everything resolves. It comes back before NatsJsServerOffline
/// (the meta leader has not heard from it for 45 s, <c>for: 0s</c>: shortening <c>for:</c> does
/// not bring it forward) would fire and inhibit those alerts, holding back their resolutions; the
/// alerts whose threshold is a last-seen clock (NatsJsServerOffline, NatsJsStreamReplicaUnhealthy)
/// are AlertingEndToEndTests' job.
/// Every alert must reach the webhook exactly once firing and at most once resolved, although
/// both Prometheus servers fire it (asserted) and both send it to Alertmanager (asserted).
/// <para>
/// Why the shortened <c>for:</c> (2m -> 10s, 3m -> 15s, like AlertingEndToEndTests scenario 1)
/// keeps these tests honest: what they prove is decided by labels, not durations. Alertmanager
/// merges the two replicas' alerts when their label sets are equal and groups them by
/// [alertname, cluster]; a shard's copy of a server-level alert differs by <c>instance</c>
/// whatever its <c>for:</c>. The copy keeps every expression, label and annotation of the
/// shipped file (<see cref="ShortenedRules.Write"/> asserts that only <c>for:</c> lines differ),
/// so the alerts carry exactly the labels the shipped rules give them. The race the
/// deduplication must survive, the two replicas firing and resolving at slightly different
/// instants (different scrape and evaluation phases), is as wide with 15 s as with 3 m. That
/// the shipped <c>for:</c> values stay quiet through restarts is AlertingEndToEndTests
/// scenario 2's job, with the shipped file unchanged.
/// </para>
/// </remarks>
[Collection("real processes")]
public sealed class HaTests(ITestOutputHelper output)
{
    private const string Instance = "natsjs-east";
    /// <summary>The stream alert of these tests: one R3 replica down leaves ORDERS exactly a quorum (warning, 2m shipped, 10s here).</summary>
    private const string StreamAlert = "NatsJsStreamQuorumMarginZero";
    /// <summary>NatsJsServerOffline's threshold (natsjs_meta_peer_last_seen_seconds &gt;= 45, for: 0s).</summary>
    private static readonly TimeSpan ServerOfflineAfter = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_HA_pair_of_Prometheus_servers_with_an_exporter_each_sends_one_notification_per_alert()
    {
        var total = Stopwatch.StartNew();
        using var rules = ShortenedRules.Write(Path.Combine(RepoRoot(), "alerts", "natsjs.rules.yml"));
        await using var cluster = await NatsCluster.StartAsync();
        await using (var demo = await Demo.ConnectAsync(cluster))
        {
            await demo.CreateStreamAsync("ORDERS", replicas: 3);
            await demo.PublishAsync("ORDERS", 10);
        }
        string[] args = ["--monitor-urls", cluster.MonitorUrls, "--interval", "1s", "--timeout", "800ms"];
        await using var exporterA = await ExporterProcess.StartAsync(args);
        await using var exporterB = await ExporterProcess.StartAsync(args);
        await using var webhook = new WebhookReceiver();
        await using var alertmanager = await AlertmanagerProcess.StartAsync(AlertmanagerConfig(webhook.Url));
        await using var prometheusA = await PrometheusProcess.StartWithConfigAsync(PrometheusConfig("a", exporterA.Port, rules.Path, alertmanager.Address));
        await using var prometheusB = await PrometheusProcess.StartWithConfigAsync(PrometheusConfig("b", exporterB.Port, rules.Path, alertmanager.Address));
        PrometheusProcess[] pair = [prometheusA, prometheusB];

        foreach (var p in pair)
        {
            await WaitForAsync(p, "count(natsjs_stream_peer_current{stream=\"ORDERS\"} == 1) == 3");
            await WaitForAsync(p, "count(natsjs_up == 1) == 3");
        }
        // Nothing may be firing before the incident (NatsJsExporterAbsent is pending for the first
        // scrape at most; its for: is 25s here, 5m shipped).
        Assert.Empty(webhook.Received);

        var streamLeader = await cluster.StreamLeaderAsync("ORDERS");
        var metaLeader = await cluster.MetaLeaderAsync();
        var victim = cluster.Nodes.Select(n => n.Name).First(n => n != streamLeader && n != metaLeader);
        output.WriteLine($"ORDERS leader {streamLeader}, meta leader {metaLeader}, killing {victim}");

        var down = Stopwatch.StartNew();
        cluster.Kill(victim);
        var streamAlert = await webhook.WaitForAsync($"{StreamAlert} firing for ORDERS",
            n => n.Status == "firing" && n.AlertName == StreamAlert && n["stream"] == "ORDERS", TimeSpan.FromSeconds(60));
        var targetDown = await webhook.WaitForAsync($"NatsJsTargetDown firing for {victim}",
            n => n.Status == "firing" && n.AlertName == "NatsJsTargetDown" && n["server"] == victim, TimeSpan.FromSeconds(60));
        output.WriteLine($"kill -> {StreamAlert} firing notification {down.Elapsed.TotalSeconds:0}s " +
            $"(for: {rules.TestFor[StreamAlert]}, shipped {rules.ShippedFor[StreamAlert]})");
        // A duplicate can only come once the later replica fires and sends too: wait until both
        // fire the same alerts, then for its notification to get through (evaluation 1s, then
        // Alertmanager's group_interval 1s), with margin.
        await WaitForAsync("both replicas fire the same alerts", async () =>
        {
            var (a, b) = (await FiringAsync(prometheusA), await FiringAsync(prometheusB));
            return a.SetEquals(b) && a.Any(k => k.Contains(StreamAlert, StringComparison.Ordinal))
                && a.Any(k => k.Contains("NatsJsTargetDown", StringComparison.Ordinal));
        });
        await Task.Delay(TimeSpan.FromSeconds(5));
        var downFor = down.Elapsed;

        // Both replicas fire it themselves and both send to Alertmanager: the deduplication is real.
        foreach (var (p, name) in new[] { (prometheusA, "a"), (prometheusB, "b") })
        {
            var firing = await p.QueryAsync($"ALERTS{{alertname=\"{StreamAlert}\",alertstate=\"firing\",stream=\"ORDERS\"}}");
            Assert.True(firing.Count == 1, $"Prometheus {name}: {firing.ToJsonString()}");
            Assert.Equal(Instance, firing[0]!["metric"]!["instance"]!.GetValue<string>());
            var sent = await MetricSumAsync(p.BaseUrl, "prometheus_notifications_sent_total");
            output.WriteLine($"Prometheus {name}: {sent} alerts sent to Alertmanager");
            Assert.True(sent > 0, $"Prometheus {name} sent nothing");
        }

        Assert.True(down.Elapsed < ServerOfflineAfter - TimeSpan.FromSeconds(3),
            $"{victim} down {down.Elapsed.TotalSeconds:0}s: NatsJsServerOffline ({ServerOfflineAfter.TotalSeconds:0} s) would fire and inhibit the alerts whose resolution this test checks");
        cluster.Restart(victim);
        await cluster.WaitReadyAsync(Converge);
        var restarted = Stopwatch.StartNew();
        await webhook.WaitForAsync($"{StreamAlert} resolved for ORDERS",
            n => n.Status == "resolved" && n.AlertName == StreamAlert && n["stream"] == "ORDERS", TimeSpan.FromSeconds(120));
        await webhook.WaitForAsync($"NatsJsTargetDown resolved for {victim}",
            n => n.Status == "resolved" && n.AlertName == "NatsJsTargetDown" && n["server"] == victim, TimeSpan.FromSeconds(120));
        output.WriteLine($"restart -> resolved notifications {restarted.Elapsed.TotalSeconds:0}s");
        // Late sends of either replica: wait until neither has any alert left pending or firing
        // (nothing of this incident can fire later, a flap back to firing would have to show up
        // as pending first), then for the last notification to get through.
        await WaitForAsync("no alert pending or firing on either replica", async () =>
            (await prometheusA.AlertsAsync()).Count == 0 && (await prometheusB.AlertsAsync()).Count == 0);
        await Task.Delay(TimeSpan.FromSeconds(5));

        var received = webhook.Received.ToList();
        output.WriteLine($"server down {downFor.TotalSeconds:0}s; notifications ({received.Count}):");
        foreach (var n in received) output.WriteLine("  " + n);
        var amReceived = await MetricSumAsync(alertmanager.BaseUrl, "alertmanager_alerts_received_total");
        output.WriteLine($"Alertmanager received {amReceived} alerts from the two replicas and notified {received.Count}");
        output.WriteLine($"test took {total.Elapsed.TotalSeconds:0}s");

        // The labels a pager sees carry neither the Prometheus replica nor an exporter address.
        Assert.All(received, n => Assert.False(n.Labels.ContainsKey("replica"), $"replica label on {n}"));
        Assert.All(received, n => Assert.True(!n.Labels.ContainsKey("instance") || n["instance"] == Instance, $"instance on {n}"));
        // Exactly one firing notification per alert, at most one resolved; copies that differed
        // only by replica or exporter instance would count as two here.
        var byAlert = received.GroupBy(n => Key(Without(Without(n.Labels, "replica"), "instance"))).ToList();
        foreach (var g in byAlert)
        {
            Assert.True(g.Count(n => n.Status == "firing") == 1, $"{g.Key}: {g.Count(n => n.Status == "firing")} firing notifications");
            Assert.True(g.Count(n => n.Status == "resolved") <= 1, $"{g.Key}: {g.Count(n => n.Status == "resolved")} resolved notifications");
        }
        Assert.Equal(1, received.Count(n => n.Status == "resolved" && n.AlertName == streamAlert.AlertName && n["stream"] == "ORDERS"));
        Assert.Equal(1, received.Count(n => n.Status == "resolved" && n.AlertName == targetDown.AlertName && n["server"] == victim));
        Assert.Equal("warning", streamAlert["severity"]);
        Assert.DoesNotContain(received, n => n.AlertName == "NatsJsServerOffline");
        Assert.True(amReceived >= 2 * byAlert.Count, $"Alertmanager received only {amReceived} alerts for {byAlert.Count} notified");
    }

    /// <summary>
    /// Account shards (ShardTests) in one Prometheus with the shipped rules and Alertmanager
    /// example: a killed server raises each stream's alert (NatsJsStreamQuorumMarginZero) ONCE
    /// (from the shard that owns the account) but every server-level alert (here NatsJsTargetDown,
    /// NatsJsDataStale, NatsJsServersMissing, NatsJsMetaQuorumMarginZero) once PER SHARD: the two
    /// copies differ only in <c>instance</c>, so Alertmanager keeps both; grouped by
    /// [alertname, cluster] they share a group.
    /// </summary>
    [Fact]
    public async Task Account_shards_raise_account_alerts_once_and_server_alerts_once_per_shard()
    {
        var total = Stopwatch.StartNew();
        using var rules = ShortenedRules.Write(Path.Combine(RepoRoot(), "alerts", "natsjs.rules.yml"));
        await using var cluster = await NatsCluster.StartAsync();
        await using (var app = await Demo.ConnectAsync(cluster)) await app.CreateStreamAsync("ORDERS", replicas: 3);
        await using (var ops = await Demo.ConnectAsync(cluster, user: "ops")) await ops.CreateStreamAsync("AUDIT", replicas: 3);
        string[] common = ["--monitor-urls", cluster.MonitorUrls, "--interval", "1s", "--timeout", "800ms"];
        await using var appShard = await ExporterProcess.StartAsync([.. common, "--include-accounts", "^APP$"]);
        await using var restShard = await ExporterProcess.StartAsync([.. common, "--exclude-accounts", "^APP$"]);
        await using var webhook = new WebhookReceiver();
        await using var alertmanager = await AlertmanagerProcess.StartAsync(AlertmanagerConfig(webhook.Url));
        await using var prometheus = await PrometheusProcess.StartAsync(
            [$"127.0.0.1:{appShard.Port}", $"127.0.0.1:{restShard.Port}"], [rules.Path], alertmanager.Address);
        await WaitForAsync(prometheus, "count(natsjs_stream_peer_current == 1) == 6");
        await WaitForAsync(prometheus, "count(natsjs_up == 1) == 6");

        var leaders = new[] { await cluster.MetaLeaderAsync() };
        var victim = cluster.Nodes.Select(n => n.Name).First(n => !leaders.Contains(n));
        output.WriteLine($"meta leader {leaders[0]}, killing {victim}");
        var down = Stopwatch.StartNew();
        cluster.Kill(victim);
        foreach (var stream in new[] { "ORDERS", "AUDIT" })
            await webhook.WaitForAsync($"{StreamAlert} firing for {stream}",
                n => n.Status == "firing" && n.AlertName == StreamAlert && n["stream"] == stream, TimeSpan.FromSeconds(60));
        await webhook.WaitForAsync($"NatsJsTargetDown firing for {victim} from both shards",
            _ => webhook.Received.Where(n => n.Status == "firing" && n.AlertName == "NatsJsTargetDown" && n["server"] == victim)
                .Select(n => n["instance"]).Distinct().Count() == 2, TimeSpan.FromSeconds(60));
        await webhook.WaitForAsync("NatsJsMetaQuorumMarginZero firing from both shards",
            _ => webhook.Received.Where(n => n.Status == "firing" && n.AlertName == "NatsJsMetaQuorumMarginZero")
                .Select(n => n["instance"]).Distinct().Count() == 2, TimeSpan.FromSeconds(60));
        // Every server-level alert notified so far from both shards (a shard's copy may lag the
        // other's by an evaluation), then a few seconds for anything still on its way.
        await webhook.WaitForAsync("every server-level alert from both shards", _ =>
        {
            var serverLevel = webhook.Received.Where(n => n.Status == "firing" && !n.Labels.ContainsKey("account")).ToList();
            return serverLevel.GroupBy(n => n.AlertName).All(g => g.Select(n => n["instance"]).Distinct().Count() == 2);
        }, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(3));
        output.WriteLine($"server down {down.Elapsed.TotalSeconds:0}s; test took {total.Elapsed.TotalSeconds:0}s; notifications:");
        var received = webhook.Received.Where(n => n.Status == "firing").ToList();
        foreach (var n in received) output.WriteLine("  " + n);

        string appInstance = $"127.0.0.1:{appShard.Port}", restInstance = $"127.0.0.1:{restShard.Port}";
        // Account-scoped: one alert (one label set), from the shard that exports the account. The same
        // alert may be listed again when its group (alertname, cluster) is notified anew because the
        // other stream's alert joined it a few seconds later: that is a group update, not a second alert.
        var orders = received.Where(n => n.AlertName == StreamAlert && n["stream"] == "ORDERS").ToList();
        var audit = received.Where(n => n.AlertName == StreamAlert && n["stream"] == "AUDIT").ToList();
        Assert.Single(orders.Select(n => Key(n.Labels)).Distinct());
        Assert.Single(audit.Select(n => Key(n.Labels)).Distinct());
        Assert.Equal([appInstance], orders.Select(n => n["instance"]).Distinct());
        Assert.Equal([restInstance], audit.Select(n => n["instance"]).Distinct());
        // Server-level: one alert per shard, equal but for instance.
        foreach (var name in received.Where(n => !n.Labels.ContainsKey("account")).Select(n => n.AlertName).Distinct())
        {
            var copies = received.Where(n => n.AlertName == name).GroupBy(n => Key(n.Labels)).Select(g => g.First()).ToList();
            output.WriteLine($"{name}: {copies.Count} alert(s) from instances {string.Join(", ", copies.Select(n => n["instance"]))}");
            Assert.Equal(new[] { appInstance, restInstance }.Order(StringComparer.Ordinal), copies.Select(n => n["instance"]).Order(StringComparer.Ordinal));
            Assert.Equal(Key(Without(copies[0].Labels, "instance")), Key(Without(copies[1].Labels, "instance")));
        }
        Assert.Contains(received, n => n.AlertName == "NatsJsTargetDown");
    }

    private static Dictionary<string, string> Without(IReadOnlyDictionary<string, string> labels, string label) =>
        labels.Where(kv => kv.Key != label).ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>
    /// The shipped Alertmanager example with its 30 s group_wait and 5 m group_interval cut to 1 s
    /// (a test cannot wait 5 m between notifications) and its receivers pointed at the webhook.
    /// </summary>
    private static string AlertmanagerConfig(string webhookUrl)
    {
        var text = File.ReadAllText(Path.Combine(RepoRoot(), "alerts", "alertmanager.example.yml"));
        foreach (var (from, to) in new[]
        {
            ("group_wait: 30s", "group_wait: 1s"), ("group_interval: 5m", "group_interval: 1s"),
            ("url: http://127.0.0.1:9095/pager", $"url: {webhookUrl}/pager"),
            ("url: http://127.0.0.1:9096/ticket", $"url: {webhookUrl}/ticket"),
        })
        {
            Assert.Equal(1, CountOf(text, from));
            text = text.Replace(from, to, StringComparison.Ordinal);
        }
        return text;
    }

    private static int CountOf(string text, string part)
    {
        int count = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    /// <summary>
    /// One replica of the pair: the prometheus.yml README "Running at scale" shows, with this
    /// test's addresses, the shipped rules' absolute path and 1 s scrape and evaluation intervals.
    /// </summary>
    private static string PrometheusConfig(string replica, int exporterPort, string rules, string alertmanager)
    {
        var readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));
        var section = readme.IndexOf("\n## Running at scale\n", StringComparison.Ordinal);
        Assert.True(section >= 0, "README has no \"Running at scale\" section");
        var block = System.Text.RegularExpressions.Regex.Match(readme[section..], "```yaml\n(# prometheus.yml of replica.*?)```",
            System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.True(block.Success, "README \"Running at scale\" has no prometheus.yml of a replica");
        var text = block.Groups[1].Value;
        foreach (var (from, to) in new[]
        {
            ("global:\n", "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"),
            ("    replica: a\n", $"    replica: {replica}\n"),
            ("\"alertmanager:9093\"", $"\"{alertmanager}\""),
            ("  - natsjs.rules.yml\n", $"  - '{rules}'\n"),
            ("\"localhost:7778\"", $"\"127.0.0.1:{exporterPort}\""),
            ($"replacement: {Instance}\n", $"replacement: {Instance}\n"),
        })
        {
            Assert.Equal(1, CountOf(text, from));
            text = text.Replace(from, to, StringComparison.Ordinal);
        }
        return text;
    }

    private static string Key(IReadOnlyDictionary<string, string> labels) =>
        "{" + string.Join(",", labels.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}=\"{kv.Value}\"")) + "}";

    /// <summary>Sum of all series of a counter on a process' own /metrics (Prometheus does not scrape itself here).</summary>
    private static async Task<double> MetricSumAsync(string baseUrl, string name)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var text = await http.GetStringAsync(baseUrl + "/metrics");
        return text.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    /// <summary>The firing alerts of one Prometheus, each as its label set (without alertstate).</summary>
    private static async Task<HashSet<string>> FiringAsync(PrometheusProcess prometheus) =>
        (await prometheus.QueryAsync("ALERTS{alertstate=\"firing\"}"))
            .Select(r => Key(r!["metric"]!.AsObject().Where(kv => kv.Key is not "alertstate" and not "__name__")
                .ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>())))
            .ToHashSet(StringComparer.Ordinal);

    private static async Task WaitForAsync(string what, Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Converge;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(250);
        }
        throw new TimeoutException($"{what}: not within {Converge.TotalSeconds:0}s");
    }

    private static async Task WaitForAsync(PrometheusProcess prometheus, string promql)
    {
        var deadline = DateTime.UtcNow + Converge;
        while (DateTime.UtcNow < deadline)
        {
            if ((await prometheus.QueryAsync(promql)).Count > 0) return;
            await Task.Delay(250);
        }
        throw new TimeoutException($"Prometheus: {promql} not true within {Converge.TotalSeconds:0}s\n{string.Join("\n", prometheus.Output)}");
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NatsJsExporter.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("NatsJsExporter.sln not found above " + AppContext.BaseDirectory);
    }
}
