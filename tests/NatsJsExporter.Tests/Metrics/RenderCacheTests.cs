using System.Text;
using NatsJsExporter.Metrics;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Metrics;

/// <summary>A RenderCache kept across polls never changes what is rendered, whatever changed between the polls.</summary>
public class RenderCacheTests
{
    private static string Fresh(ClusterSnapshot s) => Encoding.UTF8.GetString(MetricsRenderer.Render(s, "test"));

    private static string Cached(ClusterSnapshot s, RenderCache cache) => Encoding.UTF8.GetString(MetricsRenderer.Render(s, "test", cache: cache));

    [Fact]
    public void One_cache_over_every_fixture_in_turn_renders_each_as_without_a_cache()
    {
        var cache = new RenderCache();
        var fixtures = Fixtures.All().ToList();
        // Forward, back and forward again: assets appear, vanish, move to other positions and come back.
        foreach (var fixture in fixtures.Concat(Enumerable.Reverse(fixtures)).Concat(fixtures))
        {
            var s = Fixtures.Snapshot(fixture);
            Assert.Equal(Fresh(s), Cached(s, cache));
        }
    }

    [Fact]
    public void Changed_peers_metadata_sources_and_order_of_the_same_streams_render_as_without_a_cache()
    {
        var cache = new RenderCache();
        var first = Fixtures.Snapshot("2.15.1-cluster-features");
        Assert.NotEmpty(first.Streams);
        Assert.Equal(Fresh(first), Cached(first, cache));

        // Same identities, different peers, info labels and sources, and in reverse order.
        var changed = first with
        {
            Streams = first.Streams.Reverse().Select(st => st with
            {
                Storage = st.Storage + "x",
                Peers = st.Peers.Select(p => p with { Name = p.Name + "-moved" }).ToList(),
                Sources = [new StreamSourceView { Name = "src\"1" }],
                Consumers = st.Consumers.Select(c => c with
                {
                    AckPolicy = "none",
                    Peers = c.Peers.Skip(1).ToList(),
                }).ToList(),
            }).ToList(),
        };
        Assert.Equal(Fresh(changed), Cached(changed, cache));
        Assert.Equal(Fresh(first), Cached(first, cache));
    }

    [Fact]
    public void Assets_gone_from_the_last_render_are_dropped()
    {
        var cache = new RenderCache();
        var big = Fixtures.Snapshot("2.15.1-cluster-features");
        Cached(big, cache);
        int assets = big.Streams.Sum(st => 1 + st.Consumers.Count);
        Assert.Equal(assets, cache.Count);

        var fewer = big with { Streams = big.Streams.Take(1).ToList() };
        Cached(fewer, cache);
        Assert.Equal(1 + big.Streams[0].Consumers.Count, cache.Count);
    }
}
