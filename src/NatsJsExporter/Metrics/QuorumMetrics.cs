using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>
/// Quorum margins (from each group leader's /jsz view: every version) and the meta group's
/// agreement: leaders named by its servers, and servers answering beside cluster_size.
/// </summary>
internal static class QuorumMetrics
{
    private const string MarginHelp = "replicas current and online (as the group leader reports them) minus the quorum floor(R/2)+1: below 0 no quorum, 0 on R3 one more failure loses it; absent while no leader reports peer health.";

    public static void Write(ExpositionWriter w, ClusterSnapshot s, RenderAssets assets)
    {
        w.Family("natsjs_meta_quorum_margin", MetricType.Gauge, "Meta group: " + MarginHelp);
        foreach (var g in s.MetaGroups)
            if (Quorum.Margin(g) is { } m) w.Sample(m, MetaLabels(g.Cluster, g.Domain));

        w.Family("natsjs_meta_leaders_named", MetricType.Gauge,
            "Distinct meta leaders named by the meta group's servers that answered (1 = agreement, 0 = none, 2+ = servers disagree).");
        foreach (var a in s.Raft.Meta) w.Sample(a.LeadersNamed, MetaLabels(a.Cluster, a.Domain));

        w.Family("natsjs_meta_servers_answering", MetricType.Gauge, "Servers of the meta group that answered this poll (compare with natsjs_meta_cluster_size).");
        foreach (var a in s.Raft.Meta) w.Sample(a.ServersAnswering, MetaLabels(a.Cluster, a.Domain));

        var streams = s.Streams;
        w.Family("natsjs_stream_quorum_margin", MetricType.Gauge, "Replicated stream: " + MarginHelp);
        for (int i = 0; i < streams.Count; i++)
            if (Quorum.Margin(streams[i]) is { } m) w.Sample(assets.Streams[i].Set, m);

        w.Family("natsjs_consumer_quorum_margin", MetricType.Gauge, "Replicated consumer: " + MarginHelp);
        for (int i = 0; i < streams.Count; i++)
        {
            var cs = streams[i].Consumers;
            for (int j = 0; j < cs.Count; j++)
                if (Quorum.Margin(cs[j]) is { } m) w.Sample(assets.Consumers[assets.ConsumerStart[i] + j].Set, m);
        }
    }

    private static Label[] MetaLabels(string cluster, string domain) =>
        domain.Length == 0 ? [new("cluster", cluster)] : [new("cluster", cluster), new("domain", domain)];
}
