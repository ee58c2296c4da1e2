using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NatsJsExporter.Hosting;
using NatsJsExporter.Metrics;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Tests.Golden;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Metrics;

/// <summary>/metrics encodings: gzip made once per snapshot, OpenMetrics negotiation and shape, text unchanged.</summary>
public class ExpositionEncodingTests
{
    private const string PrometheusAccept =
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

    public static TheoryData<string> FixtureNames() => new(Fixtures.All());

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void OpenMetrics_conversion_keeps_samples_and_renames_counter_families(string fixture)
    {
        var text = GoldenTests.Render(fixture);
        var om = Encoding.UTF8.GetString(OpenMetricsText.FromText(text)) + "# EOF\n";
        AssertOpenMetricsShape(om);
        // Samples are byte-identical; only metadata lines differ.
        Assert.Equal(Samples(Encoding.UTF8.GetString(text)), Samples(om));
        Assert.Contains("# TYPE natsjs_conflicts counter\n", om);
        Assert.Contains("# HELP natsjs_conflicts Times two servers", om);
        Assert.Matches(@"\nnatsjs_conflicts_total [0-9]+\n", om);
        Assert.DoesNotContain("_total counter", om);
    }

    [Fact]
    public void OpenMetrics_help_escapes_quotes()
    {
        var om = Encoding.UTF8.GetString(OpenMetricsText.FromText("# HELP a_total say \"hi\"\n# TYPE a_total counter\na_total 1\n"u8));
        Assert.Equal("# HELP a say \\\"hi\\\"\n# TYPE a counter\na_total 1\n", om);
    }

    [Theory]
    [InlineData(PrometheusAccept, true)]
    [InlineData("application/openmetrics-text; version=1.0.0", true)]
    [InlineData("text/plain;version=0.0.4", false)]
    [InlineData("text/plain;q=1,application/openmetrics-text;q=0.5", false)]
    [InlineData("*/*", false)]
    [InlineData(null, false)]
    public void Accept_header_negotiation(string? accept, bool openMetrics) =>
        Assert.Equal(openMetrics, MetricsEndpoint.WantsOpenMetrics(accept));

    [Theory]
    [InlineData("gzip", true)]
    [InlineData("deflate, gzip;q=0.5", true)]
    [InlineData("gzip;q=0", false)]
    [InlineData("identity", false)]
    [InlineData(null, false)]
    public void Accept_encoding_negotiation(string? header, bool gzip) => Assert.Equal(gzip, MetricsEndpoint.AcceptsGzip(header));

    [Fact]
    public async Task Endpoint_serves_text_gzip_and_openmetrics_and_compresses_once_per_snapshot()
    {
        var fixture = "2.9.10-cluster-healthy";
        var exposition = GoldenTests.Render(fixture);
        await using var host = await Host.StartAsync();
        var published = new PublishedSnapshot(Fixtures.Snapshot(fixture), exposition);
        host.Store.Publish(published);

        // Plain text: the golden bytes first, byte for byte, then process metrics.
        using (var resp = await host.Http.GetAsync("metrics"))
        {
            Assert.Equal("text/plain; version=0.0.4; charset=utf-8", resp.Content.Headers.ContentType!.ToString());
            Assert.Empty(resp.Content.Headers.ContentEncoding);
            var body = await resp.Content.ReadAsByteArrayAsync();
            Assert.True(body.AsSpan().StartsWith(exposition));
            Assert.Contains("process_cpu_seconds_total", Encoding.UTF8.GetString(body));
        }

        // gzip, asked four times: sent as stored, never compressed per request.
        for (int i = 0; i < 4; i++)
        {
            var (type, enc, body) = await GetAsync(host.Http, accept: null, gzip: true);
            Assert.Equal("gzip", enc);
            Assert.StartsWith("text/plain; version=0.0.4", type);
            Assert.StartsWith(Encoding.UTF8.GetString(exposition), body);
            Assert.Contains("process_cpu_seconds_total", body);
        }
        Assert.Equal(0, host.Cache.EncodeCount);

        // OpenMetrics (what Prometheus asks for), gzip and not: converted once for this snapshot.
        foreach (var gzip in new[] { true, false })
        {
            var (type, enc, body) = await GetAsync(host.Http, PrometheusAccept, gzip);
            Assert.Equal("application/openmetrics-text; version=1.0.0; charset=utf-8", type);
            Assert.Equal(gzip ? "gzip" : "", enc);
            AssertOpenMetricsShape(body);
            Assert.Contains("# TYPE process_cpu_seconds counter\n", body);
        }
        Assert.Equal(1, host.Cache.EncodeCount);

        // The next snapshot: a poll that knows scrapers want both forms renders both in one pass, so
        // publishing and scraping it makes nothing more.
        Assert.True(host.Store.WantsOpenMetrics);
        Assert.True(host.Store.WantsText);
        var both = MetricsRenderer.RenderCompressed(Fixtures.Snapshot(fixture), "test", text: host.Store.WantsText, openMetrics: host.Store.WantsOpenMetrics);
        Assert.NotNull(both.OpenMetrics);
        host.Store.Publish(new PublishedSnapshot(Fixtures.Snapshot(fixture), both));
        var (_, _, omBody) = await GetAsync(host.Http, PrometheusAccept, gzip: true);
        var (_, _, omPlain) = await GetAsync(host.Http, PrometheusAccept, gzip: false);
        Assert.Equal(1, host.Cache.EncodeCount);
        Assert.StartsWith(Encoding.UTF8.GetString(OpenMetricsText.FromText(exposition)), omBody);
        Assert.StartsWith(Encoding.UTF8.GetString(OpenMetricsText.FromText(exposition)), omPlain);
        var (_, _, textBody) = await GetAsync(host.Http, accept: null, gzip: false);
        Assert.StartsWith(Encoding.UTF8.GetString(exposition), textBody);
    }

