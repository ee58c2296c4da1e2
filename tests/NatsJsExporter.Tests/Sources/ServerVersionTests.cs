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
}
