using System.Text.Json.Serialization;
using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Views;

[JsonConverter(typeof(JsonStringEnumConverter<Severity>))]
public enum Severity
{
    [JsonStringEnumMemberName("warning")] Warning = 1,
    [JsonStringEnumMemberName("critical")] Critical = 2,
}

/// <summary>
/// One thing an operator should look at. <see cref="Kind"/> is a stable identifier (see the
/// README table); <see cref="Message"/> is the sentence shown on the page and in the report.
/// </summary>
public sealed record Problem
{
    public required Severity Severity { get; init; }
    public required string Kind { get; init; }
    public required string Message { get; init; }
    public string? Account { get; init; }
    public string? Stream { get; init; }
    public string? Consumer { get; init; }
    /// <summary>The server the problem is about (a replica, a meta peer or a target).</summary>
    public string? Peer { get; init; }
}

/// <summary>The problems found in one snapshot, worst first, and what they add up to.</summary>
public sealed record HealthReport(IReadOnlyList<Problem> Problems)
{
    public Severity? Worst => Problems.Count == 0 ? null : Problems.Max(p => p.Severity);

    /// <summary>"healthy", "warning" or "critical".</summary>
    public string Status => Worst switch { Severity.Critical => "critical", Severity.Warning => "warning", _ => "healthy" };

    /// <summary>Nagios-style: 0 healthy, 1 warnings only, 2 at least one critical problem.</summary>
    public int ExitCode => Worst switch { Severity.Critical => 2, Severity.Warning => 1, _ => 0 };

    public int Count(Severity severity) => Problems.Count(p => p.Severity == severity);
}

/// <summary>
/// The one definition of "a problem", a pure function of the merged snapshot (and the clock,
/// for staleness). The status page, /api/v1/snapshot and the report command all call this.
///
/// Critical: no target answered; stale data; a meta group, stream or consumer without a
/// leader; a replicated stream that lost its quorum (fewer current, online replicas than a
/// majority). Warning: a target down; fewer servers known than expected; an outdated or offline stream replica, consumer replica
/// or meta peer; an under-replicated stream (fewer peers than replicas configured); a source
/// or mirror reporting an error.
/// </summary>
public static class HealthCheck
{
    /// <summary>Data older than this many poll intervals is stale.</summary>
    public const int StaleIntervals = 3;