    [Fact]
    public void The_stored_form_is_the_text_compressed_and_converts_to_openmetrics_in_pieces()
    {
        // A large exposition: the OpenMetrics conversion of the stored (compressed) text, done piece
        // by piece, must equal the conversion of the whole text, wherever the pieces break.
        var one = GoldenTests.Render("2.15.1-cluster-features");
        var text = new byte[one.Length * 40];
        for (int i = 0; i < 40; i++) one.CopyTo(text, i * one.Length);
        var stored = CompressedExposition.FromText(text);
        Assert.Equal(text.Length, stored.TextLength);
        Assert.Equal(text, stored.ToText());
        Assert.True(stored.GzipLength < text.Length / 4, $"gzip {stored.GzipLength} of {text.Length}");
        Assert.All(stored.GzipChunks(), c => Assert.InRange(c.Length, 1, CompressedExposition.ChunkSize));
        using (var gz = new GZipStream(new MemoryStream(stored.ToGzip()), CompressionMode.Decompress))
        using (var back = new MemoryStream())
        {
            gz.CopyTo(back);
            Assert.Equal(text, back.ToArray());
        }
        Assert.Equal(OpenMetricsText.FromText(text), OpenMetricsText.FromCompressedText(stored).ToText());
    }

    [Fact]
    public async Task A_poll_for_prometheus_alone_renders_only_openmetrics_and_text_is_rendered_once_when_asked()
    {
        var fixture = "2.15.1-cluster-features";
        var snapshot = Fixtures.Snapshot(fixture);
        var text = MetricsRenderer.Render(snapshot, "test");
        await using var host = await Host.StartAsync();
        host.Store.Publish(new PublishedSnapshot(snapshot, text));
        await GetAsync(host.Http, PrometheusAccept, gzip: true); // Prometheus scrapes
        Assert.True(host.Store.WantsOpenMetrics);
        Assert.False(host.Store.WantsText); // nobody asked for text: the next poll renders OpenMetrics alone
        long before = host.Cache.EncodeCount;

        var onlyOm = MetricsRenderer.RenderCompressed(snapshot, "test", text: host.Store.WantsText, openMetrics: host.Store.WantsOpenMetrics);
        Assert.Null(onlyOm.Text);
        int renders = 0;
        host.Store.Publish(new PublishedSnapshot(snapshot, onlyOm, s =>
        {
            renders++;
            return MetricsRenderer.RenderCompressed(s, "test", text: true, openMetrics: false).Text!;
        }));
        var (_, _, om) = await GetAsync(host.Http, PrometheusAccept, gzip: true);
        Assert.StartsWith(Encoding.UTF8.GetString(OpenMetricsText.FromText(text)), om);
        Assert.Equal(0, renders);
        Assert.Equal(before, host.Cache.EncodeCount);

        // Someone curls the text form: rendered once for this snapshot, the same bytes as the text render.
        for (int i = 0; i < 3; i++)
        {
            var (_, enc, body) = await GetAsync(host.Http, accept: null, gzip: i == 1);
            Assert.StartsWith(Encoding.UTF8.GetString(text), body);
        }
        Assert.Equal(1, renders);
        Assert.Equal(before + 1, host.Cache.EncodeCount);
        Assert.True(host.Store.WantsText);
    }

    [Fact]
    public void A_render_straight_to_the_compressed_forms_equals_the_text_render()
    {
        foreach (var fixture in Fixtures.All())
        {
            var snapshot = Fixtures.Snapshot(fixture);
            var text = MetricsRenderer.Render(snapshot, "1.2.3");
            var both = MetricsRenderer.RenderCompressed(snapshot, "1.2.3", text: true, openMetrics: true);
            Assert.Equal(text, both.Text!.ToText());
            Assert.Equal(OpenMetricsText.FromText(text), both.OpenMetrics!.ToText());
        }
    }

