using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using NatsJsExporter.Hosting;
using NatsJsExporter.IntegrationTests.Infrastructure;
using NatsJsExporter.Options;
using NatsJsExporter.Sources;
using Microsoft.Extensions.Logging;
using NatsJsExporter.Views;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// Each server's own /healthz beside /jsz on real clusters, in both modes: what a survivor's health
/// check says once the nodes around it are killed (2.15.1), and that 2.9.10/2.10.27 answer without
/// a single error counted.
/// </summary>
[Collection("real processes")]
public sealed class HealthzTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private sealed class ListLogger : ILogger
    {
        private readonly List<(LogLevel Level, string Message)> _lines = [];
        public IReadOnlyList<(LogLevel Level, string Message)> Lines { get { lock (_lines) return [.. _lines]; } }
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines) _lines.Add((logLevel, formatter(state, exception)));
        }
    }

    private static (Poller Http, Poller Sys, SystemAccountSource SysSource, ListLogger Log) Pollers(NatsCluster cluster, string sysNode)
    {
        var log = new ListLogger();
        var http = new Poller(new HttpMonitorSource(HttpMonitorSource.CreateHttpClient(Timeout),
            cluster.Nodes.Select(n => new Uri(n.MonitorUrl)).ToList(), Timeout), new SnapshotStore(), log, TimeSpan.FromSeconds(5));
        var sysSource = new SystemAccountSource(new SystemAccountOptions { Url = cluster[sysNode].ClientUrl, User = "sys", Password = "sys" }, Timeout);
        return (http, new Poller(sysSource, new SnapshotStore(), log, TimeSpan.FromSeconds(5)), sysSource, log);
    }

    private static string Text(PublishedSnapshot p) => Encoding.UTF8.GetString(p.Text());

    private static void AssertNoScrapeErrors(string metrics, string server)
    {
        Assert.Contains($"natsjs_up{{server=\"{server}\"}} 1", metrics);
        foreach (Match m in Regex.Matches(metrics, $"^natsjs_scrape_errors_total\\{{server=\"{server}\",reason=\"[^\"]+\"\\}} ([0-9]+)$", RegexOptions.Multiline))
            Assert.True(m.Groups[1].Value == "0", $"scrape error counted: {m.Value}");
    }

    /// <summary>Polls both modes until <paramref name="done"/> holds for both (or the deadline).</summary>
    private static async Task<(PublishedSnapshot Http, PublishedSnapshot Sys)> UntilAsync(Poller http, Poller sys, Func<string, bool> done, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        PublishedSnapshot h, s;
        do
        {
            h = await http.PollOnceAsync(default);
            s = await sys.PollOnceAsync(default);
            if (done(Text(h)) && done(Text(s))) break;
            await Task.Delay(300);
        } while (DateTime.UtcNow < deadline);
        return (h, s);
    }

    [Fact]
    public async Task Killed_nodes_show_in_the_survivors_own_health_check_in_both_modes()
    {
        await using var cluster = await NatsCluster.StartAsync(3, NatsVersions.Binary("2.15.1"));
        await using (var demo = await Demo.ConnectAsync(cluster))
        {
            await demo.CreateStreamAsync("ORDERS", replicas: 3);
            await demo.CreateConsumerAsync("ORDERS", "PROCESSOR");
            await demo.PublishAsync("ORDERS", 50);
        }
        var meta = await cluster.MetaLeaderAsync() ?? "n1";
        var survivor = cluster.Nodes.Select(n => n.Name).First(n => n != meta);
        var (http, sys, sysSource, log) = Pollers(cluster, survivor);
        await using var _ = sysSource;

        // Healthy: every server's own check says ok, in both modes.
        var (h0, s0) = await UntilAsync(http, sys, m => Regex.Matches(m, "^natsjs_server_healthy\\{[^}]*\\} 1$", RegexOptions.Multiline).Count == 3,
            TimeSpan.FromSeconds(30));
        foreach (var m in new[] { Text(h0), Text(s0) })
        {
            Assert.Equal(3, Regex.Matches(m, "^natsjs_server_healthy\\{[^}]*\\} 1$", RegexOptions.Multiline).Count);
            Assert.DoesNotContain("natsjs_healthz_unhealthy{", m);
        }

        // Poll cost: what one healthy server answers, per mode.
        using (var client = new HttpClient())
        {
            var body = await client.GetByteArrayAsync(cluster[survivor].MonitorUrl + "/healthz?details=true");
            var sw = Stopwatch.StartNew();
            await http.PollOnceAsync(default);
            var httpMs = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            await sys.PollOnceAsync(default);
            output.WriteLine($"healthy /healthz?details=true answer: {body.Length} bytes; one poll: HTTP {httpMs:0} ms, system account {sw.Elapsed.TotalMilliseconds:0} ms");
        }

        // Kill the meta leader and the other node: the survivor has no meta leader and no quorum,
        // and its own health check says so (details: a jetstream-kind check), while it still answers /jsz.
        foreach (var victim in cluster.Nodes.Select(n => n.Name).Where(n => n != survivor).ToList()) cluster.Kill(victim);
        string Unhealthy(string kind) => $"natsjs_healthz_unhealthy{{server=\"{survivor}\",cluster=\"c1\",kind=\"{kind}\"";
        var (h1, s1) = await UntilAsync(http, sys, m => m.Contains(Unhealthy("jetstream"), StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        foreach (var (mode, p) in new[] { ("HTTP", h1), ("system account", s1) })
        {
            var m = Text(p);
            output.WriteLine($"{mode}: " + string.Join(" | ", m.Split('\n').Where(l => l.StartsWith("natsjs_healthz_unhealthy{") || l.StartsWith("natsjs_server_healthy{"))));
            Assert.Contains($"natsjs_server_healthy{{server=\"{survivor}\",cluster=\"c1\"}} 0", m);
            Assert.Contains(Unhealthy("jetstream"), m);
            AssertNoScrapeErrors(m, survivor);
            var health = HealthCheck.Evaluate(p.Snapshot, p.Snapshot.CollectedAt);
            var problem = Assert.Single(health.Problems, x => x.Kind == ProblemKind.HealthzError && x.Server == survivor && x.Stream is null);
            Assert.Contains("meta leader", problem.Message);
            Assert.Contains(problem.Message, StatusPage.Render(p.Snapshot, health, p.Snapshot.CollectedAt, "test", "n0nce").Replace("&#39;", "'"));
        }
        Assert.DoesNotContain(log.Lines, l => l.Message.Contains("healthz", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("2.9.10")]
    [InlineData("2.10.27")]
    public async Task Older_servers_answer_healthz_without_an_error_counted(string version)
    {
        var sw = Stopwatch.StartNew();
        await using var cluster = await NatsCluster.StartAsync(3, NatsVersions.Binary(version));
        output.WriteLine($"cluster up in {sw.Elapsed.TotalSeconds:0.0} s");
        var (http, sys, sysSource, log) = Pollers(cluster, "n1");
        await using var _ = sysSource;
        sw.Restart();
        var (h, s) = await UntilAsync(http, sys, m => Regex.Matches(m, "^natsjs_server_healthy\\{[^}]*\\} 1$", RegexOptions.Multiline).Count == 3,
            TimeSpan.FromSeconds(30));
        output.WriteLine($"every server healthy in both modes after {sw.Elapsed.TotalSeconds:0.0} s");
        foreach (var p in new[] { h, s })
        {
            var m = Text(p);
            Assert.Equal(3, Regex.Matches(m, "^natsjs_server_healthy\\{[^}]*\\} 1$", RegexOptions.Multiline).Count);
            foreach (var n in cluster.Nodes) AssertNoScrapeErrors(m, n.Name);
            Assert.All(p.Snapshot.Healthz!, v => Assert.Null(v.FetchError));
        }
        Assert.DoesNotContain(log.Lines, l => l.Level >= LogLevel.Warning);
    }
}