    public static HealthReport Evaluate(ClusterSnapshot s, DateTimeOffset now)
    {
        var list = new List<Problem>();

        // Targets and freshness.
        if (s.Targets.Count > 0 && s.Targets.All(t => !t.Up))
            list.Add(new Problem { Severity = Severity.Critical, Kind = "no_data", Message = $"no server answered the last poll ({s.Targets.Count} targets down)" });
        else
            foreach (var t in s.Targets.Where(t => !t.Up))
                list.Add(new Problem
                {
                    Severity = Severity.Warning, Kind = "target_down", Peer = t.Label,
                    Message = $"server {t.Label} did not answer: {t.LastError ?? "no answer"}",
                });
        var (answered, expected) = Answered(s);
        long unheard = expected - s.Targets.Count;
        if (answered > 0 && unheard > 0)
            list.Add(new Problem
            {
                Severity = Severity.Warning, Kind = "servers_missing",
                Message = $"{answered} of {expected} expected servers answered; {unheard} not heard from at all (a cluster cut off behind its gateway, a server without JetStream, or a wrong --expected-servers)",
            });
        var age = now - s.CollectedAt;
        if (s.PollInterval > TimeSpan.Zero && age > StaleIntervals * s.PollInterval)
            list.Add(new Problem
            {
                Severity = Severity.Critical, Kind = "stale_data",
                Message = $"data is {Format.Duration(age.TotalSeconds)} old, more than {StaleIntervals} poll intervals ({Format.Duration(s.PollInterval.TotalSeconds)} each): the poller is stuck",
            });

        // Meta group.
        foreach (var g in s.MetaGroups)
        {
            if (!g.HasLeader)
            {
                list.Add(new Problem
                {
                    Severity = Severity.Critical, Kind = "meta_leader_missing",
                    Message = $"meta group {Label(g.Cluster)} has no leader: no stream or consumer can be created, changed or deleted",
                });
                continue;
            }
            foreach (var p in g.Peers.Where(p => !p.IsLeader))
            {
                if (p.Offline == true)
                    list.Add(new Problem { Severity = Severity.Warning, Kind = "meta_peer_offline", Peer = p.Name, Message = $"meta group peer {p.Name} is offline ({Format.PeerState(p)})" });
                else if (p.Current == false)
                    list.Add(new Problem { Severity = Severity.Warning, Kind = "meta_peer_outdated", Peer = p.Name, Message = $"meta group peer {p.Name} is outdated ({Format.PeerState(p)})" });
            }
        }

        // Streams and their consumers.
        foreach (var st in s.Streams)
        {
            string name = $"{st.Account} > {st.Name}";
            if (!st.HasLeader)
            {
                list.Add(new Problem
                {
                    Severity = Severity.Critical, Kind = "stream_leader_missing", Account = st.Account, Stream = st.Name,
                    Message = $"stream {name} has no leader: it accepts no writes",
                });
            }
            else if (st.ReplicasConfigured > 1 && st.Peers.Count > 0 && st.Peers.All(p => p.Current is not null))
            {
                long healthy = st.Peers.Count(Healthy);
                long quorum = st.ReplicasConfigured / 2 + 1;
                if (healthy < quorum)
                    list.Add(new Problem
                    {
                        Severity = Severity.Critical, Kind = "stream_quorum_lost", Account = st.Account, Stream = st.Name,
                        Message = $"stream {name} has {healthy} of {st.ReplicasConfigured} replicas current and online, fewer than the quorum of {quorum}",
                    });
            }
            if (st.ReplicasConfigured > 0 && st.Peers.Count < st.ReplicasConfigured)
                list.Add(new Problem
                {
                    Severity = Severity.Warning, Kind = "stream_under_replicated", Account = st.Account, Stream = st.Name,
                    Message = $"stream {name} has {st.Peers.Count} of {st.ReplicasConfigured} configured replicas{(st.Peers.Count > 0 ? $" ({string.Join(", ", st.Peers.Select(p => p.Name))})" : "")}",
                });
            foreach (var p in st.Peers.Where(p => !p.IsLeader))
            {
                if (p.Offline == true)
                    list.Add(new Problem { Severity = Severity.Warning, Kind = "replica_offline", Account = st.Account, Stream = st.Name, Peer = p.Name, Message = $"stream {name}: replica {p.Name} is offline ({Format.PeerState(p)})" });
                else if (p.Current == false)
                    list.Add(new Problem { Severity = Severity.Warning, Kind = "replica_outdated", Account = st.Account, Stream = st.Name, Peer = p.Name, Message = $"stream {name}: replica {p.Name} is outdated ({Format.PeerState(p)})" });
            }
            if (st.Mirror is { Error: { } mirrorError })
                list.Add(new Problem { Severity = Severity.Warning, Kind = "mirror_error", Account = st.Account, Stream = st.Name, Message = $"stream {name}: mirror of {st.Mirror.Name} reports an error: {mirrorError}" });
            foreach (var src in st.Sources.Where(x => x.Error is not null))
                list.Add(new Problem { Severity = Severity.Warning, Kind = "source_error", Account = st.Account, Stream = st.Name, Message = $"stream {name}: source {src.Name} reports an error: {src.Error}" });

            foreach (var c in st.Consumers)
            {
                string cname = $"consumer {name} > {c.Name}";
                if (!c.HasLeader)
                {
                    list.Add(new Problem { Severity = Severity.Critical, Kind = "consumer_leader_missing", Account = st.Account, Stream = st.Name, Consumer = c.Name, Message = $"{cname} has no leader: nothing is delivered" });
                    continue;
                }
                foreach (var p in c.Peers.Where(p => !p.IsLeader))
                {
                    if (p.Offline == true)
                        list.Add(new Problem { Severity = Severity.Warning, Kind = "consumer_replica_offline", Account = st.Account, Stream = st.Name, Consumer = c.Name, Peer = p.Name, Message = $"{cname}: replica {p.Name} is offline ({Format.PeerState(p)})" });
                    else if (p.Current == false)
                        list.Add(new Problem { Severity = Severity.Warning, Kind = "consumer_replica_outdated", Account = st.Account, Stream = st.Name, Consumer = c.Name, Peer = p.Name, Message = $"{cname}: replica {p.Name} is outdated ({Format.PeerState(p)})" });
                }
            }
        }

        // Worst first; within a severity, keep the order above (cluster-wide before streams before consumers).
        var ordered = list.Select((p, i) => (p, i)).OrderByDescending(x => x.p.Severity).ThenBy(x => x.i).Select(x => x.p).ToArray();
        return new HealthReport(ordered);
    }

    /// <summary>
    /// Servers that answered the last poll, and the servers expected: the configured or discovered
    /// count, or the targets known, whichever is larger. The "n/m servers answered" of every view.
    /// </summary>
    public static (int Answered, long Expected) Answered(ClusterSnapshot s) =>
        (s.Targets.Count(t => t.Up), Math.Max(s.ServersExpected ?? 0, s.Targets.Count));

    /// <summary>A replica that is current and online (unknown health is not healthy).</summary>
    public static bool Healthy(PeerView p) => p.Current == true && p.Offline != true;

    /// <summary>A replica the leader reports outdated or offline (the `!` of the placement column).</summary>
    public static bool Unhealthy(PeerView p) => p.Current == false || p.Offline == true;

    private static string Label(string cluster) => cluster.Length == 0 ? "(unnamed)" : cluster;
}
