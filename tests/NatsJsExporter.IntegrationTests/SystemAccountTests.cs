using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using NatsJsExporter.Hosting;
using NatsJsExporter.IntegrationTests.Infrastructure;
using NatsJsExporter.Metrics;
using NatsJsExporter.Options;
using NatsJsExporter.Sources;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>System-account mode against a real cluster: parity with HTTP, failures, restarts, paging.</summary>
[Collection("real processes")]
public sealed class SystemAccountTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    private static (string, string) L(string label, string value) => (label, value);

    private static SystemAccountOptions Sys(NatsCluster cluster, string user = "sys", string password = "sys") =>
        new() { Url = cluster.ClientUrls, User = user, Password = password };

    /// <summary>Data series only: self-metrics differ by design, and last-seen ages move between two polls.</summary>
    private static string DataSeries(PublishedSnapshot published)
    {
        var text = Encoding.UTF8.GetString(MetricsRenderer.Render(published.Snapshot, "test", includeExporter: false));
        return string.Join("\n", text.Split('\n').Where(l => !l.Contains("_last_seen_seconds", StringComparison.Ordinal)
            && !l.StartsWith("natsjs_server_api_", StringComparison.Ordinal) && !l.Contains("natsjs_server_api_", StringComparison.Ordinal)));
    }

    private static async Task<(PublishedSnapshot Http, PublishedSnapshot Sys)> BothAsync(Poller http, Poller sys)
    {
        var h = http.PollOnceAsync(default);
        var s = sys.PollOnceAsync(default);
        await Task.WhenAll(h, s);
        return (h.Result, s.Result);
    }

    [Fact]
    public async Task Both_sources_produce_the_same_metrics_healthy_and_with_a_frozen_replica()
    {
        await using var cluster = await NatsCluster.StartAsync();
        await using (var demo = await Demo.ConnectAsync(cluster))
        {
            await demo.CreateStreamAsync("ORDERS", replicas: 3);
            await demo.CreateConsumerAsync("ORDERS", "PROCESSOR");
            await demo.CreateStreamAsync("EVENTS", replicas: 1);
            await demo.PublishAsync("ORDERS", 20);
            await demo.PublishAsync("EVENTS", 3);
        }
        var timeout = TimeSpan.FromSeconds(2);
        // The system connection goes to the ORDERS leader, which is never the node frozen below
        // (a connection to a frozen node sees nothing until the client gives up on it).
        var streamLeader = await cluster.StreamLeaderAsync("ORDERS") ?? "n1";
        var http = new Poller(new HttpMonitorSource(HttpMonitorSource.CreateHttpClient(timeout),
            cluster.Nodes.Select(n => new Uri(n.MonitorUrl)).ToList(), timeout), new SnapshotStore(), NullLogger.Instance, TimeSpan.FromSeconds(5));
        await using var sysSource = new SystemAccountSource(Sys(cluster) with { Url = cluster[streamLeader].ClientUrl }, timeout);
        var sys = new Poller(sysSource, new SnapshotStore(), NullLogger.Instance, TimeSpan.FromSeconds(5));

        // Healthy: poll until every replica is current, then compare one poll of each.
        string a = "", b = "";
        var deadline = DateTime.UtcNow + Converge;
        while (DateTime.UtcNow < deadline)
        {
            // Both at once: the two polls see the cluster at nearly the same instant.
            var (h, s) = await BothAsync(http, sys);
            a = DataSeries(h);
            b = DataSeries(s);
            if (a == b && a.Contains("_peer_current{", StringComparison.Ordinal) && !Regex.IsMatch(a, "_peer_current\\{[^}]*\\} 0")) break;
            await Task.Delay(500);
        }
        Assert.Contains("natsjs_stream_messages{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\"} 20", a);
        Assert.Equal(a, b);

        // A frozen replica (not the ORDERS leader, not the meta leader): both report it the same way.
        var meta = await cluster.MetaLeaderAsync();
        var victim = cluster.Nodes.Select(n => n.Name).First(n => n != streamLeader && n != meta);
        cluster.Freeze(victim);
        try
        {
            deadline = DateTime.UtcNow + Converge;
            PublishedSnapshot hs = null!, ss = null!;
            while (DateTime.UtcNow < deadline)
            {
                (hs, ss) = await BothAsync(http, sys); // each waits out its timeout on the frozen node: side by side, once
                a = DataSeries(hs);
                b = DataSeries(ss);
                if (a == b && a.Contains($"natsjs_stream_peer_current{{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\",peer=\"{victim}\"}} 0")) break;
                await Task.Delay(500);
            }
            Assert.Contains($"natsjs_stream_peer_current{{cluster=\"c1\",account=\"APP\",stream=\"ORDERS\",peer=\"{victim}\"}} 0", a);
            Assert.Equal(a, b);
            Assert.False(hs.Snapshot.Targets.Single(t => t.Label == victim).Up);
            Assert.False(ss.Snapshot.Targets.Single(t => t.Label == victim).Up);
            Assert.Equal(3, ss.Snapshot.ServersExpected);
            Assert.Equal(2, ss.Snapshot.Targets.Count(t => t.Up));
        }
        finally
        {
            cluster.Resume(victim);
        }

        // One poll in each mode: time and bytes (for the closing note).
        var sw = Stopwatch.StartNew();
        await http.PollOnceAsync(default);
        var httpMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        await sys.PollOnceAsync(default);
        output.WriteLine($"one poll: HTTP {httpMs:0} ms, system account {sw.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task A_stopped_node_drops_servers_responded_to_two_and_the_others_stay()
    {
        await using var cluster = await NatsCluster.StartAsync();
        await using (var demo = await Demo.ConnectAsync(cluster))
            await demo.CreateStreamAsync("ORDERS", replicas: 3);
        await using var exporter = await ClusterScenarioTests.StartExporterAsync(cluster, "system");
        await exporter.WaitForAsync("3 servers responded", e => e.Value("natsjs_servers_responded") == 3 && e.Value("natsjs_servers_expected") == 3, Converge);

        var meta = await cluster.MetaLeaderAsync();
        var victim = cluster.Nodes.Select(n => n.Name).First(n => n != meta);
        cluster.Kill(victim);
        var m = await exporter.WaitForAsync("2 of 3 servers respond", e =>
            e.Value("natsjs_servers_responded") == 2 && e.Value("natsjs_up", L("server", victim)) == 0, Converge);
        Assert.Equal(3, m.Value("natsjs_servers_expected"));
        foreach (var n in cluster.Nodes.Where(n => n.Name != victim))
        {
            Assert.Equal(1, m.Value("natsjs_up", L("server", n.Name)));
            Assert.NotNull(m.Value("natsjs_server_streams", L("server", n.Name)));
        }
        Assert.Null(m.Value("natsjs_server_streams", L("server", victim)));
        Assert.NotEmpty(m.Find("natsjs_stream_info", L("stream", "ORDERS")));
    }

    [Theory]
    [InlineData("app", "app", "no responders on $SYS.REQ.SERVER.PING.JSZ: is user \"app\" in the system account?", "no_responders")]
    [InlineData("sys", "wrong-password", "refused the credentials (authorization violation)", "auth")]
    public async Task Wrong_credentials_give_one_clear_message_and_the_process_keeps_serving(string user, string password, string message, string reason)
    {
        await using var cluster = await NatsCluster.StartAsync();
        await using var exporter = await ExporterProcess.StartWithEnvironmentAsync(
            new Dictionary<string, string> { ["NATSJS_NATS_PASSWORD"] = password },
            "--nats-url", cluster.ClientUrls, "--nats-user", user, "--interval", "1s", "--timeout", "800ms");
        var m = await exporter.WaitForAsync($"an error with reason {reason}", e =>
            e.Find("natsjs_scrape_errors_total", L("reason", reason)).Any(s => s.Value >= 2), Converge);
        Assert.All(m.Find("natsjs_up"), s => Assert.Equal(0, s.Value));
        var log = string.Join("\n", exporter.Output);
        Assert.Contains(message, log);
        Assert.Single(exporter.Output, l => l.Contains(message, StringComparison.Ordinal)); // logged once, not every poll
        if (password != user)
        {
            // The secret is never logged nor exported.
            Assert.DoesNotContain(password, log);
            Assert.DoesNotContain(password, await exporter.MetricsTextAsync());
        }
        Assert.Equal(200, (int)(await new HttpClient().GetAsync(exporter.BaseUrl + "/healthz")).StatusCode);
    }

    [Fact]
    public async Task A_tls_server_signed_by_another_ca_gives_one_clear_message_and_the_right_ca_connects()
    {
        using var serverCerts = new NatsJsExporter.Tests.Support.TestCerts("server CA");
        using var otherCa = new NatsJsExporter.Tests.Support.TestCerts("some other CA");
        await using var cluster = await NatsCluster.StartAsync(size: 1, extraConfig: $$"""
            tls {
              cert_file: "{{serverCerts.CertFile}}"
              key_file: "{{serverCerts.KeyFile}}"
            }
            """);
        var url = $"tls://127.0.0.1:{cluster["n1"].ClientPort}";
        var env = new Dictionary<string, string> { ["NATSJS_NATS_PASSWORD"] = "sys" };

        await using (var wrong = await ExporterProcess.StartWithEnvironmentAsync(env,
            "--nats-url", url, "--nats-user", "sys", "--nats-tls-ca", otherCa.CaFile, "--interval", "1s", "--timeout", "800ms"))
        {
            await wrong.WaitForAsync("a tls error", e => e.Find("natsjs_scrape_errors_total", L("reason", "tls")).Any(s => s.Value >= 1), Converge);
            var line = Assert.Single(wrong.Output, l => l.Contains("TLS with NATS at " + url, StringComparison.Ordinal));
            Assert.Contains("--nats-tls-ca", line);
            Assert.Equal(200, (int)(await new HttpClient().GetAsync(wrong.BaseUrl + "/healthz")).StatusCode);
        }

        await using var right = await ExporterProcess.StartWithEnvironmentAsync(env,
            "--nats-url", url, "--nats-user", "sys", "--nats-tls-ca", serverCerts.CaFile, "--interval", "1s", "--timeout", "800ms");
        await right.WaitForAsync("n1 up over TLS", e => e.Value("natsjs_up", L("server", "n1")) == 1, Converge);
    }

    [Fact]
    public async Task The_server_restarted_under_the_exporter_resumes_without_restarting_the_exporter()
    {
        // One server, so the client has nowhere to fail over to (in a cluster it moves to another
        // node by itself) and the restart really drops the exporter's connection.
        await using var cluster = await NatsCluster.StartAsync(size: 1);
        await using (var demo = await Demo.ConnectAsync(cluster))
            await demo.CreateStreamAsync("ORDERS", replicas: 1);
        await using var exporter = await ClusterScenarioTests.StartExporterAsync(cluster, "system");
        await exporter.WaitForAsync("n1 up", e => e.Value("natsjs_up", L("server", "n1")) == 1, Converge);

        cluster.Kill("n1");
        await exporter.WaitForAsync("the gap shows", e => e.Value("natsjs_up", L("server", "n1")) == 0
            && e.Find("natsjs_scrape_errors_total", L("server", "n1"), L("reason", "nats_connection")).Any(s => s.Value >= 1), Converge);
        Assert.Equal(200, (int)(await new HttpClient().GetAsync(exporter.BaseUrl + "/healthz")).StatusCode);
        cluster.Restart("n1");
        await exporter.WaitForAsync("n1 up again with its stream", e => e.Value("natsjs_up", L("server", "n1")) == 1
            && e.Find("natsjs_stream_info", L("stream", "ORDERS")).Any(), TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Account_lists_longer_than_a_page_are_paged_per_server()
    {
        await using var cluster = await NatsCluster.StartAsync();
        await using (var app = await Demo.ConnectAsync(cluster))
            await app.CreateStreamAsync("ORDERS", replicas: 3);
        await using (var ops = await Demo.ConnectAsync(cluster, user: "ops"))
            await ops.CreateStreamAsync("AUDITLOG", replicas: 1);
        await using var exporter = await ExporterProcess.StartWithEnvironmentAsync(
            new Dictionary<string, string> { ["NATSJS_NATS_PASSWORD"] = "sys" },
            "--nats-url", cluster.ClientUrls, "--nats-user", "sys", "--interval", "2s", "--timeout", "1500ms", "--account-page-size", "1");
        var m = await exporter.WaitForAsync("streams of both accounts", e =>
            e.Find("natsjs_stream_info", L("account", "APP"), L("stream", "ORDERS")).Any()
            && e.Find("natsjs_stream_info", L("account", "OPS"), L("stream", "AUDITLOG")).Any(), Converge);
        Assert.NotNull(m.Value("natsjs_account_streams", L("account", "OPS")));
        Assert.NotNull(m.Value("natsjs_account_streams", L("account", "APP")));
    }
}
