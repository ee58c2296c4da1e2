using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Views;

/// <summary>A table as text cells: rendered as HTML by the status page and with Spectre.Console by the report.</summary>
public sealed record TableView
{
    public required string Id { get; init; }
    public required string Title { get; init; }
    public required IReadOnlyList<string> Headers { get; init; }
    /// <summary>Columns whose cells are right-aligned numbers.</summary>
    public IReadOnlySet<int> Numeric { get; init; } = new HashSet<int>();
    public required IReadOnlyList<TableRow> Rows { get; init; }
    /// <summary>Totals row, or null.</summary>
    public IReadOnlyList<string>? Footer { get; init; }
    /// <summary>Shown instead of an empty table.</summary>
    public string Empty { get; init; } = "none";
}

/// <summary>One row. <see cref="Stream"/> links the row to its stream page; <see cref="Problem"/> (a problem is about the row) highlights it.</summary>
public sealed record TableRow(IReadOnlyList<string> Cells, bool Problem = false, StreamKey? Stream = null);

/// <summary>
/// The tables of `nats server report jetstream`, `nats stream report` and a stream's consumers,
/// built from one snapshot and its <see cref="HealthReport"/>: a row is marked when a problem is
/// about it, nothing else. The page and the report command print exactly these.
/// </summary>
public static class OperatorTables
{
    /// <summary>`nats server report jetstream`: one row per server, the meta leader marked `*`, a totals row.</summary>
    public static TableView JetStreamSummary(ClusterSnapshot s, HealthReport health)
    {
        var rows = s.Servers.OrderBy(x => x.Cluster, StringComparer.Ordinal).ThenBy(x => x.Name, StringComparer.Ordinal).Select(x => new TableRow(
        [
            x.Name + (x.IsMetaLeader ? "*" : ""), x.Cluster, x.JetStreamEnabled ? Format.Count(x.Streams) : "disabled", Format.Count(x.Consumers),
            Format.Count(x.Messages), Format.Bytes(x.Bytes), Format.Bytes(x.MemoryBytes), Format.Bytes(x.StorageBytes),
            Format.Count(x.ApiRequests), Format.Count(x.ApiErrors),
        ], Problem: health.ServerDown(x.Name))).ToList();
        // Targets that did not answer have no numbers; list them so a missing server is visible.
        foreach (var t in s.Targets.Where(t => !t.Up && s.Servers.All(x => x.Name != t.Label)))
            rows.Add(new TableRow([t.Label, "", "down", "", "", "", "", "", "", ""], Problem: health.ServerDown(t.Label)));
        return new TableView
        {
            Id = "jetstream",
            Title = "JetStream Summary",
            Headers = ["Server", "Cluster", "Streams", "Consumers", "Messages", "Bytes", "Memory", "File", "API Req", "API Err"],
            Numeric = new HashSet<int> { 2, 3, 4, 5, 6, 7, 8, 9 },
            Rows = rows,
            Footer = s.Servers.Count == 0 ? null :
            [
                "", "", Format.Count(Saturating.Sum(s.Servers, x => x.Streams)), Format.Count(Saturating.Sum(s.Servers, x => x.Consumers)),
                Format.Count(Sum(s.Servers, x => x.Messages)), Format.Bytes(Sum(s.Servers, x => x.Bytes)),
                Format.Bytes(Sum(s.Servers, x => x.MemoryBytes)), Format.Bytes(Sum(s.Servers, x => x.StorageBytes)),
                Format.Count(Sum(s.Servers, x => x.ApiRequests)), Format.Count(Sum(s.Servers, x => x.ApiErrors)),
            ],
            Empty = "no server answered",
        };
    }

    /// <summary>The `RAFT Meta Group Information` table, one per meta group (normally one).</summary>
    public static IReadOnlyList<TableView> MetaGroups(ClusterSnapshot s, HealthReport health) => s.MetaGroups.Select(g => new TableView
    {
        Id = "meta",
        Title = "RAFT Meta Group Information" + (s.MetaGroups.Count > 1 ? $" ({(g.Domain.Length == 0 ? g.Cluster : $"domain {g.Domain}, {g.Cluster}")})" : "")
            + (g.HasLeader ? "" : ": NO LEADER"),
        Headers = ["Name", "Leader", "Current", "Online", "Active", "Lag"],
        Numeric = new HashSet<int> { 4, 5 },
        Rows = g.Peers.Select(p => new TableRow(
        [
            p.Name, p.IsLeader ? "yes" : "", Format.YesNo(p.Current), Format.YesNo(p.Offline is { } o ? !o : null),
            p.LastSeenSeconds is { } seen ? Format.Duration(seen) : "", p.Lag is { } lag ? Format.Count(lag) : "",
        ], Problem: health.MetaLeaderMissing(g) || health.MetaPeerHasProblem(g, p.Name))).ToArray(),
        Empty = "no peers known",
    }).ToArray();

