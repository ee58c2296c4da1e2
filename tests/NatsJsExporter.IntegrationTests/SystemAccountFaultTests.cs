using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NatsJsExporter.Hosting;
using NatsJsExporter.IntegrationTests.Infrastructure;
using NatsJsExporter.Options;
using NatsJsExporter.Sources;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// System-account faults on a real nats-server: a second system user subscribes to
/// $SYS.REQ.SERVER.PING.JSZ beside the server's own responder and injects extra replies (a
/// server answering twice, an error envelope, a reply that is not JSON); the connection is cut
/// in the middle of a collection. The real server's answer is always kept intact.
/// </summary>
[Collection("real processes")]
public sealed class SystemAccountFaultTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    private static SystemAccountOptions Sys(NatsCluster cluster) => new() { Url = cluster.ClientUrls, User = "sys", Password = "sys" };

    /// <summary>Answers every ping with the given payloads, as another responder would.</summary>
    private static async Task<(NatsConnection Nats, Task Loop, CancellationTokenSource Stop)> InjectAsync(NatsCluster cluster, Func<byte[][]> replies,
        Action? onRequest = null)
    {
        var nats = new NatsConnection(new NatsOpts { Url = cluster.ClientUrls, AuthOpts = new NatsAuthOpts { Username = "sys", Password = "sys" }, Name = "injector" });
        await nats.ConnectAsync();
        var stop = new CancellationTokenSource();
        var ready = new TaskCompletionSource();
        var loop = Task.Run(async () =>
        {
            await using var sub = await nats.SubscribeCoreAsync<byte[]>(SystemAccountSource.PingSubject, cancellationToken: stop.Token);
            ready.SetResult();
            await foreach (var msg in sub.Msgs.ReadAllAsync(stop.Token))
            {
                onRequest?.Invoke();
                if (msg.ReplyTo is null) continue;
                foreach (var r in replies())
                    await nats.PublishAsync(msg.ReplyTo, r, serializer: NatsRawSerializer<byte[]>.Default);
            }
        });
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await nats.PingAsync(); // the subscription is registered on the server
        return (nats, loop, stop);
    }

    private static async Task StopAsync((NatsConnection Nats, Task Loop, CancellationTokenSource Stop) injector)
    {
        await injector.Stop.CancelAsync();
        try { await injector.Loop; } catch (OperationCanceledException) { }
        await injector.Nats.DisposeAsync();
    }

    private static async Task<(IReadOnlyList<ServerReport> Reports, string Metrics, List<(LogLevel Level, string Message)> Log)> PollAsync(SystemAccountSource source)
    {
        var log = new ListLog();
        var published = await new Poller(source, new SnapshotStore(), log, TimeSpan.FromSeconds(5)).PollOnceAsync(default);
        var reports = await source.CollectAsync(default);
        return (reports, Encoding.UTF8.GetString(published.Text()), log.Lines);
    }

    private sealed class ListLog : ILogger
    {
        public List<(LogLevel Level, string Message)> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines) Lines.Add((logLevel, formatter(state, exception)));
        }
    }

    [Fact]
    public async Task A_server_answering_twice_counts_once()
    {
        await using var cluster = await NatsCluster.StartAsync(size: 1);
        // A second answer in n1's name: an envelope with a different, empty /jsz.
        var twin = Encoding.UTF8.GetBytes("""{"server":{"name":"n1","id":"TWIN","cluster":"","ver":"2.9.10"},"data":{"server_id":"TWIN","streams":0}}""");
        var injector = await InjectAsync(cluster, () => [twin, twin]);
        try
        {
            await using var source = new SystemAccountSource(Sys(cluster), Timeout);
            var (reports, metrics, _) = await PollAsync(source);
            var n1 = Assert.Single(reports);
            Assert.Equal("n1", n1.Target);
            Assert.True(n1.Succeeded, n1.ErrorMessage);
            Assert.Single(metrics.Split('\n'), l => l.StartsWith("natsjs_up{server=\"n1\"}", StringComparison.Ordinal));
        }
        finally
        {
            await StopAsync(injector);
        }
    }

    [Fact]
    public async Task An_error_envelope_marks_that_server_down_with_its_code_and_keeps_the_others()
    {
        await using var cluster = await NatsCluster.StartAsync(size: 1);
        var error = Encoding.UTF8.GetBytes("""{"server":{"name":"ghost","id":"GHOST","cluster":"c9","ver":"2.12.0"},"error":{"code":500,"description":"jsz: account not found"}}""");
        var injector = await InjectAsync(cluster, () => [error]);
        try
        {
            await using var source = new SystemAccountSource(Sys(cluster), Timeout);
            var (_, metrics, log) = await PollAsync(source);
            Assert.Contains("natsjs_up{server=\"n1\"} 1", metrics);
            Assert.Contains("natsjs_up{server=\"ghost\"} 0", metrics);
            Assert.Contains("natsjs_scrape_errors_total{server=\"ghost\",reason=\"server_error_500\"} 1", metrics);
            var line = Assert.Single(log, l => l.Level == LogLevel.Warning).Message;
            Assert.Contains("server ghost answered with error 500: jsz: account not found", line);
        }
        finally
        {
            await StopAsync(injector);
        }
    }

    [Fact]
    public async Task A_reply_that_is_not_json_is_counted_against_the_connection_and_keeps_the_others()
    {
        await using var cluster = await NatsCluster.StartAsync(size: 1);
        var injector = await InjectAsync(cluster, () => ["<html>not json</html>"u8.ToArray(), [0x1f, 0x8b, 0x00, 0xff]]);
        try
        {
            await using var source = new SystemAccountSource(Sys(cluster), Timeout);
            var (_, metrics, log) = await PollAsync(source);
            Assert.Contains("natsjs_up{server=\"n1\"} 1", metrics);
            var label = Sys(cluster).SafeUrl;
            Assert.Contains($"natsjs_scrape_errors_total{{server=\"{label}\",reason=\"invalid_json\"}} 1", metrics);
            Assert.Contains(log, l => l.Level == LogLevel.Warning && l.Message.Contains("is not valid JSON", StringComparison.Ordinal));
        }
        finally
        {
            await StopAsync(injector);
        }
    }

    [Fact]
    public async Task The_connection_dropping_mid_collection_ends_the_poll_in_time_and_recovers()
    {
        await using var cluster = await NatsCluster.StartAsync(size: 1);
        await using var source = new SystemAccountSource(Sys(cluster) with { ExpectedServers = 2 }, Timeout); // waits for a second answer that never comes
        var first = await source.CollectAsync(default);
        Assert.True(Assert.Single(first).Succeeded);

        // The server dies while the exporter is waiting for the rest of the answers.
        var collect = Task.Run(() => source.CollectAsync(default));
        await Task.Delay(700);
        cluster.Kill("n1");
        var sw = Stopwatch.StartNew();
        var during = await collect.WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"collection ended {sw.ElapsedMilliseconds} ms after the kill: {string.Join("; ", during.Select(r => $"{r.Target} {r.ErrorReason ?? "ok"}"))}");
        Assert.True(sw.Elapsed < Timeout + TimeSpan.FromSeconds(10));

        var gap = await source.CollectAsync(default);
        var down = Assert.Single(gap, r => r.Target == "n1");
        Assert.False(down.Succeeded);
        Assert.Contains(down.ErrorReason, new[] { "nats_connection", "timeout" });

        cluster.Restart("n1");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        IReadOnlyList<ServerReport> after;
        do
        {
            await Task.Delay(500);
            after = await source.CollectAsync(default);
        }
        while (!after.Any(r => r.Target == "n1" && r.Succeeded) && DateTime.UtcNow < deadline);
        Assert.Contains(after, r => r.Target == "n1" && r.Succeeded);
    }
}
