using System.Text.Json.Serialization;
using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Views;

[JsonConverter(typeof(JsonStringEnumConverter<Severity>))]
public enum Severity
{
    [JsonStringEnumMemberName("warning")] Warning = 1,
    [JsonStringEnumMemberName("critical")] Critical = 2,
}

/// <summary>The fixed set of problem kinds (the README's table). Each has one severity, see <see cref="ProblemKinds.SeverityOf"/>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ProblemKind>))]
public enum ProblemKind
{
    [JsonStringEnumMemberName("no_data")] NoData,
    [JsonStringEnumMemberName("stale_data")] StaleData,
    [JsonStringEnumMemberName("meta_leader_missing")] MetaLeaderMissing,
    [JsonStringEnumMemberName("stream_unreachable")] StreamUnreachable,
    [JsonStringEnumMemberName("stream_leader_missing")] StreamLeaderMissing,
    [JsonStringEnumMemberName("stream_quorum_lost")] StreamQuorumLost,
    [JsonStringEnumMemberName("consumer_leader_missing")] ConsumerLeaderMissing,
    [JsonStringEnumMemberName("target_down")] TargetDown,
    [JsonStringEnumMemberName("servers_missing")] ServersMissing,
    [JsonStringEnumMemberName("servers_not_polled")] ServersNotPolled,
    [JsonStringEnumMemberName("meta_peer_outdated")] MetaPeerOutdated,
    [JsonStringEnumMemberName("meta_peer_offline")] MetaPeerOffline,
    [JsonStringEnumMemberName("stream_under_replicated")] StreamUnderReplicated,
    [JsonStringEnumMemberName("replica_outdated")] ReplicaOutdated,
    [JsonStringEnumMemberName("replica_offline")] ReplicaOffline,
    [JsonStringEnumMemberName("mirror_error")] MirrorError,
    [JsonStringEnumMemberName("source_error")] SourceError,
    [JsonStringEnumMemberName("consumer_replica_outdated")] ConsumerReplicaOutdated,
    [JsonStringEnumMemberName("consumer_replica_offline")] ConsumerReplicaOffline,
    [JsonStringEnumMemberName("quorum_lost")] QuorumLost,
    [JsonStringEnumMemberName("quorum_at_risk")] QuorumAtRisk,
    [JsonStringEnumMemberName("raft_applied_behind")] RaftAppliedBehind,
    [JsonStringEnumMemberName("raft_wal_error")] RaftWalError,
    [JsonStringEnumMemberName("meta_leader_disagreement")] MetaLeaderDisagreement,
    [JsonStringEnumMemberName("meta_size_mismatch")] MetaSizeMismatch,
    [JsonStringEnumMemberName("healthz_error")] HealthzError,
    [JsonStringEnumMemberName("replica_diverged")] ReplicaDiverged,
    [JsonStringEnumMemberName("replica_behind")] ReplicaBehind,
    [JsonStringEnumMemberName("monitor_threshold_invalid")] MonitorThresholdInvalid,
}

public static class ProblemKinds
{
    /// <summary>The one severity of each kind.</summary>
    public static Severity SeverityOf(ProblemKind kind) => kind switch
    {
        ProblemKind.NoData or ProblemKind.StaleData or ProblemKind.MetaLeaderMissing or ProblemKind.StreamUnreachable
            or ProblemKind.StreamLeaderMissing or ProblemKind.StreamQuorumLost or ProblemKind.ConsumerLeaderMissing
            or ProblemKind.QuorumLost or ProblemKind.RaftWalError or ProblemKind.ReplicaDiverged => Severity.Critical,
        _ => Severity.Warning,
    };

