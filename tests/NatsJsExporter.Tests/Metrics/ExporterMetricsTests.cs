using System.Text;
using System.Text.RegularExpressions;
using NatsJsExporter.Hosting;
using NatsJsExporter.Metrics;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Tests.Golden;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Metrics;

/// <summary>The exporter's own series: error counters from the first poll on, and the Go client's process_* names.</summary>
public class ExporterMetricsTests
{
    private static string[] ErrorSeries(string exposition, string server) =>
        exposition.Split('\n').Where(l => l.StartsWith($"natsjs_scrape_errors_total{{server=\"{server}\",", StringComparison.Ordinal)).ToArray();

    [Fact]
    public void Every_reason_of_every_target_is_at_zero_after_a_poll_without_errors()
    {
        var text = Encoding.UTF8.GetString(GoldenTests.Render("2.9.10-cluster-healthy"));
        foreach (var server in new[] { "n1", "n2", "n3" })
        {
            var lines = ErrorSeries(text, server);
            // The fixture's targets are server names, as in system-account mode.
            Assert.Equal(ExporterMetrics.SystemReasons.Select(r => $"natsjs_scrape_errors_total{{server=\"{server}\",reason=\"{r}\"}} 0"), lines);
        }
    }

    [Fact]
    public void A_monitor_url_target_has_the_http_reasons_and_keeps_counting_a_reason_no_list_has()
    {
        var snapshot = Fixtures.Snapshot("2.9.10-single") with
        {
            Targets =
            [
                new TargetView
                {
                    Label = "n1", Target = "http://127.0.0.1:8222", Up = false, DurationSeconds = 0.1,
                    ErrorsByReason = [new("timeout", 2), new("http_503", 1)],
                },
            ],
        };
        var text = Encoding.UTF8.GetString(MetricsRenderer.Render(snapshot, "test"));
        var lines = ErrorSeries(text, "n1");
        var expected = ExporterMetrics.HttpReasons.Append("http_503").Order(StringComparer.Ordinal)
            .Select(r => $"natsjs_scrape_errors_total{{server=\"n1\",reason=\"{r}\"}} {(r == "timeout" ? 2 : r == "http_503" ? 1 : 0)}");
        Assert.Equal(expected, lines);
        Assert.DoesNotContain(lines, l => l.Contains("reason=\"auth\"", StringComparison.Ordinal));
        var (code, output) = Promtool.CheckMetrics(Encoding.UTF8.GetBytes(text));
        Assert.True(code == 0, output);
    }

    [Fact]
    public void The_readme_lists_exactly_the_reasons_the_exporter_counts()
    {
        var readme = File.ReadAllText(Path.Combine(Repo.Root, "README.md"));
        var row = readme.Split('\n').Single(l => l.StartsWith("| `natsjs_scrape_errors_total`", StringComparison.Ordinal));
        var documented = Regex.Matches(row.Split('|')[4], "`([a-z_<>]+)`").Select(m => m.Groups[1].Value).ToHashSet();
        var counted = ExporterMetrics.HttpReasons.Concat(ExporterMetrics.SystemReasons).Append("http_<code>").Append("server_error_<code>").ToHashSet();
        Assert.True(documented.SetEquals(counted),
            $"README row lists {string.Join(", ", documented.Order())}; the exporter counts {string.Join(", ", counted.Order())}");
    }

    [Fact]
    public void Resident_memory_and_file_descriptors_are_read_from_proc()
    {
        var rss = ProcessStats.ResidentBytes();
        Assert.NotNull(rss);
        using var me = System.Diagnostics.Process.GetCurrentProcess();
        // statm and the working set are the same number (resident pages), sampled a moment apart.
        Assert.InRange(rss!.Value, me.WorkingSet64 / 2, me.WorkingSet64 * 2);

        var open = ProcessStats.OpenFds();
        Assert.NotNull(open);
        var files = Enumerable.Range(0, 50).Select(_ => File.OpenRead(Path.Combine(Repo.Root, "README.md"))).ToList();
        try
        {
            // Other tests run meanwhile and may close a few descriptors of their own.
            Assert.True(ProcessStats.OpenFds() >= open + 40, $"50 more files open, fds {open} -> {ProcessStats.OpenFds()}");
        }
        finally
        {
            files.ForEach(f => f.Dispose());
        }

        var max = ProcessStats.MaxFds();
        Assert.NotNull(max);
        Assert.True(max >= open, $"max fds {max} < open fds {open}");
    }
}