    [Fact]
    public void The_encodings_cache_never_keeps_a_replaced_snapshot_and_its_exposition_alive()
    {
        // At 10,000 streams an exposition is ~110 MB: a cache entry holding the previous one would
        // double the exporter's memory between polls.
        var cache = new ExpositionCache();
        var store = new SnapshotStore(cache);
        var snapshot = Fixtures.Snapshot("2.9.10-cluster-healthy");
        var text = GoldenTests.Render("2.9.10-cluster-healthy");
        var old = PublishAndScrape(store, cache, snapshot, text);
        for (int i = 0; i < 3; i++) PublishAndScrape(store, cache, snapshot, text);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(old.TryGetTarget(out _), "a replaced snapshot is still reachable");
        Assert.Equal(4, cache.EncodeCount); // each snapshot's OpenMetrics form, converted once

        [MethodImpl(MethodImplOptions.NoInlining)]
        static WeakReference<PublishedSnapshot> PublishAndScrape(SnapshotStore store, ExpositionCache cache, ClusterSnapshot s, byte[] text)
        {
            var published = new PublishedSnapshot(s, text.ToArray());
            store.Publish(published);
            Assert.True(cache.Get(published, ExpositionForm.OpenMetrics).GzipLength > 0);
            return new WeakReference<PublishedSnapshot>(published);
        }
    }

    [Fact]
    public async Task OpenMetrics_before_the_first_poll_is_just_process_metrics_and_eof()
    {
        await using var host = await Host.StartAsync();
        var (_, _, body) = await GetAsync(host.Http, PrometheusAccept, gzip: true);
        AssertOpenMetricsShape(body);
        Assert.DoesNotContain("natsjs_", body);
    }

    private static async Task<(string Type, string Encoding, string Body)> GetAsync(HttpClient http, string? accept, bool gzip)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, "metrics");
        if (accept is not null) req.Headers.TryAddWithoutValidation("Accept", accept);
        if (gzip) req.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        using var resp = await http.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        var raw = await resp.Content.ReadAsByteArrayAsync();
        Assert.Equal(raw.Length, resp.Content.Headers.ContentLength);
        var enc = string.Join(",", resp.Content.Headers.ContentEncoding);
        string body;
        if (enc == "gzip")
        {
            // Two gzip members (cached snapshot, per-request process metrics): a standard decoder reads both.
            using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var reader = new StreamReader(gz, Encoding.UTF8);
            body = await reader.ReadToEndAsync();
        }
        else
        {
            body = Encoding.UTF8.GetString(raw);
        }
        return (resp.Content.Headers.ContentType!.ToString(), enc, body);
    }

    private static List<string> Samples(string exposition) =>
        exposition.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

    /// <summary>OpenMetrics 1.0 text: HELP then TYPE per family, counter samples are family_total, one # EOF at the end.</summary>
    private static void AssertOpenMetricsShape(string om)
    {
        Assert.EndsWith("\n# EOF\n", om);
        Assert.Equal(1, om.Split('\n').Count(l => l == "# EOF"));
        string? family = null, type = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in om.Split('\n').SkipLast(2))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                family = line.Split(' ')[2];
                Assert.True(seen.Add(family), $"family {family} declared twice");
                type = null;
            }
            else if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.Equal(family, parts[2]);
                type = parts[3];
                // The test process also carries prometheus-net's meter adapters (histograms), which the
                // exporter suppresses; only gauges and counters are checked sample by sample.
                if (family!.StartsWith("natsjs_", StringComparison.Ordinal)) Assert.True(type is "gauge" or "counter", line);
                if (type == "counter") Assert.False(family!.EndsWith("_total", StringComparison.Ordinal), line);
            }
            else
            {
                Assert.False(line.StartsWith('#'), $"unexpected comment: {line}");
                Assert.NotNull(type);
                if (type is not ("gauge" or "counter")) continue;
                var name = line[..line.IndexOfAny(['{', ' '])];
                Assert.Equal(type == "counter" ? family + "_total" : family, name);
            }
        }
    }

    private sealed class Host : IAsyncDisposable
    {
        private WebApplication _app = null!;
        public SnapshotStore Store { get; private set; } = null!;
        public ExpositionCache Cache { get; private set; } = null!;
        public HttpClient Http { get; private set; } = null!;

        public static async Task<Host> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            builder.Services.AddSingleton<ExpositionCache>();
            builder.Services.AddSingleton<SnapshotStore>();
            var app = builder.Build();
            app.MapExporterEndpoints();
            await app.StartAsync();
            var address = app.Urls.First();
            return new Host
            {
                _app = app,
                Store = app.Services.GetRequiredService<SnapshotStore>(),
                Cache = app.Services.GetRequiredService<ExpositionCache>(),
                Http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = new Uri(address + "/") },
            };
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