    /// <summary>The stable identifier, as in the JSON and the README: replica_outdated.</summary>
    public static string Id(ProblemKind kind) => kind switch
    {
        ProblemKind.NoData => "no_data",
        ProblemKind.StaleData => "stale_data",
        ProblemKind.MetaLeaderMissing => "meta_leader_missing",
        ProblemKind.StreamUnreachable => "stream_unreachable",
        ProblemKind.StreamLeaderMissing => "stream_leader_missing",
        ProblemKind.StreamQuorumLost => "stream_quorum_lost",
        ProblemKind.ConsumerLeaderMissing => "consumer_leader_missing",
        ProblemKind.TargetDown => "target_down",
        ProblemKind.ServersMissing => "servers_missing",
        ProblemKind.ServersNotPolled => "servers_not_polled",
        ProblemKind.MetaPeerOutdated => "meta_peer_outdated",
        ProblemKind.MetaPeerOffline => "meta_peer_offline",
        ProblemKind.StreamUnderReplicated => "stream_under_replicated",
        ProblemKind.ReplicaOutdated => "replica_outdated",
        ProblemKind.ReplicaOffline => "replica_offline",
        ProblemKind.MirrorError => "mirror_error",
        ProblemKind.SourceError => "source_error",
        ProblemKind.ConsumerReplicaOutdated => "consumer_replica_outdated",
        ProblemKind.ConsumerReplicaOffline => "consumer_replica_offline",
        ProblemKind.QuorumLost => "quorum_lost",
        ProblemKind.QuorumAtRisk => "quorum_at_risk",
        ProblemKind.RaftAppliedBehind => "raft_applied_behind",
        ProblemKind.RaftWalError => "raft_wal_error",
        ProblemKind.MetaLeaderDisagreement => "meta_leader_disagreement",
        ProblemKind.MetaSizeMismatch => "meta_size_mismatch",
        ProblemKind.HealthzError => "healthz_error",
        ProblemKind.ReplicaDiverged => "replica_diverged",
        ProblemKind.ReplicaBehind => "replica_behind",
        ProblemKind.MonitorThresholdInvalid => "monitor_threshold_invalid",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}

/// <summary>A stream's identity in every view and URL: two JetStream domains may hold equally named streams.</summary>
public readonly record struct StreamKey(string Domain, string Account, string Name)
{
    public static StreamKey Of(StreamView s) => new(s.Domain, s.Account, s.Name);

    /// <summary>"APP > ORDERS", or "west: APP > ORDERS" in a domain.</summary>
    public override string ToString() => (Domain.Length == 0 ? "" : Domain + ": ") + Account + " > " + Name;
}

/// <summary>
/// One thing an operator should look at: a <see cref="Kind"/> from a fixed set (its severity
/// follows from it) and the identity of what it is about (domain, account, stream, consumer,
/// server, source: null when not applicable). <see cref="Message"/> is the sentence shown on the
/// page and in the report; no view reads it to decide anything.
/// </summary>
public sealed record Problem
{
    public required ProblemKind Kind { get; init; }
    public Severity Severity => ProblemKinds.SeverityOf(Kind);
    public required string Message { get; init; }
    /// <summary>The JetStream domain of the stream, consumer or meta group ("" when none is configured; null for cluster-wide problems).</summary>
    public string? Domain { get; init; }
    public string? Account { get; init; }
    public string? Stream { get; init; }
    public string? Consumer { get; init; }
    /// <summary>The server the problem is about (a replica, a meta peer or a target).</summary>
    public string? Server { get; init; }
    /// <summary>The same as <see cref="Server"/>: the schema-1 name of the field, kept for scripts that read it.</summary>
    public string? Peer => Server;
    /// <summary>The mirrored or sourced stream a mirror_error or source_error is about.</summary>
    public string? Source { get; init; }

    [JsonIgnore]
    public StreamKey? StreamKey => Stream is null || Account is null ? null : new StreamKey(Domain ?? "", Account, Stream);
}

/// <summary>The problems found in one snapshot, worst first, what they add up to, and who they are about.</summary>
public sealed record HealthReport(IReadOnlyList<Problem> Problems)
{
    public Severity? Worst => Problems.Count == 0 ? null : Problems.Max(p => p.Severity);

    /// <summary>"healthy", "warning" or "critical".</summary>
    public string Status => Worst switch { Severity.Critical => "critical", Severity.Warning => "warning", _ => "healthy" };

    /// <summary>Nagios-style: 0 healthy, 1 warnings only, 2 at least one critical problem.</summary>
    public int ExitCode => Worst switch { Severity.Critical => 2, Severity.Warning => 1, _ => 0 };