    /// <summary>
    /// `nats stream report` over every account, placement with the leader `*` and replicas a problem
    /// is about `!`. A Domain column comes first when any stream is in a JetStream domain.
    /// </summary>
    public static TableView StreamReport(ClusterSnapshot s, HealthReport health)
    {
        bool domains = s.Streams.Any(x => x.Domain.Length > 0);
        int o = domains ? 1 : 0;
        string[] headers = ["Account", "Stream", "Consumers", "Messages", "Bytes", "Storage", "Lost", "Deleted", "Replicas", "Cluster"];
        return new TableView
        {
            Id = "streams",
            Title = "Stream Report",
            Headers = domains ? ["Domain", .. headers] : headers,
            Numeric = new HashSet<int> { 2 + o, 3 + o, 4 + o, 6 + o, 7 + o, 8 + o },
            Rows = Sorted(s.Streams).Select(x =>
            {
                var key = StreamKey.Of(x);
                string[] cells =
                [
                    x.Account, x.Name, Format.Count(x.ConsumerCount), Format.Count(x.Messages), Format.Bytes(x.Bytes), Format.Storage(x.Storage),
                    Format.Count(x.LostMessages), Format.Count(x.DeletedMessages), Format.Count(x.ReplicasConfigured),
                    Format.Placement(x.Peers, x.Leader, peer => health.StreamReplicaHasProblem(key, peer)),
                ];
                return new TableRow(domains ? [x.Domain, .. cells] : cells, Problem: health.StreamHasProblem(key), Stream: key);
            }).ToArray(),
            Empty = "no streams",
        };
    }

    /// <summary>A stream's consumers (the numbers of `nats consumer report`).</summary>
    public static TableView Consumers(StreamView st, HealthReport health)
    {
        var key = StreamKey.Of(st);
        return new TableView
        {
            Id = "consumers",
            Title = "Consumers",
            Headers = ["Consumer", "Ack Policy", "Deliver", "Pending", "Ack Pending", "Redelivered", "Waiting", "Delivered", "Ack Floor", "Cluster"],
            Numeric = new HashSet<int> { 3, 4, 5, 6, 7, 8 },
            Rows = st.Consumers.OrderBy(c => c.Name, StringComparer.Ordinal).Select(c => new TableRow(
            [
                c.Name, c.AckPolicy, c.DeliverPolicy, Format.Count(c.PendingMessages), Format.Count(c.AckPendingMessages),
                Format.Count(c.RedeliveredMessages), Format.Count(c.WaitingPulls), Format.Count(c.DeliveredStreamSeq),
                Format.Count(c.AckFloorStreamSeq), Format.Placement(c.Peers, c.Leader, peer => health.ConsumerReplicaHasProblem(key, c.Name, peer)),
            ], Problem: health.ConsumerHasProblem(key, c.Name))).ToArray(),
            Empty = st.Reachable ? "no durable consumers" : "unknown: every server hosting the stream failed this poll",
        };
    }

    /// <summary>Sources and mirror of a stream.</summary>
    public static TableView Sources(StreamView st, HealthReport health) => new()
    {
        Id = "sources",
        Title = "Sources and Mirror",
        Headers = ["Kind", "Stream", "Lag", "Last Seen", "Error"],
        Numeric = new HashSet<int> { 2 },
        Rows = (st.Mirror is { } m ? [("mirror", m)] : Array.Empty<(string, StreamSourceView)>())
            .Concat(st.Sources.Select(x => ("source", x)))
            .Select(x => new TableRow(
            [
                x.Item1, x.Item2.Name, Format.Count(x.Item2.Lag), x.Item2.LastSeenSeconds is { } seen ? Format.Ago(seen) : "never", x.Item2.Error ?? "",
            ], Problem: health.SourceHasProblem(StreamKey.Of(st), x.Item1 == "mirror" ? ProblemKind.MirrorError : ProblemKind.SourceError, x.Item2.Name))).ToArray(),
        Empty = "no sources, no mirror",
    };

    /// <summary>Streams by (domain, account, name), the order of every view and of the JSON.</summary>
    public static IEnumerable<StreamView> Sorted(IEnumerable<StreamView> streams) =>
        streams.OrderBy(x => x.Domain, StringComparer.Ordinal).ThenBy(x => x.Account, StringComparer.Ordinal).ThenBy(x => x.Name, StringComparer.Ordinal);

    public static StreamView? Find(ClusterSnapshot s, StreamKey key) =>
        s.Streams.FirstOrDefault(x => x.Domain == key.Domain && x.Account == key.Account && x.Name == key.Name);

    private static ulong Sum<T>(IEnumerable<T> items, Func<T, ulong> f)
    {
        ulong total = 0;
        foreach (var i in items) total += f(i);
        return total;
    }
}
