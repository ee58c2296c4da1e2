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

    /// <summary>
    /// What one merge needs to compare replicas (null when the comparison is off): which servers
    /// report a follower's own consumer state.
    /// <see cref="SnapshotBuilder"/> compares while it builds each stream from the replicas it has
    /// grouped, rather than walking every server's answer a second time.
    /// </summary>
    internal sealed class Context
    {
        private readonly Dictionary<string, bool> _followerStateKnown = new(StringComparer.Ordinal);

        private Context(IReadOnlyList<ServerReport> ok)
        {
            // Parsed once per server, not once per consumer replica.
            foreach (var r in ok)
                if (r.ServerName is not null && !_followerStateKnown.ContainsKey(r.ServerName))
                    _followerStateKnown[r.ServerName] = ServerVersion.Parse(r.ServerVersion) is not { } v || v >= ConsumerFollowerState;
        }

        public static Context? For(IReadOnlyList<ServerReport> ok, SnapshotFilter filter) =>
            filter.ReplicaComparison ? new Context(ok) : null;

        public bool FollowerStateKnown(string server) => _followerStateKnown.GetValueOrDefault(server, true);
    }

    /// <summary>One copy per server (a server listing a stream twice is malformed: keep the first).</summary>
    internal static IReadOnlyList<ReplicaReport<StreamDetailDto>> OnePerServer(List<ReplicaReport<StreamDetailDto>> replicas)
    {
        for (int i = 1; i < replicas.Count; i++)
        {
            for (int j = 0; j < i; j++)
            {
                if (replicas[i].Server != replicas[j].Server) continue;
                var kept = new List<ReplicaReport<StreamDetailDto>>(replicas.Count);
                foreach (var r in replicas)
                    if (!kept.Exists(x => x.Server == r.Server)) kept.Add(r);
                return kept;
            }
        }
        return replicas;
    }

    /// <summary>Each server's own copy of a replicated stream beside its leader's (<paramref name="copies"/>: one per server, in server order).</summary>
    internal static IReadOnlyList<StreamReplicaView> CompareStream(bool hasLeader, string? leaderName, string? stateFrom,
        IReadOnlyList<ReplicaReport<StreamDetailDto>> copies, StreamView? old)
    {
        StreamStateDto? leader = null;
        if (hasLeader && leaderName == stateFrom)
        {
            for (int i = 0; i < copies.Count; i++)
                if (copies[i].Server == leaderName) { leader = copies[i].Item.State; break; }
        }
        var prior = old?.Replicas;
        var views = new StreamReplicaView[copies.Count];
        for (int i = 0; i < copies.Count; i++)
        {
            var own = copies[i].Item.State ?? new StreamStateDto();
            string server = copies[i].Server;
            bool isLeader = leader is not null && server == leaderName;
            var was = prior is null ? null : ByServer(prior, server);
            string? difference = null;
            bool comparable = leader is not null && !isLeader && own.LastSeq == leader.LastSeq;
            if (comparable)
                difference = Differences("messages", own.Messages, leader!.Messages, "first_seq", own.FirstSeq, leader.FirstSeq, "bytes", own.Bytes, leader.Bytes);
            int streak = isLeader ? 0 : Streak(comparable, difference, was?.DisagreeingPolls ?? 0);
            views[i] = SameAsBefore(was, new StreamReplicaView
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
        Array.Sort(views, (a, b) => string.CompareOrdinal(a.Server, b.Server));
        return SameAsBefore(prior, views);
    }

    /// <summary>
    /// Each server's own copy of a replicated consumer's state beside its leader's; [] when fewer
    /// than two copies list it. <paramref name="copies"/>: the stream's copies, one per server;
    /// <paramref name="old"/>: the consumer in the previous snapshot's (reachable) stream.
    /// </summary>
    internal static IReadOnlyList<ConsumerReplicaView> CompareConsumer(Context context, string name, bool hasLeader, string? leaderName, string stateFrom,
        IReadOnlyList<ReplicaReport<StreamDetailDto>> copies, ConsumerLookup lookup, ConsumerView? old)
    {
        // The copies' own entries of the consumer (the first of that name in each), found without
        // allocating for the usual handful of replicas.
        Span<int> at = copies.Count <= 8 ? stackalloc int[copies.Count] : new int[copies.Count];
        int foundCount = 0;
        ConsumerInfoDto? leader = null;
        for (int i = 0; i < copies.Count; i++)
        {
            var info = lookup.Find(i, copies[i].Item, name);
            if (info is null) continue;
            at[foundCount++] = i;
            if (hasLeader && leaderName == stateFrom && leader is null && copies[i].Server == leaderName) leader = info;
        }
        if (foundCount <= 1) return [];
        var prior = old?.Replicas;
        var views = new ConsumerReplicaView[foundCount];
        for (int k = 0; k < foundCount; k++)
        {
            int i = at[k];
            string server = copies[i].Server;
            var info = lookup.Find(i, copies[i].Item, name)!;
            bool isLeader = leader is not null && server == leaderName;
            bool followerStateKnown = context.FollowerStateKnown(server);
            var lead = followerStateKnown ? leader : null;
            ulong dStream = info.Delivered?.StreamSeq ?? 0, dConsumer = info.Delivered?.ConsumerSeq ?? 0;
            ulong aStream = info.AckFloor?.StreamSeq ?? 0, aConsumer = info.AckFloor?.ConsumerSeq ?? 0;
            var was = prior is null ? null : ByServer(prior, server);
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
                difference = Differences("delivered consumer_seq", dConsumer, lead.Delivered?.ConsumerSeq ?? 0,
                    "ack_floor stream_seq", aStream, aStream > leadAckStream ? leadAckStream : aStream,
                    "ack_floor consumer_seq", aConsumer, aConsumer > leadAckConsumer ? leadAckConsumer : aConsumer);
            }
            int streak = isLeader ? 0 : Streak(comparable, difference, was?.DisagreeingPolls ?? 0);
            views[k] = SameAsBefore(was, new ConsumerReplicaView
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
        Array.Sort(views, (a, b) => string.CompareOrdinal(a.Server, b.Server));
        return SameAsBefore(prior, views);
    }

    // An idle asset's replicas read the same every poll: the new snapshot then keeps the previous
    // one's (immutable) views, so the snapshot being served and the next share them instead of
    // holding two equal copies. Records compare by value; these views hold no lists.
    private static T SameAsBefore<T>(T? was, T now) where T : class, IEquatable<T> => was is not null && now.Equals(was) ? was : now;

    private static IReadOnlyList<T> SameAsBefore<T>(IReadOnlyList<T>? prior, T[] views) where T : class
    {
        if (prior is null || prior.Count != views.Length) return views;
        for (int i = 0; i < views.Length; i++)
            if (!ReferenceEquals(prior[i], views[i])) return views;
        return prior;
    }

    /// <summary>
    /// Finds a consumer by name in each copy of one stream: a linear scan of a short list, an
    /// index (built once per copy) for a stream with many consumers, where scans would be quadratic.
    /// </summary>
    internal sealed class ConsumerLookup(int copies)
    {
        private const int ScanUpTo = 16;
        private readonly Dictionary<string, ConsumerInfoDto>?[] _index = new Dictionary<string, ConsumerInfoDto>?[copies];

        public ConsumerInfoDto? Find(int copy, StreamDetailDto detail, string name)
        {
            var list = detail.ConsumerDetail;
            if (list is null) return null;
            if (list.Count <= ScanUpTo)
            {
                foreach (var ci in list)
                    if (ci.Name == name) return ci;
                return null;
            }
            if (_index[copy] is not { } index)
            {
                _index[copy] = index = new Dictionary<string, ConsumerInfoDto>(list.Count, StringComparer.Ordinal);
                foreach (var ci in list)
                    if (ci.Name is not null) index.TryAdd(ci.Name, ci);
            }
            return index.GetValueOrDefault(name);
        }
    }

    // The previous poll's copy by server: a replica list is short, so a scan, no index.
    private static StreamReplicaView? ByServer(IReadOnlyList<StreamReplicaView> items, string server)
    {
        for (int i = 0; i < items.Count; i++)
            if (items[i].Server == server) return items[i];
        return null;
    }

    private static ConsumerReplicaView? ByServer(IReadOnlyList<ConsumerReplicaView> items, string server)
    {
        for (int i = 0; i < items.Count; i++)
            if (items[i].Server == server) return items[i];
        return null;
    }

    private static ulong Behind(ulong leader, ulong own) => leader > own ? leader - own : 0;

    /// <summary>Consecutive disagreeing polls: +1 on a disagreement, 0 on an agreement; without a comparison an established divergence stays, a single disagreement is forgotten.</summary>
    private static int Streak(bool comparable, string? difference, int previous) =>
        comparable ? (difference is null ? 0 : previous + 1) : (previous >= DivergedAfterPolls ? previous : 0);

    /// <summary>"messages 25 (leader 50), bytes 10 (leader 20)": the fields that differ; null when none does.</summary>
    private static string? Differences(string name1, ulong own1, ulong leader1, string name2, ulong own2, ulong leader2, string name3, ulong own3, ulong leader3)
    {
        if (own1 == leader1 && own2 == leader2 && own3 == leader3) return null;
        var parts = new List<string>(3);
        if (own1 != leader1) parts.Add($"{name1} {own1} (leader {leader1})");
        if (own2 != leader2) parts.Add($"{name2} {own2} (leader {leader2})");
        if (own3 != leader3) parts.Add($"{name3} {own3} (leader {leader3})");
        return string.Join(", ", parts);
    }
}