    public int Count(Severity severity) => Problems.Count(p => p.Severity == severity);

    /// <summary>Every problem about the stream, its replicas and its consumers.</summary>
    public IEnumerable<Problem> ForStream(StreamKey key) => Problems.Where(p => p.StreamKey == key);

    /// <summary>Problems about the stream itself or one of its replicas (not its consumers).</summary>
    public bool StreamHasProblem(StreamKey key) => ForStream(key).Any(p => p.Consumer is null);

    /// <summary>A problem about this replica of the stream (the `!` of the placement column).</summary>
    public bool StreamReplicaHasProblem(StreamKey key, string server) => ForStream(key).Any(p => p.Consumer is null && p.Server == server);

    public bool ConsumerHasProblem(StreamKey key, string consumer) => ForStream(key).Any(p => p.Consumer == consumer);

    public bool ConsumerReplicaHasProblem(StreamKey key, string consumer, string server) => ForStream(key).Any(p => p.Consumer == consumer && p.Server == server);

    public bool StreamLeaderMissing(StreamKey key) =>
        ForStream(key).Any(p => p.Kind is ProblemKind.StreamLeaderMissing or ProblemKind.StreamUnreachable);

    public bool SourceHasProblem(StreamKey key, ProblemKind kind, string source) => ForStream(key).Any(p => p.Kind == kind && p.Source == source);

    /// <summary>A down target, by its label (server name, or URL until the name is known); with no_data, every target is.</summary>
    public bool ServerDown(string label) => Problems.Any(p => (p.Kind == ProblemKind.TargetDown && p.Server == label) || p.Kind == ProblemKind.NoData);

    public bool MetaLeaderMissing(MetaGroupView g) => Problems.Any(p => p.Kind == ProblemKind.MetaLeaderMissing && p.Domain == g.Domain);

    public bool MetaPeerHasProblem(MetaGroupView g, string server) =>
        Problems.Any(p => p.Kind is ProblemKind.MetaPeerOffline or ProblemKind.MetaPeerOutdated && p.Domain == g.Domain && p.Server == server);
}

/// <summary>
/// The one place problems are made: a pure function of the merged snapshot (and the clock, for
/// staleness). The status page, the stream table markers, /api/v1/snapshot and the report command
/// all read the <see cref="HealthReport"/> this returns; none of them decides on its own.
/// </summary>
public static class HealthCheck
{
    /// <summary>Data older than this many poll intervals is stale.</summary>
    public const int StaleIntervals = 3;

