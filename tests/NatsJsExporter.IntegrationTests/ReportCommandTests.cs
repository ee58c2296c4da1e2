using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NatsJsExporter.IntegrationTests.Infrastructure;
using NATS.Client.JetStream.Models;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// `natsjs-exporter report` (the real binary, its own process) against a real 3-node cluster:
/// the tables match the snapshot it prints with --json, and the exit code follows the problems.
/// </summary>
[Collection("real processes")]
public sealed class ReportCommandTests(ITestOutputHelper output)
{
    private sealed record Run(int Code, string Out, string Err, TimeSpan Took);

    private static Task<Run> ReportAsync(NatsCluster cluster, params string[] args) => ReportAsync(cluster.MonitorUrls, args);

    private static async Task<Run> ReportAsync(string monitorUrls, string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(ExporterProcess.DllPath);
        psi.ArgumentList.Add("report");
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var a in new[] { "--monitor-urls", monitorUrls, "--timeout", "1s" }) psi.ArgumentList.Add(a);
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("NATSJS_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("report did not finish within 60 s");
        }
        return new Run(p.ExitCode, await stdout, await stderr, sw.Elapsed);
    }

    /// <summary>Runs `report --json` until the condition holds (the cluster converges in seconds).</summary>
    private async Task<(Run Run, JsonElement Doc)> WaitForAsync(NatsCluster cluster, string what, Func<Run, JsonElement, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        Run? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await ReportAsync(cluster, "--json");
            if (last.Out.TrimStart().StartsWith('{'))
            {
                var doc = JsonDocument.Parse(last.Out).RootElement.Clone();
                if (condition(last, doc))
                {
                    output.WriteLine($"{what}: exit {last.Code} (report took {last.Took.TotalSeconds:0.0}s)");
                    return (last, doc);
                }
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"within {timeout.TotalSeconds:0}s: {what}\nlast exit {last?.Code}\n{last?.Out}\n{last?.Err}");
    }

    private static bool HasProblem(JsonElement doc, string kind, string? peer = null, string? stream = null) =>
        doc.GetProperty("problems").EnumerateArray().Any(p => p.GetProperty("kind").GetString() == kind
            && (peer is null || p.GetProperty("peer").GetString() == peer)
            && (stream is null || p.GetProperty("stream").GetString() == stream));

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Report_tables_match_the_snapshot_and_exit_codes_are_0_healthy_1_outdated_replica_2_no_meta_leader()
    {
        await using var cluster = await NatsCluster.StartAsync();
        await using var demo = await Demo.ConnectAsync(cluster);
        await demo.CreateStreamAsync("ORDERS", replicas: 3);
        await demo.CreateConsumerAsync("ORDERS", "PROCESSOR");
        await demo.CreateStreamAsync("EVENTS", replicas: 1, StreamConfigStorage.Memory);
        await demo.PublishAsync("ORDERS", 25);
        await demo.PublishAsync("EVENTS", 5);

        // Healthy: exit 0, and the text tables hold the numbers of the JSON snapshot. Two runs are
        // two polls: right after creation a replica may still be catching up, so retry the pair.
        var settle = DateTime.UtcNow.AddSeconds(60);
        JsonElement doc;
        Run text;
        while (true)
        {
            (_, doc) = await WaitForAsync(cluster, "healthy", (r, d) => r.Code == 0
                && d.GetProperty("streams").EnumerateArray().Any(s => s.GetProperty("name").GetString() == "ORDERS" && s.GetProperty("messages").GetInt64() == 25),
                TimeSpan.FromSeconds(60));
            text = await ReportAsync(cluster);
            if (text.Code == 0 || DateTime.UtcNow > settle) break;
            output.WriteLine("text report not healthy yet: " + text.Out.Split('\n')[0]);
        }
        Assert.Equal("healthy", doc.GetProperty("status").GetString());
        Assert.Empty(doc.GetProperty("problems").EnumerateArray());
        Assert.True(text.Code == 0, text.Out + text.Err);
        output.WriteLine(text.Out);
        var lines = text.Out.Split('\n');
        Assert.StartsWith("OK: all healthy; 3/3 servers answered, 2 streams, 1 consumer", lines[0]);
        foreach (var server in doc.GetProperty("servers").EnumerateArray())
        {
            string name = server.GetProperty("name").GetString()! + (server.GetProperty("is_meta_leader").GetBoolean() ? "*" : "");
            var row = Row(lines, "JetStream Summary", name);
            Assert.Equal(Count(server.GetProperty("streams").GetInt64()), row[2]);
            Assert.Equal(Count(server.GetProperty("consumers").GetInt64()), row[3]);
            Assert.Equal(Count(server.GetProperty("messages").GetInt64()), row[4]);
            Assert.Equal(Count(server.GetProperty("api_errors").GetInt64()), row[9]);
        }
        foreach (var stream in doc.GetProperty("streams").EnumerateArray())
        {
            var row = Row(lines, "Stream Report", stream.GetProperty("account").GetString()!, stream.GetProperty("name").GetString()!);
            Assert.Equal(Count(stream.GetProperty("consumer_count").GetInt64()), row[2]);
            Assert.Equal(Count(stream.GetProperty("messages").GetInt64()), row[3]);
            Assert.Equal(stream.GetProperty("storage").GetString() == "file" ? "File" : "Memory", row[5]);
            Assert.Equal(string.Join(", ", stream.GetProperty("peers").EnumerateArray().Select(p =>
                p.GetProperty("name").GetString() + (p.GetProperty("is_leader").GetBoolean() ? "*" : ""))), row[9]);
        }
        var metaLeader = doc.GetProperty("meta_groups")[0].GetProperty("leader").GetString()!;
        Assert.Equal(["yes", "true", "true"], Row(lines, "RAFT Meta Group", metaLeader)[1..4]);
        var onlyMeta = await ReportAsync(cluster, "meta");
        Assert.Contains("RAFT Meta Group Information", onlyMeta.Out);
        Assert.DoesNotContain("Stream Report", onlyMeta.Out);

        // A frozen replica while publishing: outdated, a warning, exit 1.
        var streamLeader = await cluster.StreamLeaderAsync("ORDERS");
        var victim = cluster.Nodes.Select(n => n.Name).First(n => n != streamLeader && n != metaLeader);
        // Publish through the stream leader: a client connected to the frozen server would stall.
        await using var publisherClient = await Demo.ConnectAsync(cluster, streamLeader);
        using var publishing = new CancellationTokenSource();
        var publisher = publisherClient.PublishUntilAsync("ORDERS", publishing.Token);
        cluster.Freeze(victim);
        try
        {
            var (outdated, warnDoc) = await WaitForAsync(cluster, $"{victim} outdated", (r, d) => HasProblem(d, "replica_outdated", victim, "ORDERS"), TimeSpan.FromSeconds(60));
            Assert.Equal(1, outdated.Code);
            Assert.Equal("warning", warnDoc.GetProperty("status").GetString());
            Assert.True(HasProblem(warnDoc, "target_down", cluster[victim].MonitorUrl)); // a one-shot poll never learns a frozen server's name
            var warnText = await ReportAsync(cluster, "streams");
            Assert.Equal(1, warnText.Code);
            Assert.StartsWith("WARNING: ", warnText.Out);
            Assert.Contains($"stream APP > ORDERS: replica {victim} is outdated", warnText.Out);
            Assert.Contains($"{victim}!", Row(warnText.Out.Split('\n'), "Stream Report", "APP", "ORDERS")[9]);
        }
        finally
        {
            publishing.Cancel();
            await publisher;
        }

        // Two of three servers gone (the meta leader and the frozen one): no quorum, no meta leader, exit 2.
        cluster.Kill(metaLeader);
        cluster.Kill(victim);
        var (critical, critDoc) = await WaitForAsync(cluster, "meta leader missing", (r, d) => HasProblem(d, "meta_leader_missing"), TimeSpan.FromSeconds(60));
        Assert.Equal(2, critical.Code);
        Assert.Equal("critical", critDoc.GetProperty("status").GetString());
        Assert.Equal("critical", critDoc.GetProperty("problems")[0].GetProperty("severity").GetString());
        var critText = await ReportAsync(cluster, "meta");
        Assert.Equal(2, critText.Code);
        Assert.StartsWith("CRITICAL: ", critText.Out);
        Assert.Contains("RAFT Meta Group Information: NO LEADER", critText.Out);
    }

    [Fact]
    public async Task One_monitor_url_of_three_warns_that_two_servers_were_never_polled()
    {
        await using var cluster = await NatsCluster.StartAsync();
        var oneUrl = cluster.Nodes[0].MonitorUrl;
        // The meta group reports its cluster_size (3) from the first poll on: one poll is enough.
        var run = await ReportAsync(oneUrl, []);
        output.WriteLine(run.Out + run.Err);
        Assert.Equal(1, run.Code);
        var first = run.Out.Split('\n')[0];
        Assert.StartsWith("WARNING: 1 warning; 1/3 servers answered", first);
        Assert.Contains("the meta group counts 3 servers but only 1 monitor URL is polled: 2 servers were never polled", run.Out);

        var all = await ReportAsync(cluster, "jetstream");
        Assert.Contains("/3 servers answered", all.Out.Split('\n')[0]);
        Assert.DoesNotContain("never polled", all.Out);
    }

    [Fact]
    public async Task A_client_port_given_as_monitor_url_is_named_as_such_in_the_report_text()
    {
        await using var cluster = await NatsCluster.StartAsync();
        var clientPort = $"http://127.0.0.1:{cluster.Nodes[0].ClientPort}";
        var urls = string.Join(",", new[] { clientPort }.Concat(cluster.Nodes.Skip(1).Select(n => n.MonitorUrl)));
        var run = await ReportAsync(urls, []);
        output.WriteLine(run.Out + run.Err);
        Assert.NotEqual(0, run.Code);
        // The text (not only --json) says why that server is down, in words an operator can act on.
        Assert.Contains("NATS client port", run.Out);
        Assert.Contains("not the monitor port", run.Out);
        var json = await ReportAsync(urls, ["--json"]);
        var target = JsonDocument.Parse(json.Out).RootElement.GetProperty("targets").EnumerateArray()
            .Single(t => t.GetProperty("up").GetBoolean() == false);
        Assert.Contains(target.GetProperty("errors_by_reason").EnumerateArray(),
            r => r.GetProperty("key").GetString() == "client_port" && r.GetProperty("value").GetInt64() >= 1);
    }

    /// <summary>Cells of the first row after the table titled <paramref name="table"/> whose leading cells are <paramref name="keys"/>.</summary>
    private static string[] Row(string[] lines, string table, params string[] keys)
    {
        int start = Array.FindIndex(lines, l => l.Contains(table, StringComparison.Ordinal));
        Assert.True(start >= 0, $"no table {table}");
        foreach (var line in lines.Skip(start + 1))
        {
            var cells = line.Split('│', '|').Select(c => c.Trim()).ToArray();
            if (cells.Length < keys.Length + 2) continue;
            var body = cells[1..^1];
            if (keys.Select((k, i) => body[i] == k).All(b => b)) return body;
        }
        throw new Xunit.Sdk.XunitException($"no row {string.Join("/", keys)} in {table}:\n{string.Join("\n", lines)}");
    }
}
