using NatsJsExporter.Model;
using NatsJsExporter.Options;
using NatsJsExporter.Sources;

namespace NatsJsExporter.Snapshot;

/// <summary>
/// One server's own copy of a replicated stream, as that server's /jsz reported it, compared with
/// the stream leader's copy. Only for streams configured with more than one replica.
/// </summary>
public sealed record StreamReplicaView
{
    public required string Server { get; init; }
    public required bool IsLeader { get; init; }
    public ulong Messages { get; init; }
    public ulong Bytes { get; init; }
    public ulong FirstSeq { get; init; }
    public ulong LastSeq { get; init; }
    /// <summary>The leader's last_seq minus this replica's (0 when level or ahead); null when no leader report came this poll.</summary>
    public ulong? BehindMessages { get; init; }
    /// <summary>
    /// True when the replica's own last_seq is below the leader's and below the leader's last_seq of
    /// the previous poll too: it did not even reach where the leader was one poll interval ago.
    /// </summary>
    public bool FallingBehind { get; init; }
    /// <summary>Consecutive polls in which this replica, at the leader's last_seq, disagreed with it (see <see cref="ReplicaComparison"/>).</summary>
    public int DisagreeingPolls { get; init; }
    /// <summary>At least <see cref="ReplicaComparison.DivergedAfterPolls"/> consecutive disagreeing polls.</summary>
    public bool Diverged { get; init; }
    /// <summary>What differed at the last comparison that disagreed ("messages 25 (leader 50)"), null otherwise.</summary>
    public string? Difference { get; init; }
}

/// <summary>One server's own copy of a replicated consumer's state, compared with the consumer leader's.</summary>
public sealed record ConsumerReplicaView
{
    public required string Server { get; init; }
    public required bool IsLeader { get; init; }
    public ulong DeliveredStreamSeq { get; init; }
    public ulong DeliveredConsumerSeq { get; init; }
    public ulong AckFloorStreamSeq { get; init; }
    public ulong AckFloorConsumerSeq { get; init; }
    /// <summary>False for a follower on a server before 2.10, whose delivered and ack floor are 0, not its replicated state.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool OwnStateReported { get; init; } = true;
    /// <summary>The leader's delivered stream sequence minus this replica's (0 when level or ahead); null when not compared.</summary>
    public ulong? BehindMessages { get; init; }
    public bool FallingBehind { get; init; }
    public int DisagreeingPolls { get; init; }
    public bool Diverged { get; init; }
    public string? Difference { get; init; }
}

/// <summary>
/// The replica-comparison rules (the leader-truth rules are in <see cref="ReplicaGroup"/>).
/// Every server's /jsz reports its own copy of each stream and consumer it hosts. A follower's copy
/// is compared with the group leader's copy of the same poll:
/// <list type="bullet">
/// <item>behind: the leader's last_seq minus the replica's (streams), the leader's delivered stream
/// sequence minus the replica's (consumers); 0 when level or ahead (polls of different servers are
/// a few milliseconds apart, so a replica may be seen ahead).</item>
/// <item>disagreement: only at the SAME position (equal last_seq for streams; equal delivered stream
/// sequence for consumers), the replica's messages, first_seq or bytes (streams), or its delivered
/// consumer sequence or ack floor (consumers) differ from the leader's. Under steady publishing a
/// replica is rarely at the leader's position, so nothing is compared, rather than compared wrongly.</item>
/// <item>diverged: disagreement in at least two consecutive polls. A comparison that agrees clears it;
/// a poll in which nothing can be compared (not at the same position, no leader report) resets a
/// single disagreement but keeps an established divergence (no new evidence either way).</item>
/// </list>
/// Consumer replicas of servers before 2.10 are not compared: their followers report delivered and
/// ack floor 0 (seen on 2.9.10), which is not their replicated state.
/// </summary>
public static class ReplicaComparison
{
    public const int DivergedAfterPolls = 2;

    private static readonly ServerVersion ConsumerFollowerState = new(2, 10, 0);

