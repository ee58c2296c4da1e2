using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Snapshot;

public class ConsumerTruthTests
{
    [Theory]
    [InlineData("2.9.10-cluster-healthy")]
    [InlineData("2.10-cluster")]
    [InlineData("2.12-cluster")]
    [InlineData("2.14-cluster")]
    public void Consumer_numbers_come_from_the_consumer_leader(string fixture)
    {
        var reports = Fixtures.Reports(fixture);
        var snap = Fixtures.Build(reports).Snapshot;
        foreach (var stream in snap.Streams)
        {
            foreach (var consumer in stream.Consumers.Where(c => c.HasLeader))
            {
                var leaderReport = reports.Single(r => r.ServerName == consumer.Leader);
                var raw = leaderReport.Jsz!.AccountDetails!.Single(a => a.Name == stream.Account)
                    .StreamDetail!.Single(s => s.Name == stream.Name)
                    .ConsumerDetail!.Single(c => c.Name == consumer.Name);
                Assert.Equal(raw.NumPending, consumer.PendingMessages);
                Assert.Equal(raw.Delivered?.StreamSeq ?? 0, consumer.DeliveredStreamSeq);
                Assert.Equal(raw.NumAckPending, consumer.AckPendingMessages);
                Assert.Equal(consumer.Leader, consumer.StateFrom);
            }
        }
        Assert.Contains(snap.Streams, s => s.Consumers.Count > 0);
    }
}
