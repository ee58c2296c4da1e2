using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Views;

/// <summary>
/// Each replica's own copy beside its leader's (see <see cref="ReplicaComparison"/>): the stream
/// page shows one stream's replicas and its consumers' replicas, the report every replicated stream.
/// </summary>
public static class ReplicaTables
{
    private static readonly string[] StreamHeaders = ["Replica", "Last Seq", "Messages", "First Seq", "Bytes", "Behind", "Compared"];

    /// <summary>One stream's replicas (the stream page).</summary>
    public static TableView Stream(StreamView st, HealthReport health) => new()
    {
        Id = "replicas",
        Title = "Replica Copies (each server's own report; * leader)",
        Headers = StreamHeaders,
        Numeric = new HashSet<int> { 1, 2, 3, 4, 5 },
        Rows = StreamRows(st, health, withStream: false),
        Empty = st.ReplicasConfigured <= 1 ? "not replicated" : st.Reachable ? "not compared (--replica-comparison=false)" : "unknown: every server hosting the stream failed this poll",
    };

    /// <summary>Every replicated stream's replicas (the report).</summary>
    public static TableView All(ClusterSnapshot s, HealthReport health) => new()
    {
        Id = "replicas",
        Title = "Replica Copies (each server's own report; * leader)",
        Headers = ["Stream", .. StreamHeaders],
        Numeric = new HashSet<int> { 2, 3, 4, 5, 6 },
        Rows = OperatorTables.Sorted(s.Streams).SelectMany(st => StreamRows(st, health, withStream: true)).ToArray(),
        Empty = "no replicated stream compared",
    };

    /// <summary>A stream's consumers' replicas (the stream page).</summary>
    public static TableView Consumers(StreamView st, HealthReport health)
    {
        var key = StreamKey.Of(st);
        return new TableView
        {
            Id = "consumer-replicas",
            Title = "Consumer Replica Copies (each server's own report; * leader)",
            Headers = ["Consumer", "Replica", "Delivered", "Delivered Consumer Seq", "Ack Floor", "Ack Floor Consumer Seq", "Behind", "Compared"],
            Numeric = new HashSet<int> { 2, 3, 4, 5, 6 },
            Rows = st.Consumers.OrderBy(c => c.Name, StringComparer.Ordinal).SelectMany(c => c.Replicas.Select(r => new TableRow(
            [
                c.Name, r.Server + (r.IsLeader ? "*" : ""), Format.Count(r.DeliveredStreamSeq), Format.Count(r.DeliveredConsumerSeq),
                Format.Count(r.AckFloorStreamSeq), Format.Count(r.AckFloorConsumerSeq), r.BehindMessages is { } b ? Format.Count(b) : Format.Unknown,
                Compared(r.IsLeader, r.Diverged, r.DisagreeingPolls, r.Difference),
            ], Problem: health.ConsumerReplicaHasProblem(key, c.Name, r.Server)))).ToArray(),
            Empty = "no replicated consumer compared",
        };
    }

    private static TableRow[] StreamRows(StreamView st, HealthReport health, bool withStream)
    {
        var key = StreamKey.Of(st);
        return st.Replicas.Select(r =>
        {
            string[] cells =
            [
                r.Server + (r.IsLeader ? "*" : ""), Format.Count(r.LastSeq), Format.Count(r.Messages), Format.Count(r.FirstSeq), Format.Bytes(r.Bytes),
                r.BehindMessages is { } b ? Format.Count(b) : Format.Unknown, Compared(r.IsLeader, r.Diverged, r.DisagreeingPolls, r.Difference),
            ];
            return new TableRow(withStream ? [key.ToString(), .. cells] : cells, Problem: health.StreamReplicaHasProblem(key, r.Server), Stream: key);
        }).ToArray();
    }

    private static string Compared(bool leader, bool diverged, int polls, string? difference) =>
        leader ? "leader"
        : diverged ? $"DIVERGED ({polls} polls): {difference}"
        : polls > 0 ? $"differs once: {difference}"
        : "agrees or not at the same position";
}
