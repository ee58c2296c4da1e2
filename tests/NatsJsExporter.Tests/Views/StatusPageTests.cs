using System.Text.Json;
using System.Text.RegularExpressions;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Tests.Support;
using NatsJsExporter.Views;

namespace NatsJsExporter.Tests.Views;

/// <summary>The status page, the JSON document and the text report over fixture snapshots.</summary>
public class StatusPageTests
{
    private const string Nonce = "TESTNONCE";
    private const string EvilStream = "<script>alert(\"x\")</script>";
    private const string EvilAccount = "a\"b'c&d<é→日本>";

    private static ClusterSnapshot Evil()
    {
        var s = Fixtures.Snapshot("2.9.10-cluster-replica-frozen");
        var orders = s.Streams.Single(x => x.Name == "ORDERS");
        var evil = orders with
        {
            Account = EvilAccount,
            Name = EvilStream,
            Consumers = [orders.Consumers[0] with { Name = "<img src=x onerror=alert(1)>" }],
        };
        return s with { Streams = [.. s.Streams, evil] };
    }

    [Fact]
    public void Names_with_markup_quotes_and_unicode_render_as_text()
    {
        var s = Evil();
        var health = HealthCheck.Evaluate(s, Fixtures.CollectedAt);
        var html = StatusPage.Render(s, health, Fixtures.CollectedAt, "9.9.9", Nonce);

        Assert.DoesNotContain("<script>alert", html);
        Assert.Contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;", html);
        Assert.Contains("a&quot;b&#39;c&amp;d&lt;é→日本&gt;", html);
        // Every script element is ours, with the nonce.
        Assert.All(Regex.Matches(html, "<script[^>]*>").Select(m => m.Value), tag => Assert.Equal($"<script nonce=\"{Nonce}\">", tag));
        // The link to the stream page is percent-encoded, then escaped.
        Assert.Contains("href=\"/streams/a%22b%27c%26d%3C%C3%A9%E2%86%92%E6%97%A5%E6%9C%AC%3E/%3Cscript%3Ealert%28%22x%22%29%3C%2Fscript%3E\"", html);
        // The problem about the evil stream's frozen replica names it, escaped.
        Assert.Contains("stream a&quot;b&#39;c&amp;d&lt;é→日本&gt; &gt; &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;: replica n3 is outdated", html);

        var evil = s.Streams.Single(x => x.Name == EvilStream);
        var page = StatusPage.RenderStream(s, health, evil, StreamKey.Of(evil), Fixtures.CollectedAt, "9.9.9", Nonce);
        Assert.DoesNotContain("<script>alert", page);
        Assert.DoesNotContain("<img", page);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", page);
        Assert.Contains("<title>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; (a&quot;b&#39;c&amp;d&lt;é→日本&gt;) - NATS JetStream</title>", page);
        Assert.All(Regex.Matches(page, "<script[^>]*>").Select(m => m.Value), tag => Assert.Equal($"<script nonce=\"{Nonce}\">", tag));
    }

    [Fact]
    public void The_page_puts_problems_first_and_holds_the_three_tables()
    {
        var s = Fixtures.Snapshot("2.9.10-cluster-replica-frozen");
        var health = HealthCheck.Evaluate(s, Fixtures.CollectedAt);
        var html = StatusPage.Render(s, health, Fixtures.CollectedAt, "9.9.9", Nonce);

        int problems = html.IndexOf("id=\"problems\"", StringComparison.Ordinal);
        Assert.True(problems > 0 && problems < html.IndexOf("id=\"jetstream\"", StringComparison.Ordinal));
        Assert.True(html.IndexOf("id=\"jetstream\"", StringComparison.Ordinal) < html.IndexOf("id=\"meta\"", StringComparison.Ordinal));
        Assert.True(html.IndexOf("id=\"meta\"", StringComparison.Ordinal) < html.IndexOf("id=\"streams\"", StringComparison.Ordinal));
        Assert.Contains("<li class=\"warning\" data-kind=\"replica_outdated\" data-account=\"APP\" data-stream=\"ORDERS\" data-server=\"n3\">", html);
        Assert.Contains("<td>n1*, n2, n3!</td>", html);
        Assert.Contains("<td>n2*</td>", html);
        Assert.Contains("<meta name=\"viewport\"", html);
        Assert.DoesNotContain("http://", html.Replace("http-equiv", "")); // no external assets
        Assert.DoesNotContain("https://", html);

        var healthy = Fixtures.Snapshot("2.9.10-cluster-healthy");
        var ok = StatusPage.Render(healthy, HealthCheck.Evaluate(healthy, Fixtures.CollectedAt), Fixtures.CollectedAt, "9.9.9", Nonce);
        Assert.Contains("All healthy", ok);
        Assert.DoesNotContain("<li class=", ok);
    }

