using NatsJsExporter.Sources;

namespace NatsJsExporter.Tests.Sources;

public class ServerVersionTests
{
    [Theory]
    [InlineData("2.9.10", false, false)]
    [InlineData("2.9.15", true, false)]
    [InlineData("2.10.18", true, false)]
    [InlineData("2.10.19", true, true)]
    [InlineData("v2.15.1", true, true)]
    [InlineData("2.11.0-RC.1", true, true)]
    [InlineData(null, false, false)]
    [InlineData("garbage", false, false)]
    public void Options_are_used_only_where_the_server_supports_them(string? version, bool raft, bool streamLeaderOnlyWithoutConsumers)
    {
        var v = ServerVersion.Parse(version);
        Assert.Equal(raft, JszFeatures.UseRaft(v));
        Assert.Equal(streamLeaderOnlyWithoutConsumers, JszFeatures.UseStreamLeaderOnly(v, consumers: false));
        // With consumer metrics on, stream_leader_only would hide consumer leaders' reports.
        Assert.False(JszFeatures.UseStreamLeaderOnly(v, consumers: true));
    }

    [Theory]
    [InlineData("2.10.27", false, false)]
    [InlineData("2.11.0", true, false)]
    [InlineData("2.11.10", true, false)]
    [InlineData("2.11.11", true, true)]
    [InlineData("2.12.0", true, false)]
    [InlineData("2.12.1", true, true)]
    [InlineData("2.15.1", true, true)]
    public void Fields_omitted_when_zero_mean_zero_only_on_versions_that_report_them(string version, bool paused, bool leaderCounts)
    {
        var v = ServerVersion.Parse(version);
        Assert.Equal(paused, JszFeatures.ReportsPaused(v));
        Assert.Equal(leaderCounts, JszFeatures.ReportsLeaderCounts(v));
    }

    [Fact]
    public void A_2_15_server_that_leads_nothing_and_an_unpaused_consumer_render_0_not_absent()
    {
        var text = System.Text.Encoding.UTF8.GetString(NatsJsExporter.Metrics.MetricsRenderer.Render(NatsJsExporter.Tests.Support.Fixtures.Snapshot("2.15.1-cluster-features"), "test"));
        // 2.11+ omit `paused` when false and 2.12.1+ omit `consumers_leader` when 0: absent means 0 there.
        Assert.Contains("natsjs_consumer_paused{", text);
        Assert.Matches(@"natsjs_consumer_paused\{[^}]*\} 0\n", text);
        Assert.Matches(@"natsjs_server_consumer_leaders\{[^}]*\} 0\n", text);
    }
}
