using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using NatsJsExporter.IntegrationTests.Infrastructure;
using NATS.Client.JetStream.Models;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// The status page in a real browser (Debian's headless Chromium via Playwright) against a real
/// 3-node cluster and the real exporter process: what the on-call engineer sees when a replica freezes.
/// </summary>
[Collection("real processes")]
public sealed class StatusPageBrowserTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(45);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private static (string, string) L(string label, string value) => (label, value);

    [Fact]
    public async Task The_page_names_a_frozen_replica_first_holds_the_snapshot_numbers_and_filters_streams()
    {
        var total = Stopwatch.StartNew();
        await using var cluster = await NatsCluster.StartAsync();
        await using var demo = await Demo.ConnectAsync(cluster);
        await demo.CreateStreamAsync("ORDERS", replicas: 3);
        await demo.CreateConsumerAsync("ORDERS", "PROCESSOR");
        await demo.CreateStreamAsync("PAYMENTS", replicas: 3);
        // R3 so that freezing any one node leaves every stream reachable (an R1 stream on the frozen node would
        // rightly be leaderless, a critical problem, and this test checks the warning for an outdated replica).
        await demo.CreateStreamAsync("EVENTS", replicas: 3, StreamConfigStorage.Memory);
        await demo.PublishAsync("ORDERS", 25);
        await demo.PublishAsync("PAYMENTS", 7);
        await demo.PublishAsync("EVENTS", 5);
        await using var exporter = await ExporterProcess.StartAsync("--monitor-urls", cluster.MonitorUrls, "--interval", "1s", "--timeout", "800ms");
        await exporter.WaitForAsync("ORDERS has 25 messages and 3 current peers", e =>
            e.Value("natsjs_stream_messages", L("stream", "ORDERS")) == 25
            && e.Find("natsjs_stream_peer_current", L("stream", "ORDERS")).Count(s => s.Value == 1) == 3
            && e.Find("natsjs_stream_peer_current", L("stream", "PAYMENTS")).Count(s => s.Value == 1) == 3, Converge);

        var (playwright, browser) = await Chromium.LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        page.SetDefaultTimeout(60_000);
        var shots = Chromium.ScreenshotDir;
        output.WriteLine($"screenshots: {shots}");

        // Healthy: a clear "all healthy", and the tables hold what /api/v1/snapshot says.
        await page.GotoAsync(exporter.BaseUrl + "/");
        await Expect(page.Locator("#problems h2")).ToContainTextAsync("All healthy", new() { Timeout = 45_000 });
        using (var doc = JsonDocument.Parse(await Http.GetStringAsync(exporter.BaseUrl + "/api/v1/snapshot")))
        {
            var root = doc.RootElement;
            Assert.Equal("healthy", root.GetProperty("status").GetString());
            foreach (var server in root.GetProperty("servers").EnumerateArray())
            {
                string name = server.GetProperty("name").GetString()!;
                string shown = name + (server.GetProperty("is_meta_leader").GetBoolean() ? "*" : "");
                var cells = await RowCellsAsync(page, "#jetstream-table", shown);
                Assert.Equal(Count(server.GetProperty("streams").GetInt64()), cells[2]);
                Assert.Equal(Count(server.GetProperty("consumers").GetInt64()), cells[3]);
                Assert.Equal(Count(server.GetProperty("messages").GetInt64()), cells[4]);
            }
            // Every stream on all three servers: 25 + 7 + 5 messages on three replicas each.
            var totals = await page.Locator("#jetstream-table tfoot td").AllInnerTextsAsync();
            Assert.Equal("9", totals[2]);
            Assert.Equal("3", totals[3]);
            Assert.Equal(Count(3 * 25 + 3 * 7 + 3 * 5), totals[4]);

            var orders = root.GetProperty("streams").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "ORDERS");
            var ordersRow = await RowCellsAsync(page, "#streams-table", "ORDERS", column: 1);
            Assert.Equal(["APP", "ORDERS", "1", "25"], ordersRow.Take(4));
            Assert.Equal("File", ordersRow[5]);
            Assert.Equal("3", ordersRow[8]);
            Assert.Equal(string.Join(", ", orders.GetProperty("peers").EnumerateArray().Select(p =>
                p.GetProperty("name").GetString() + (p.GetProperty("is_leader").GetBoolean() ? "*" : ""))), ordersRow[9]);
            Assert.Equal("Memory", (await RowCellsAsync(page, "#streams-table", "EVENTS", column: 1))[5]);

            var metaLeader = root.GetProperty("meta_groups")[0].GetProperty("leader").GetString()!;
            Assert.Equal(["yes", "true", "true"], (await RowCellsAsync(page, "#meta-table", metaLeader)).Skip(1).Take(3));
        }
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "status-healthy.png"), FullPage = true });

        // Freeze a follower that leads neither ORDERS nor the meta group, while publishing.
        var streamLeader = await cluster.StreamLeaderAsync("ORDERS");
        var metaLeaderNow = await cluster.MetaLeaderAsync();
        var victim = cluster.Nodes.Select(n => n.Name).First(n => n != streamLeader && n != metaLeaderNow);
        output.WriteLine($"ORDERS leader {streamLeader}, meta leader {metaLeaderNow}, freezing {victim}");
        // Publish through the stream leader: a client connected to the frozen server would stall.
        await using var publisherClient = await Demo.ConnectAsync(cluster, streamLeader);
        using var publishing = new CancellationTokenSource();
        var publisher = publisherClient.PublishUntilAsync("ORDERS", publishing.Token);
        cluster.Freeze(victim);
        try
        {
            // The page refreshes itself: no reload here.
            var problem = page.Locator($"#problems li[data-kind=\"replica_outdated\"][data-stream=\"ORDERS\"][data-server=\"{victim}\"]");
            await problem.WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
            await Expect(problem).ToContainTextAsync($"stream APP > ORDERS: replica {victim} is outdated");
            // Streams the frozen node led are leaderless (critical) until re-elected; then only the outdated replica remains.
            await Expect(page.Locator("#problems")).ToHaveClassAsync("box warning", new LocatorAssertionsToHaveClassOptions { Timeout = 30_000 });
            await Expect(page.Locator($"#problems li[data-kind=\"target_down\"][data-server=\"{victim}\"]")).ToHaveCountAsync(1);
            // Problems come before the tables.
            var order = await page.EvaluateAsync<string[]>("() => Array.from(document.querySelectorAll('section')).map(s => s.id)");
            Assert.Equal(["problems", "jetstream", "meta", "meta-state", "healthz", "streams"], order);
            // The placement marks the leader and the frozen replica.
            await Expect(page.Locator("#streams-table tr[data-stream=\"ORDERS\"] td").Nth(9)).ToContainTextAsync($"{victim}!", new() { Timeout = 30_000 });
            await Expect(page.Locator("#streams-table tr[data-stream=\"ORDERS\"] td").Nth(9)).ToContainTextAsync($"{streamLeader}*");
            Assert.Equal("down", (await RowCellsAsync(page, "#jetstream-table", victim))[2]);
            await Expect(page.Locator("#problems li[data-kind=\"replica_outdated\"]").First).ToContainTextAsync("operations behind", new() { Timeout = 30_000 });
            var shot = Path.Combine(shots, "status-frozen-replica.png");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
            if (Environment.GetEnvironmentVariable("NATSJS_UPDATE_SCREENSHOT") == "1")
                File.Copy(shot, Path.Combine(Chromium.RepoRoot, "docs", "status-page.png"), overwrite: true);

            // The filter: typed text hides the other rows and survives the page's own refresh.
            await page.Locator("#filter").FillAsync("EVE");
            var visible = page.Locator("#streams-table tbody tr:not([hidden])");
            await Expect(visible).ToHaveCountAsync(1);
            await Expect(visible.First).ToHaveAttributeAsync("data-stream", "EVENTS");
            await Expect(page.Locator("#filter-count")).ToHaveTextAsync("1 of 3 shown");
            await page.WaitForURLAsync("**#q=EVE", new PageWaitForURLOptions { Timeout = 10_000 });
            await page.WaitForLoadStateAsync(LoadState.Load);
            await Task.Delay(3_000); // at least one self-refresh (every 2 s at a 1 s poll interval)
            await Expect(page.Locator("#filter")).ToHaveValueAsync("EVE");
            await Expect(page.Locator("#streams-table tbody tr:not([hidden])")).ToHaveCountAsync(1);
            await page.Locator("#filter").FillAsync(victim); // the placement column is searchable too: every stream has a replica there
            await Expect(page.Locator("#streams-table tbody tr:not([hidden])")).ToHaveCountAsync(3);
            await page.Locator("#filter").FillAsync("ORDERS");
            await Expect(page.Locator("#streams-table tbody tr:not([hidden])")).ToHaveCountAsync(1);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "status-filtered.png"), FullPage = true });
            await page.Locator("#filter").FillAsync("");
            await Expect(page.Locator("#streams-table tbody tr:not([hidden])")).ToHaveCountAsync(3);

            // The stream page: `nats stream info`'s Cluster Information block, and the consumers.
            // Follow the link's target (a click can race with the page's own refresh and be lost).
            var href = await page.Locator("#streams-table a", new PageLocatorOptions { HasText = "ORDERS" }).First.GetAttributeAsync("href");
            Assert.Equal("/streams/APP/ORDERS", href);
            await page.GotoAsync(new Uri(new Uri(page.Url), href).ToString());
            await page.WaitForURLAsync("**/streams/APP/ORDERS");
            var cli = page.Locator("#cluster pre");
            await Expect(cli).ToContainTextAsync($"Leader: {streamLeader}");
            await Expect(cli).ToContainTextAsync(new System.Text.RegularExpressions.Regex($"Replica: {victim}, outdated, seen [0-9.dhmsµ]+ ago, [0-9,]+ operations? behind"));
            await Expect(cli).ToContainTextAsync(new System.Text.RegularExpressions.Regex("Replica: n[0-9], current, seen [0-9.dhmsµ]+ ago"));
            await Expect(page.Locator("#consumers-table tbody tr")).ToHaveCountAsync(1);
            await Expect(page.Locator("#consumers-table tbody tr td").First).ToHaveTextAsync("PROCESSOR");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "stream-orders.png"), FullPage = true });
            var missing = await page.GotoAsync(exporter.BaseUrl + "/streams/APP/NOPE");
            Assert.Equal(404, missing!.Status);

            // A phone: the page itself does not scroll sideways (wide tables scroll in their own box).
            var phone = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 390, Height = 844 }, IsMobile = true, DeviceScaleFactor = 2 });
            await phone.GotoAsync(exporter.BaseUrl + "/");
            await Expect(phone.Locator("#problems li").First).ToBeVisibleAsync();
            Assert.True(await phone.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth + 1"),
                "the page scrolls sideways on a 390 px wide screen");
            await phone.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "status-phone.png"), FullPage = true });
        }
        finally
        {
            cluster.Resume(victim);
            publishing.Cancel();
            await publisher;
        }
        output.WriteLine($"done in {total.Elapsed.TotalSeconds:0.0}s; screenshots in {shots}");
    }

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>The cells of the row whose <paramref name="column"/> reads <paramref name="key"/>.</summary>
    private static async Task<string[]> RowCellsAsync(IPage page, string table, string key, int column = 0)
    {
        var rows = await page.EvaluateAsync<string[][]>(
            "t => Array.from(document.querySelectorAll(t + ' tbody tr')).map(r => Array.from(r.cells).map(c => c.innerText.trim()))", table);
        return rows.SingleOrDefault(r => r.Length > column && r[column] == key)
            ?? throw new Xunit.Sdk.XunitException($"no row {key} in {table}: {string.Join(" | ", rows.Select(r => string.Join(",", r)))}");
    }
}
