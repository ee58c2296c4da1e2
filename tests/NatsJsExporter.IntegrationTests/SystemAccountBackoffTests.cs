using System.Diagnostics;
using NatsJsExporter.IntegrationTests.Infrastructure;
using NatsJsExporter.Options;
using NatsJsExporter.Sources;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>System-account mode started before its server: Polly's back-off keeps trying, polls meanwhile answer at once with the same words.</summary>
[Collection("real processes")]
public sealed class SystemAccountBackoffTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_server_that_comes_up_after_the_exporter_is_found_by_the_back_off()
    {
        await using var cluster = await NatsCluster.StartAsync(size: 1);
        cluster.Kill("n1");
        await using var source = new SystemAccountSource(
            new SystemAccountOptions { Url = cluster["n1"].ClientUrl, User = "sys", Password = "sys" }, TimeSpan.FromMilliseconds(800));

        var first = Assert.Single(await source.CollectAsync(CancellationToken.None));
        Assert.False(first.Succeeded);
        Assert.Equal("nats_connection", first.ErrorReason);
        Assert.Contains("Retrying with back-off", first.ErrorMessage);

        // Backing off: the next poll does not wait for another attempt and says the same (so it is logged once).
        var sw = Stopwatch.StartNew();
        var second = Assert.Single(await source.CollectAsync(CancellationToken.None));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), $"a poll while backing off took {sw.Elapsed}");
        Assert.Equal(first.ErrorMessage, second.ErrorMessage);

        cluster.Restart("n1");
        sw.Restart();
        while (true)
        {
            var reports = await source.CollectAsync(CancellationToken.None);
            if (reports.Any(r => r.Succeeded)) break;
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), "not connected within 60 s of the server's start: " + string.Join("; ", reports.Select(r => r.ErrorMessage)));
            await Task.Delay(500);
        }
        output.WriteLine($"connected {sw.Elapsed.TotalSeconds:0.0}s after the server started");
    }
}
