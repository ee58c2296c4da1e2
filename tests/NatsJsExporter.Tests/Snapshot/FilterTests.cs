using System.Text;
using System.Text.RegularExpressions;
using NatsJsExporter.Options;
using NatsJsExporter.Metrics;
using NatsJsExporter.Model;
using NatsJsExporter.Sources;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Snapshot;

/// <summary>Cardinality control: filters cut series exactly as configured.</summary>
public class FilterTests
{
    private static string Render(SnapshotFilter filter) =>
        Encoding.UTF8.GetString(MetricsRenderer.Render(Fixtures.Snapshot("2.9.10-cluster-healthy", filter), "test"));

    private static string[] StreamsIn(string text) =>
        Regex.Matches(text, "natsjs_stream_info\\{[^}]*stream=\"([^\"]+)\"").Select(m => m.Groups[1].Value).Order().ToArray();

    [Fact]
    public void Exclude_streams_removes_every_series_of_those_streams()
    {
        var all = Render(SnapshotFilter.None);
        var text = Render(new SnapshotFilter { ExcludeStreams = new Regex("^ORDERS_") });
        Assert.Equal(["EVENTS", "ORDERS", "ORDERS_ARCHIVE", "ORDERS_MIRROR"], StreamsIn(all));
        Assert.Equal(["EVENTS", "ORDERS"], StreamsIn(text));
        Assert.DoesNotContain("stream=\"ORDERS_ARCHIVE\"", text);
        Assert.Contains("natsjs_account_streams{account=\"APP\"} 2", text);
    }

    [Fact]
    public void Include_streams_keeps_only_matches()
    {
        Assert.Equal(["ORDERS"], StreamsIn(Render(new SnapshotFilter { IncludeStreams = new Regex("^ORDERS$") })));
    }

    [Fact]
    public void Account_filter_removes_the_account_and_its_streams()
    {
        var text = Render(new SnapshotFilter { ExcludeAccounts = new Regex("^APP$") });
        Assert.Empty(StreamsIn(text));
        Assert.DoesNotContain("account=\"APP\"", text);
        Assert.Contains("natsjs_server_streams{", text); // server-level series stay
    }

    [Fact]
    public void Consumers_can_be_switched_off_or_filtered_by_name()
    {
        var all = Render(SnapshotFilter.None);
        Assert.Contains("consumer=\"AUDIT\"", all);
        Assert.Contains("consumer=\"PROCESSOR\"", all);

        var off = Render(new SnapshotFilter { Consumers = false });
        Assert.DoesNotContain("natsjs_consumer_", off);
        Assert.Contains("natsjs_stream_consumers{", off);

        var audit = Render(new SnapshotFilter { IncludeConsumersPattern = new Regex("^AUDIT$") });
        Assert.Contains("consumer=\"AUDIT\"", audit);
        Assert.DoesNotContain("consumer=\"PROCESSOR\"", audit);
    }

    [Fact]
    public void Ephemeral_consumers_are_left_out_unless_asked_for()
    {
        var report = new ServerReport
        {
            Target = "n1",
            ServerName = "n1",
            Jsz = new JszResponse
            {
                AccountDetails =
                [
                    new AccountDetailDto
                    {
                        Name = "APP",
                        StreamDetail =
                        [
                            new StreamDetailDto
                            {
                                Name = "S",
                                Config = new StreamConfigDto { NumReplicas = 1 },
                                ConsumerDetail =
                                [
                                    new ConsumerInfoDto { Name = "durable1", Config = new ConsumerConfigDto { DurableName = "durable1" } },
                                    new ConsumerInfoDto { Name = "eph1", Config = new ConsumerConfigDto() },
                                ],
                            },
                        ],
                    },
                ],
            },
        };
        var byDefault = Fixtures.Build([report]).Snapshot.Streams.Single().Consumers;
        Assert.Equal(["durable1"], byDefault.Select(c => c.Name));
        var withEphemeral = Fixtures.Build([report], new SnapshotFilter { Ephemeral = true }).Snapshot.Streams.Single().Consumers;
        Assert.Equal(["durable1", "eph1"], withEphemeral.Select(c => c.Name));
    }
}