    public static HealthReport Evaluate(ClusterSnapshot s, DateTimeOffset now)
    {
        var list = new List<Problem>();
        void Add(ProblemKind kind, string message, string? domain = null, string? account = null, string? stream = null,
            string? consumer = null, string? server = null, string? source = null) =>
            list.Add(new Problem { Kind = kind, Message = message, Domain = domain, Account = account, Stream = stream, Consumer = consumer, Server = server, Source = source });

        // Targets and freshness. Every down target says why, also when none answered (then in the one no_data problem).
        if (s.Targets.Count > 0 && s.Targets.All(t => !t.Up))
            Add(ProblemKind.NoData, $"no server answered the last poll ({s.Targets.Count} {(s.Targets.Count == 1 ? "target" : "targets")} down): " +
                string.Join("; ", s.Targets.Select(t => $"{t.Label}: {t.LastError ?? "no answer"}")));
        else
            foreach (var t in s.Targets.Where(t => !t.Up))
                Add(ProblemKind.TargetDown, $"server {t.Label} did not answer: {t.LastError ?? "no answer"}", server: t.Label);
        var (answered, expected) = Answered(s);
        if (s.ServersNotPolled > 0)
            Add(ProblemKind.ServersNotPolled,
                $"the meta group counts {s.ServersDiscovered} servers but only {s.Targets.Count} {(s.Targets.Count == 1 ? "monitor URL is" : "monitor URLs are")} polled: " +
                $"{s.ServersNotPolled} {(s.ServersNotPolled == 1 ? "server was" : "servers were")} never polled and {(s.ServersNotPolled == 1 ? "its" : "their")} state is unknown; give every server's monitor URL in --monitor-urls");
        else if (answered > 0 && expected - s.Targets.Count is > 0 and var unheard)
            Add(ProblemKind.ServersMissing,
                $"{answered} of {expected} expected servers answered; {unheard} not heard from at all (a cluster cut off behind its gateway, a server without JetStream, or a wrong --expected-servers)");
        var age = now - s.CollectedAt;
        if (s.PollInterval > TimeSpan.Zero && age > StaleIntervals * s.PollInterval)
            Add(ProblemKind.StaleData,
                $"data is {Format.Duration(age.TotalSeconds)} old, more than {StaleIntervals} poll intervals ({Format.Duration(s.PollInterval.TotalSeconds)} each): the poller is stuck");

        // Meta groups (one per domain).
        foreach (var g in s.MetaGroups)
        {
            string group = "meta group " + (g.Cluster.Length == 0 ? "(unnamed)" : g.Cluster) + (g.Domain.Length == 0 ? "" : $" (domain {g.Domain})");
            if (!g.HasLeader)
            {
                Add(ProblemKind.MetaLeaderMissing, $"{group} has no leader: no stream or consumer can be created, changed or deleted", domain: g.Domain);
                continue;
            }
            if (Quorum.Margin(g) is { } metaMargin)
            {
                if (metaMargin < 0)
                    Add(ProblemKind.QuorumLost, $"{group}: {metaMargin + Quorum.Needed(g.ClusterSize)} of {g.ClusterSize} peers current and online, fewer than the quorum of {Quorum.Needed(g.ClusterSize)}", domain: g.Domain);
                else if (metaMargin == 0 && g.ClusterSize >= 3)
                    Add(ProblemKind.QuorumAtRisk, $"{group}: exactly the quorum of {Quorum.Needed(g.ClusterSize)} of {g.ClusterSize} peers is current and online: one more failure loses it", domain: g.Domain);
            }
            if (s.Raft.Meta.FirstOrDefault(a => a.Cluster == g.Cluster && a.Domain == g.Domain) is { } agreement)
            {
                if (agreement.LeadersNamed > 1)
                    Add(ProblemKind.MetaLeaderDisagreement, $"{group}: servers name different meta leaders ({string.Join(", ", agreement.NamedBy.Select(kv => $"{kv.Key} says {(kv.Value.Length == 0 ? "none" : kv.Value)}"))})", domain: g.Domain);
                if (agreement.PeersKnownToLeader is { } knownPeers && g.ClusterSize > knownPeers)
                    Add(ProblemKind.MetaSizeMismatch, $"{group}: cluster_size is {g.ClusterSize} but the meta leader knows {knownPeers} peers: a quorum is counted against servers that do not exist (nats-server issue 6403); remove stale peers (nats server raft peer-remove)", domain: g.Domain);
            }
            foreach (var p in g.Peers.Where(p => !p.IsLeader))
            {
                if (p.Offline == true)
                    Add(ProblemKind.MetaPeerOffline, $"{group} peer {p.Name} is offline ({Format.PeerState(p)})", domain: g.Domain, server: p.Name);
                else if (p.Current == false)
                    Add(ProblemKind.MetaPeerOutdated, $"{group} peer {p.Name} is outdated ({Format.PeerState(p)})", domain: g.Domain, server: p.Name);
            }
        }

        // Streams and their consumers.
        foreach (var st in s.Streams)
        {
            string name = StreamKey.Of(st).ToString();
            void AddStream(ProblemKind kind, string message, string? consumer = null, string? server = null, string? source = null) =>
                Add(kind, message, st.Domain, st.Account, st.Name, consumer, server, source);

            if (!st.Reachable)
            {
                AddStream(ProblemKind.StreamUnreachable,
                    $"stream {name} is unreachable: every server hosting it ({string.Join(", ", st.Peers.Select(p => p.Name))}) failed this poll; its state is unknown");
                continue;
            }
            if (!st.HasLeader)
                AddStream(ProblemKind.StreamLeaderMissing, $"stream {name} has no leader: it accepts no writes");
            else if (st.ReplicasConfigured > 1 && st.Peers.Count > 0 && st.Peers.All(p => p.Current is not null))
            {
                long healthy = st.Peers.Count(Healthy);
                long quorum = st.ReplicasConfigured / 2 + 1;
                if (healthy < quorum)
                    AddStream(ProblemKind.StreamQuorumLost,
                        $"stream {name} has {healthy} of {st.ReplicasConfigured} replicas current and online, fewer than the quorum of {quorum}");
            }
            if (st.HasLeader && st.ReplicasConfigured >= 3 && Quorum.Margin(st) == 0)
                AddStream(ProblemKind.QuorumAtRisk, $"stream {name}: exactly the quorum of {Quorum.Needed(st.ReplicasConfigured)} of {st.ReplicasConfigured} replicas is current and online: one more failure loses it");
            if (st.ReplicasConfigured > 0 && st.Peers.Count < st.ReplicasConfigured)
                AddStream(ProblemKind.StreamUnderReplicated,
                    $"stream {name} has {st.Peers.Count} of {st.ReplicasConfigured} configured replicas{(st.Peers.Count > 0 ? $" ({string.Join(", ", st.Peers.Select(p => p.Name))})" : "")}");
            foreach (var p in st.Peers.Where(p => !p.IsLeader))
            {
                if (p.Offline == true)
                    AddStream(ProblemKind.ReplicaOffline, $"stream {name}: replica {p.Name} is offline ({Format.PeerState(p)})", server: p.Name);
                else if (p.Current == false)
                    AddStream(ProblemKind.ReplicaOutdated, $"stream {name}: replica {p.Name} is outdated ({Format.PeerState(p)})", server: p.Name);
            }
            foreach (var r in st.Replicas)
            {
                if (r.Diverged)
                    AddStream(ProblemKind.ReplicaDiverged,
                        $"stream {name}: replica {r.Server}'s own copy differs from the leader's at the same last sequence {r.LastSeq} ({r.Difference}) in {r.DisagreeingPolls} consecutive polls", server: r.Server);
                else if (r.FallingBehind)
                    AddStream(ProblemKind.ReplicaBehind,
                        $"stream {name}: replica {r.Server}'s own copy is {r.BehindMessages} messages behind the leader (last sequence {r.LastSeq}) and did not reach where the leader was one poll ago", server: r.Server);
            }
            if (st.Mirror is { Error: { } mirrorError })
                AddStream(ProblemKind.MirrorError, $"stream {name}: mirror of {st.Mirror.Name} reports an error: {mirrorError}", source: st.Mirror.Name);
            foreach (var src in st.Sources.Where(x => x.Error is not null))
                AddStream(ProblemKind.SourceError, $"stream {name}: source {src.Name} reports an error: {src.Error}", source: src.Name);
            foreach (var x in st.Monitor?.Invalid ?? [])
                AddStream(ProblemKind.MonitorThresholdInvalid, MonitorThresholds.Describe(st.Domain, st.Account, st.Name, null, x));

            foreach (var c in st.Consumers)
            {
                string cname = $"consumer {name} > {c.Name}";
                foreach (var x in c.Monitor?.Invalid ?? [])
                    AddStream(ProblemKind.MonitorThresholdInvalid, MonitorThresholds.Describe(st.Domain, st.Account, st.Name, c.Name, x), consumer: c.Name);
                if (!c.HasLeader)
                {
                    AddStream(ProblemKind.ConsumerLeaderMissing, $"{cname} has no leader: nothing is delivered", consumer: c.Name);
                    continue;
                }
                if (Quorum.Margin(c) is { } cm)
                {
                    if (cm < 0)
                        AddStream(ProblemKind.QuorumLost, $"{cname}: {cm + Quorum.Needed(c.Peers.Count)} of {c.Peers.Count} replicas current and online, fewer than the quorum of {Quorum.Needed(c.Peers.Count)}", consumer: c.Name);
                    else if (cm == 0 && c.Peers.Count >= 3)
                        AddStream(ProblemKind.QuorumAtRisk, $"{cname}: exactly the quorum of {Quorum.Needed(c.Peers.Count)} of {c.Peers.Count} replicas is current and online: one more failure loses it", consumer: c.Name);
                }
                foreach (var r in c.Replicas)
                {
                    if (r.Diverged)
                        AddStream(ProblemKind.ReplicaDiverged,
                            $"{cname}: replica {r.Server}'s own state differs from the leader's at the same delivered stream sequence {r.DeliveredStreamSeq} ({r.Difference}) in {r.DisagreeingPolls} consecutive polls", consumer: c.Name, server: r.Server);
                    else if (r.FallingBehind)
                        AddStream(ProblemKind.ReplicaBehind,
                            $"{cname}: replica {r.Server} has delivered {r.BehindMessages} stream sequences fewer than the leader and did not reach where the leader was one poll ago", consumer: c.Name, server: r.Server);
                }
                foreach (var p in c.Peers.Where(p => !p.IsLeader))
                {
                    if (p.Offline == true)
                        AddStream(ProblemKind.ConsumerReplicaOffline, $"{cname}: replica {p.Name} is offline ({Format.PeerState(p)})", consumer: c.Name, server: p.Name);
                    else if (p.Current == false)
                        AddStream(ProblemKind.ConsumerReplicaOutdated, $"{cname}: replica {p.Name} is outdated ({Format.PeerState(p)})", consumer: c.Name, server: p.Name);
                }
            }
        }

        // The servers' own Raft state (/raftz, 2.11+).
        foreach (var g in s.Raft.Groups)
        {
            string what = g.Kind switch
            {
                RaftGroupKind.Meta => "meta group " + g.Cluster,
                RaftGroupKind.Stream => $"stream {new StreamKey(g.Domain, g.Account, g.Stream)}",
                _ => $"consumer {new StreamKey(g.Domain, g.Account, g.Stream)} > {g.Consumer}",
            };
            string? account = g.Kind == RaftGroupKind.Meta ? null : g.Account, stream = g.Kind == RaftGroupKind.Meta ? null : g.Stream;
            string? consumer = g.Kind == RaftGroupKind.Consumer ? g.Consumer : null;
            foreach (var r in g.Replicas)
            {
                if (r.WalError)
                    Add(ProblemKind.RaftWalError, $"{what}: the Raft log (WAL) on {r.Server} reports an error; that copy stopped storing", g.Domain, account, stream, consumer, r.Server);
                if (r.ApplyStalled || r.CatchingUp)
                    Add(ProblemKind.RaftAppliedBehind, $"{what}: {r.Server} has applied {r.Applied} of {r.Committed} committed entries{(r.CatchingUp ? " and is catching up" : " and is not keeping up")}", g.Domain, account, stream, consumer, r.Server);
            }
        }

        // Each server's own health check (it sees what a group leader does not, e.g. its own catch-up).
        foreach (var h in s.Healthz ?? [])
        {
            if (h.Healthy != false) continue;
            if (h.Issues.Count == 0)
                Add(ProblemKind.HealthzError, $"server {h.Server}: its health check fails: {h.Error ?? h.Status ?? "unhealthy"}", server: h.Server);
            foreach (var i in h.Issues)
                Add(ProblemKind.HealthzError, $"server {h.Server}: its health check fails for {HealthzTable.Asset(h, i)}: {i.Error}",
                    domain: i.Account is null ? null : h.Domain, account: i.Account, stream: i.Stream, consumer: i.Consumer, server: h.Server);
        }

        // Worst first; within a severity, keep the order above (cluster-wide before streams before consumers).
        var ordered = list.Select((p, i) => (p, i)).OrderByDescending(x => x.p.Severity).ThenBy(x => x.i).Select(x => x.p).ToArray();
        return new HealthReport(ordered);
    }

    /// <summary>
    /// Servers that answered the last poll, and the servers expected (<see cref="ClusterSnapshot.ExpectedServerCount"/>).
    /// The "n/m servers answered" of every view.
    /// </summary>
    public static (int Answered, long Expected) Answered(ClusterSnapshot s) =>
        (s.Targets.Count(t => t.Up), s.ExpectedServerCount);

    /// <summary>A replica that is current and online (unknown health is not healthy): counts towards the quorum.</summary>
    private static bool Healthy(PeerView p) => p.Current == true && p.Offline != true;
}
