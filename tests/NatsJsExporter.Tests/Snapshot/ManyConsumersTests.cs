using NatsJsExporter.Model;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Snapshot;

/// <summary>A stream with more consumers than the merge pairs up by scanning (it indexes them by name then).</summary>
public class ManyConsumersTests
{
    [Fact]
    public void Each_consumer_gets_its_own_copies_when_servers_list_many_in_different_orders()
    {
        var reports = Fixtures.Reports("2.15.1-cluster-features");
        for (int i = 0; i < reports.Count; i++)
        {
            var orders = reports[i].Jsz!.AccountDetails!.SelectMany(a => a.StreamDetail ?? []).Single(s => s.Name == "ORDERS");
            var processor = orders.ConsumerDetail!.Single(c => c.Name == "PROCESSOR");
            // 30 more consumers, led where PROCESSOR is; each server's copy carries its index in its numbers.
            var extra = Enumerable.Range(0, 30).Select(k => processor with
            {
                Name = $"C{k:00}",
                NumPending = (ulong)(1000 * i + k),
                Delivered = new SequenceInfoDto { StreamSeq = (ulong)(100 * k + i), ConsumerSeq = (ulong)(100 * k + i) },
            }).ToList();
            if (i % 2 == 1) extra.Reverse();
            orders.ConsumerDetail!.AddRange(extra);
        }

        var stream = Fixtures.Build(reports).Snapshot.Streams.Single(s => s.Name == "ORDERS");

        Assert.Equal(stream.Consumers.Select(c => c.Name).Order(StringComparer.Ordinal), stream.Consumers.Select(c => c.Name));
        for (int k = 0; k < 30; k++)
        {
            var c = stream.Consumers.Single(x => x.Name == $"C{k:00}");
            int leader = reports.FindIndex(r => r.ServerName == c.Leader);
            Assert.True(c.HasLeader);
            Assert.Equal((ulong)(1000 * leader + k), c.PendingMessages);
            Assert.Equal(reports.Select(r => r.ServerName!).Order(StringComparer.Ordinal), c.Replicas.Select(r => r.Server));
            foreach (var replica in c.Replicas)
            {
                int i = reports.FindIndex(r => r.ServerName == replica.Server);
                Assert.Equal((ulong)(100 * k + i), replica.DeliveredStreamSeq);
                Assert.Equal(replica.IsLeader, i == leader);
            }
        }
    }
}