    /// <summary>Adds each replica's own state to every replicated stream and consumer (the one call from <see cref="SnapshotBuilder"/>).</summary>
    internal static StreamView[] Attach(StreamView[] streams, IReadOnlyList<ServerReport> ok, ClusterSnapshot? previous, SnapshotFilter filter)
    {
        if (!filter.ReplicaComparison || streams.Length == 0) return streams;
        var copies = new Dictionary<(string, string, string), List<(ServerReport Report, StreamDetailDto Detail)>>();
        foreach (var r in ok)
        {
            string domain = r.Jsz!.Config?.Domain ?? "";
            foreach (var acc in r.Jsz.AccountDetails ?? [])
            {
                if (acc.Name is null) continue;
                foreach (var sd in acc.StreamDetail ?? [])
                {
                    if (sd.Name is null) continue;
                    var key = (domain, acc.Name, sd.Name);
                    if (!copies.TryGetValue(key, out var list)) copies[key] = list = [];
                    // One copy per server (a server listing a stream twice is malformed: keep the first).
                    if (!list.Exists(x => x.Report.ServerName == r.ServerName)) list.Add((r, sd));
                }
            }
        }
        var before = new Dictionary<(string, string, string), StreamView>();
        foreach (var s in previous?.Streams ?? [])
            if (s.Reachable) before.TryAdd((s.Domain, s.Account, s.Name), s);

        var result = new StreamView[streams.Length];
        for (int i = 0; i < streams.Length; i++)
        {
            var st = streams[i];
            // An unreachable stream is carried from the previous poll: nobody reported a copy this time.
            result[i] = st.Reachable ? st : st with { Replicas = [] };
            if (!st.Reachable || st.ReplicasConfigured <= 1 || !copies.TryGetValue((st.Domain, st.Account, st.Name), out var list)) continue;
            before.TryGetValue((st.Domain, st.Account, st.Name), out var old);
            result[i] = st with
            {
                Replicas = CompareStream(st, list, old),
                Consumers = st.Consumers.Count == 0 ? st.Consumers : st.Consumers.Select(c => CompareConsumer(c, list, old)).ToArray(),
            };
        }
        return result;
    }

    private static StreamReplicaView[] CompareStream(StreamView st, List<(ServerReport Report, StreamDetailDto Detail)> copies, StreamView? old)
    {
        var leader = st.HasLeader && st.Leader == st.StateFrom ? copies.FirstOrDefault(c => c.Report.ServerName == st.Leader).Detail?.State : null;
        var prior = ByServer(old?.Replicas, r => r.Server);
        var views = new List<StreamReplicaView>(copies.Count);
        foreach (var (report, detail) in copies)
        {
            var own = detail.State ?? new StreamStateDto();
            string server = report.ServerName!;
            bool isLeader = leader is not null && server == st.Leader;
            StreamReplicaView? was = null;
            prior?.TryGetValue(server, out was);
            string? difference = null;
            bool comparable = leader is not null && !isLeader && own.LastSeq == leader.LastSeq;
            if (comparable)
                difference = Differences(("messages", own.Messages, leader!.Messages), ("first_seq", own.FirstSeq, leader.FirstSeq), ("bytes", own.Bytes, leader.Bytes));
            int streak = isLeader ? 0 : Streak(comparable, difference, was?.DisagreeingPolls ?? 0);
            views.Add(new StreamReplicaView
            {
                Server = server,
                IsLeader = isLeader,
                Messages = own.Messages,
                Bytes = own.Bytes,
                FirstSeq = own.FirstSeq,
                LastSeq = own.LastSeq,
                BehindMessages = leader is null ? null : Behind(leader.LastSeq, own.LastSeq),
                FallingBehind = leader is not null && own.LastSeq < leader.LastSeq && old?.LastSeq is { } oldLeader && own.LastSeq < oldLeader,
                DisagreeingPolls = streak,
                Diverged = streak >= DivergedAfterPolls,
                Difference = difference ?? (streak > 0 ? was?.Difference : null),
            });
        }
        views.Sort((a, b) => string.CompareOrdinal(a.Server, b.Server));
        return views.ToArray();
    }