    [Fact]
    public void The_stream_page_prints_the_cluster_information_block_and_the_consumers()
    {
        var s = Fixtures.Snapshot("2.9.10-cluster-replica-frozen");
        var health = HealthCheck.Evaluate(s, Fixtures.CollectedAt);
        var key = new StreamKey("", "APP", "ORDERS");
        var orders = OperatorTables.Find(s, key)!;
        var html = StatusPage.RenderStream(s, health, orders, key, Fixtures.CollectedAt, "9.9.9", Nonce);
        Assert.Contains("<span>               Leader: n1</span>", html);
        Assert.Contains("<span class=\"bad\">              Replica: n3, outdated, seen 15.03s ago, 150 operations behind</span>", html);
        Assert.Contains("<td>AUDIT</td>", html);
        Assert.Contains("<td>PROCESSOR</td>", html);

        var missing = StatusPage.RenderStream(s, health, null, new StreamKey("", "APP", "NOPE"), Fixtures.CollectedAt, "9.9.9", Nonce);
        Assert.Contains("Not found", missing);
    }

    [Fact]
    public void The_json_document_is_the_snapshot_with_its_problems()
    {
        var s = Fixtures.Snapshot("2.9.10-cluster-replica-frozen");
        var health = HealthCheck.Evaluate(s, Fixtures.CollectedAt.AddSeconds(1.5));
        var bytes = SnapshotDocument.Serialize(SnapshotDocument.From(s, health, Fixtures.CollectedAt.AddSeconds(1.5), "9.9.9"));
        using var doc = JsonDocument.Parse(bytes);
        var root = doc.RootElement;

        Assert.Equal(1, root.GetProperty("schema_version").GetInt32());
        Assert.Equal("warning", root.GetProperty("status").GetString());
        Assert.Equal(1.5, root.GetProperty("age_seconds").GetDouble());
        Assert.Equal(15, root.GetProperty("poll_interval_seconds").GetDouble());
        Assert.Equal("2026-01-01T00:00:00+00:00", root.GetProperty("collected_at").GetString());
        var problem = root.GetProperty("problems").EnumerateArray().First(p => p.GetProperty("kind").GetString() == "replica_outdated");
        Assert.Equal("warning", problem.GetProperty("severity").GetString());
        Assert.Equal("ORDERS", problem.GetProperty("stream").GetString());
        Assert.Equal("n3", problem.GetProperty("peer").GetString());

        var orders = root.GetProperty("streams").EnumerateArray().Single(x => x.GetProperty("name").GetString() == "ORDERS");
        Assert.Equal(226UL, orders.GetProperty("messages").GetUInt64());
        Assert.Equal("n1", orders.GetProperty("leader").GetString());
        var n3 = orders.GetProperty("peers").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "n3");
        Assert.False(n3.GetProperty("current").GetBoolean());
        Assert.Equal(150UL, n3.GetProperty("lag").GetUInt64());
        Assert.Equal(2, orders.GetProperty("consumers").GetArrayLength());
        Assert.True(root.GetProperty("servers").EnumerateArray().Single(x => x.GetProperty("name").GetString() == "n2").GetProperty("is_meta_leader").GetBoolean());
        Assert.Equal("n2", root.GetProperty("meta_groups")[0].GetProperty("leader").GetString());
        var down = root.GetProperty("targets").EnumerateArray().Single(t => t.GetProperty("label").GetString() == "n3");
        Assert.False(down.GetProperty("up").GetBoolean());
        Assert.Equal("timeout", down.GetProperty("errors_by_reason")[0].GetProperty("key").GetString());
    }

    [Fact]
    public void The_text_report_prints_names_literally_and_a_nagios_status_line()
    {
        var s = Fixtures.Snapshot("2.9.10-cluster-replica-frozen");
        var orders = s.Streams.Single(x => x.Name == "ORDERS");
        s = s with { Streams = [.. s.Streams, orders with { Name = "[red]NOT_MARKUP[/]" }] };
        var health = HealthCheck.Evaluate(s, Fixtures.CollectedAt);
        var w = new StringWriter();
        ReportText.Render(s, health, "all", w, plain: true);
        var text = w.ToString();
        var lines = text.Split('\n');

        Assert.StartsWith("WARNING: ", lines[0]);
        Assert.Contains("2/3 servers answered", lines[0]);
        Assert.Contains("[red]NOT_MARKUP[/]", text);
        Assert.DoesNotContain("\x1b[", text);
        Assert.Contains(lines, l => l.Contains("JetStream Summary"));
        Assert.Contains(lines, l => l.Contains("RAFT Meta Group Information"));
        Assert.Contains(lines, l => l.Contains(" ORDERS ") && l.Contains(" 226 ") && l.Contains("n1*, n2, n3!"));
        Assert.Contains(lines, l => l.Contains(" n2* ") && l.Contains(" c1 "));
        Assert.Contains(lines, l => l.Contains("WARNING") && l.Contains("replica n3 is outdated"));
    }
}