    private static ConsumerView CompareConsumer(ConsumerView c, List<(ServerReport Report, StreamDetailDto Detail)> copies, StreamView? oldStream)
    {
        var found = copies
            .Select(x => (x.Report, Info: x.Detail.ConsumerDetail?.FirstOrDefault(ci => ci.Name == c.Name)))
            .Where(x => x.Info is not null)
            .ToList();
        if (found.Count <= 1) return c;
        var leader = c.HasLeader && c.Leader == c.StateFrom ? found.FirstOrDefault(x => x.Report.ServerName == c.Leader).Info : null;
        var old = oldStream?.Consumers.FirstOrDefault(o => o.Name == c.Name);
        var prior = ByServer(old?.Replicas, r => r.Server);
        var views = new List<ConsumerReplicaView>(found.Count);
        foreach (var (report, info) in found)
        {
            string server = report.ServerName!;
            bool isLeader = leader is not null && server == c.Leader;
            bool followerStateKnown = ServerVersion.Parse(report.ServerVersion) is not { } v || v >= ConsumerFollowerState;
            var lead = followerStateKnown ? leader : null;
            ulong dStream = info!.Delivered?.StreamSeq ?? 0, dConsumer = info.Delivered?.ConsumerSeq ?? 0;
            ulong aStream = info.AckFloor?.StreamSeq ?? 0, aConsumer = info.AckFloor?.ConsumerSeq ?? 0;
            ConsumerReplicaView? was = null;
            prior?.TryGetValue(server, out was);
            ulong leadDelivered = lead?.Delivered?.StreamSeq ?? 0;
            bool comparable = lead is not null && !isLeader && dStream == leadDelivered;
            string? difference = null;
            if (comparable)
            {
                // Deliveries replicate as one entry (stream and consumer sequence together), so at the
                // same delivered stream sequence the consumer sequences must agree. Acks replicate
                // separately: a follower's ack floor BEHIND the leader's is lag (seen under steady
                // consumption), only one AHEAD of it is impossible replication and counts.
                ulong leadAckStream = lead!.AckFloor?.StreamSeq ?? 0, leadAckConsumer = lead.AckFloor?.ConsumerSeq ?? 0;
                difference = Differences(("delivered consumer_seq", dConsumer, lead.Delivered?.ConsumerSeq ?? 0),
                    ("ack_floor stream_seq", aStream, aStream > leadAckStream ? leadAckStream : aStream),
                    ("ack_floor consumer_seq", aConsumer, aConsumer > leadAckConsumer ? leadAckConsumer : aConsumer));
            }
            int streak = isLeader ? 0 : Streak(comparable, difference, was?.DisagreeingPolls ?? 0);
            views.Add(new ConsumerReplicaView
            {
                Server = server,
                IsLeader = isLeader,
                DeliveredStreamSeq = dStream,
                DeliveredConsumerSeq = dConsumer,
                AckFloorStreamSeq = aStream,
                AckFloorConsumerSeq = aConsumer,
                OwnStateReported = isLeader || followerStateKnown,
                // The leader is never behind itself, also where its followers cannot be compared (2.9).
                BehindMessages = isLeader ? 0 : lead is null ? null : Behind(leadDelivered, dStream),
                FallingBehind = lead is not null && dStream < leadDelivered && old is not null && dStream < old.DeliveredStreamSeq,
                DisagreeingPolls = streak,
                Diverged = streak >= DivergedAfterPolls,
                Difference = difference ?? (streak > 0 ? was?.Difference : null),
            });
        }
        views.Sort((a, b) => string.CompareOrdinal(a.Server, b.Server));
        return c with { Replicas = views.ToArray() };
    }

    private static Dictionary<string, T>? ByServer<T>(IReadOnlyList<T>? items, Func<T, string> server)
    {
        if (items is null) return null;
        var d = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var i in items) d.TryAdd(server(i), i);
        return d;
    }

    private static ulong Behind(ulong leader, ulong own) => leader > own ? leader - own : 0;

    /// <summary>Consecutive disagreeing polls: +1 on a disagreement, 0 on an agreement; without a comparison an established divergence stays, a single disagreement is forgotten.</summary>
    private static int Streak(bool comparable, string? difference, int previous) =>
        comparable ? (difference is null ? 0 : previous + 1) : (previous >= DivergedAfterPolls ? previous : 0);

    private static string? Differences(params (string Name, ulong Own, ulong Leader)[] fields)
    {
        var parts = fields.Where(f => f.Own != f.Leader).Select(f => $"{f.Name} {f.Own} (leader {f.Leader})").ToArray();
        return parts.Length == 0 ? null : string.Join(", ", parts);
    }
}
