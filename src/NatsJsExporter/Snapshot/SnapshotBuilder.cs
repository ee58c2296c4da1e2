using System.Runtime.InteropServices;
using NatsJsExporter.Options;
using NatsJsExporter.Model;
using NatsJsExporter.Sources;

namespace NatsJsExporter.Snapshot;

/// <summary>Everything one merge needs: this poll's reports, the target states, and the previous snapshot.</summary>
public sealed record SnapshotInput
{
    public required IReadOnlyList<ServerReport> Reports { get; init; }
    public required IReadOnlyList<TargetView> Targets { get; init; }
    public required DateTimeOffset CollectedAt { get; init; }
    public required TimeSpan PollDuration { get; init; }
    public required TimeSpan PollInterval { get; init; }
    /// <summary>Names of every server the exporter polls, up or down: a leader named by followers but not among these is trusted.</summary>
    public IReadOnlySet<string>? KnownServers { get; init; }
    public ClusterSnapshot? Previous { get; init; }
    public SnapshotFilter Filter { get; init; } = SnapshotFilter.None;
}

public sealed record SnapshotResult(ClusterSnapshot Snapshot, IReadOnlyList<string> Conflicts);

/// <summary>Merges per-server /jsz answers into one cluster snapshot. Pure: no I/O, no clock.</summary>
public static class SnapshotBuilder
{
    private const ulong Unlimited = ulong.MaxValue;

    public static SnapshotResult Build(SnapshotInput input)
    {
        // Servers that answered describe themselves (even with JetStream disabled); only
        // JetStream-enabled answers contribute meta group, account and stream data.
        var answered = input.Reports
            .Where(r => r.Jsz is not null && r.ServerName is not null)
            .OrderBy(r => r.ServerName, StringComparer.Ordinal)
            .ToList();
        var ok = answered.Where(r => !r.Jsz!.Disabled).ToList();
        var known = new HashSet<string>(input.KnownServers ?? (IEnumerable<string>)[], StringComparer.Ordinal);
        foreach (var r in input.Reports)
            if (r.ServerName is not null) known.Add(r.ServerName);

        var conflicts = new List<string>();
        var history = new LeaderHistory(input.Previous?.LeaderHistory, input.CollectedAt);
        // Clusters of servers that did not answer this poll but were seen before (varz or envelope):
        // they keep a super-cluster's meta group label stable while a whole cluster is down.
        var clusterOfServer = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var r in input.Reports)
            if (r.ServerName is not null && !string.IsNullOrEmpty(r.ClusterName)) clusterOfServer[r.ServerName] = r.ClusterName;
        var metaGroups = BuildMetaGroups(ok, known, clusterOfServer, history, conflicts);
        var metaLeaders = new HashSet<string>(metaGroups.Where(g => g.HasLeader && g.Leader is not null).Select(g => g.Leader!), StringComparer.Ordinal);
        var servers = answered.Select(r => BuildServer(r, metaLeaders)).ToArray();
        // Servers that omit `paused` when false (2.11+): their consumers are unpaused, not unknown.
        var reportsPaused = ok.Where(r => JszFeatures.ReportsPaused(ServerVersion.Parse(r.ServerVersion)) && r.ServerName is not null)
            .Select(r => r.ServerName!).ToHashSet(StringComparer.Ordinal);
        var comparison = ReplicaComparison.Context.For(ok, input.Filter);
        var streams = BuildStreams(ok, known, history, input.Filter, conflicts, reportsPaused, comparison, new MergeStrings(), new PreviousStreams(input.Previous));
        streams = CarryUnreachable(streams, input.Previous, input.Reports, history, input.Filter);
        var accounts = BuildAccounts(ok, metaLeaders, streams, input.Filter);

        var snapshot = new ClusterSnapshot
        {
            CollectedAt = input.CollectedAt,
            PollDuration = input.PollDuration,
            PollInterval = input.PollInterval,
            Targets = input.Targets,
            Servers = servers,
            MetaGroups = metaGroups,
            Accounts = accounts,
            Streams = streams,
            Raft = RaftViews.Build(ok, metaGroups, streams, input.Previous?.Raft),
            ConflictsTotal = (input.Previous?.ConflictsTotal ?? 0) + conflicts.Count,
            ServersDiscovered = Math.Max(input.Previous?.ServersDiscovered ?? 0, Saturating.Sum(metaGroups, g => g.ClusterSize)),
            LeaderHistory = history.Result(),
            Healthz = HealthzViews.Build(input.Reports, servers),
        };
        return new SnapshotResult(snapshot, conflicts);
    }

    private static string ClusterOf(ServerReport r) => r.ClusterName ?? r.Jsz!.MetaCluster?.Name ?? "";

    /// <summary>The JetStream domain the server belongs to ("" when none is configured).</summary>
    private static string DomainOf(ServerReport r) => r.Jsz!.Config?.Domain ?? "";

    private static ulong? Limit(long value) => value > 0 ? (ulong)value : null;

    private static ulong? Limit(ulong value) => value is > 0 and < Unlimited ? value : null;

    private static ServerView BuildServer(ServerReport r, HashSet<string> metaLeaders)
    {
        var j = r.Jsz!;
        return new ServerView
        {
            Name = r.ServerName!,
            Cluster = ClusterOf(r),
            Domain = DomainOf(r),
            Version = r.ServerVersion ?? "",
            JetStreamEnabled = !j.Disabled,
            Streams = j.Streams,
            Consumers = j.Consumers,
            Messages = j.Messages,
            Bytes = j.Bytes,
            MemoryBytes = j.Memory,
            StorageBytes = j.Storage,
            MaxMemoryBytes = Limit(j.Config?.MaxMemory ?? 0),
            MaxStorageBytes = Limit(j.Config?.MaxStorage ?? 0),
            ApiRequests = j.Api?.Total ?? 0,
            ApiErrors = j.Api?.Errors ?? 0,
            ApiInflight = j.Api?.Inflight,
            ApiLevel = j.Api?.Level,
            HaAssets = j.HaAssets,
            // Omitted when 0 by the servers that report them (with raft=true): 0 there, unknown before.
            StreamLeaders = j.StreamsLeader ?? (JszFeatures.ReportsLeaderCounts(ServerVersion.Parse(r.ServerVersion)) ? 0 : null),
            ConsumerLeaders = j.ConsumersLeader ?? (JszFeatures.ReportsLeaderCounts(ServerVersion.Parse(r.ServerVersion)) ? 0 : null),
            IsMetaLeader = metaLeaders.Contains(r.ServerName!),
        };
    }

    // ---- meta group ---------------------------------------------------------------------

    private static MetaGroupView[] BuildMetaGroups(List<ServerReport> ok, HashSet<string> known, Dictionary<string, string> clusterOfServer,
        LeaderHistory history, List<string> conflicts)
    {
        var members = ok.Where(r => r.Jsz!.MetaCluster is not null && !r.Jsz.Disabled).ToList();
        if (members.Count == 0) return [];

        // Servers of one cluster (within one JetStream domain) share a meta group; a named leader
        // (and the leader's peer list) joins the clusters of a super-cluster into one group.
        // Each domain has its own meta group, so clusters of different domains never join.
        var uf = new UnionFind();
        foreach (var r in members)
        {
            var m = r.Jsz!.MetaCluster!;
            uf.Union("server:" + r.ServerName, "cluster:" + DomainOf(r) + "\u0000" + ClusterOf(r));
            if (!string.IsNullOrEmpty(m.Leader)) uf.Union("server:" + r.ServerName, "server:" + m.Leader);
            foreach (var p in m.Replicas ?? [])
                if (!string.IsNullOrEmpty(p.Name)) uf.Union("server:" + r.ServerName, "server:" + p.Name);
        }

        var result = new List<MetaGroupView>();
        foreach (var group in members.GroupBy(r => uf.Find("server:" + r.ServerName)))
        {
            var reports = group.ToList();
            var replicas = reports
                .Select(r => new ReplicaReport<MetaClusterDto>(r.ServerName!, true, r.Jsz!.MetaCluster!,
                    new ClusterInfoDto { Name = ClusterOf(r), Leader = r.Jsz.MetaCluster!.Leader, Replicas = r.Jsz.MetaCluster.Replicas }, 0))
                .ToList();
            var res = ReplicaGroup.Resolve(CollectionsMarshal.AsSpan(replicas), known);
            // One meta group per super-cluster: labelled with the alphabetically first cluster name
            // among its members, counting members that did not answer this poll but whose cluster
            // is known, so the label does not move while one cluster is down.
            var memberClusters = reports.Select(ClusterOf)
                .Concat(res.Peers.Select(p => clusterOfServer.GetValueOrDefault(p.Name)).OfType<string>());
            string label = memberClusters.Order(StringComparer.Ordinal).First();
            string domain = reports.Select(DomainOf).Order(StringComparer.Ordinal).Last();
            if (res.Claimants.Count > 1)
                conflicts.Add($"meta group {label}: servers {string.Join(", ", res.Claimants)} all claim leadership; using {res.Leader}");
            var fromLeader = res.HasLeader && res.Leader == res.StateSource.Server ? res.StateSource.Item : null;
            var (changes, lastKnown) = history.Observe(LeaderGroupKey.MetaGroup(domain, label), res.HasLeader ? res.Leader : null);
            result.Add(new MetaGroupView
            {
                Cluster = label,
                Domain = domain,
                Clusters = memberClusters.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray(),
                Leader = res.Leader,
                HasLeader = res.HasLeader,
                ClusterSize = fromLeader?.ClusterSize ?? reports.Max(r => r.Jsz!.MetaCluster!.ClusterSize),
                Pending = fromLeader?.Pending,
                SnapshotPendingEntries = fromLeader?.Snapshot?.PendingEntries,
                SnapshotPendingBytes = fromLeader?.Snapshot?.PendingSize,
                Peers = res.Peers,
                LeaderChanges = changes,
                LastKnownLeader = lastKnown,
            });
        }
        return result.OrderBy(g => g.Domain, StringComparer.Ordinal).ThenBy(g => g.Cluster, StringComparer.Ordinal).ToArray();
    }

    // ---- streams and consumers ----------------------------------------------------------

    private static StreamView[] BuildStreams(List<ServerReport> ok, HashSet<string> known, LeaderHistory history, SnapshotFilter filter, List<string> conflicts,
        HashSet<string> reportsPaused, ReplicaComparison.Context? comparison, MergeStrings strings, PreviousStreams previous)
    {
        // A stream is (domain, account, name): two JetStream domains may hold equally named streams.
        // Sized for the largest answer (every server usually lists most streams), so it never regrows.
        int largest = 0;
        foreach (var r in ok)
        {
            int count = 0;
            foreach (var acc in r.Jsz!.AccountDetails ?? []) count += acc.StreamDetail?.Count ?? 0;
            largest = Math.Max(largest, count);
        }
        var byKey = new Dictionary<(string Domain, string Account, string Stream), List<ReplicaReport<StreamDetailDto>>>(largest);
        int initialCopies = Math.Min(ok.Count, 3); // R3, the usual replication, without regrowing
        foreach (var r in ok)
        {
            bool clustered = r.Jsz!.MetaCluster is not null;
            bool metaLeaderKnown = !clustered || !string.IsNullOrEmpty(r.Jsz.MetaCluster!.Leader);
            string domain = DomainOf(r);
            foreach (var acc in r.Jsz.AccountDetails ?? [])
            {
                if (acc.Name is null || !filter.IncludeAccount(acc.Name)) continue;
                foreach (var sd in acc.StreamDetail ?? [])
                {
                    if (sd.Name is null || !filter.IncludeStream(sd.Name)) continue;
                    ref var list = ref CollectionsMarshal.GetValueRefOrAddDefault(byKey, (domain, acc.Name, sd.Name), out _);
                    (list ??= new List<ReplicaReport<StreamDetailDto>>(initialCopies)).Add(new ReplicaReport<StreamDetailDto>(r.ServerName!, clustered, sd, sd.Cluster, sd.State?.LastSeq ?? 0, metaLeaderKnown));
                }
            }
        }

        var reporters = new Dictionary<string, ServerReport>(StringComparer.Ordinal);
        foreach (var r in ok) reporters.TryAdd(r.ServerName!, r);
        var streams = new StreamView[byKey.Count];
        var scratch = new ConsumerGroups();
        int n = 0;
        foreach (var ((domain, account, name), replicas) in byKey)
        {
            var res = ReplicaGroup.Resolve(CollectionsMarshal.AsSpan(replicas), known, strings);
            if (res.Claimants.Count > 1)
                conflicts.Add($"stream {DomainPrefix(domain)}{account}/{name}: servers {string.Join(", ", res.Claimants)} all claim leadership; using {res.Leader}");
            if (res.Disbelieved is { Count: > 0 } d)
                conflicts.Add($"stream {DomainPrefix(domain)}{account}/{name}: {string.Join(", ", d)} (without a meta leader) claimed leadership; believed {res.Leader ?? "no leader"}, as servers with a meta leader say");
            var sd = res.StateSource.Item;
            var cfg = sd.Config;
            var st = sd.State;
            var (changes, lastKnown) = history.Observe(LeaderGroupKey.Stream(domain, account, name), res.HasLeader ? res.Leader : null);
            var reporter = reporters[res.StateSource.Server];
            long replicasConfigured = cfg?.NumReplicas is > 0 ? cfg.NumReplicas : 1;
            // Replica comparison (replicated streams only), from the copies grouped here.
            var copies = comparison is not null && replicasConfigured > 1 ? ReplicaComparison.OnePerServer(replicas) : null;
            var old = previous.Find(domain, account, name);

            streams[n++] = new StreamView
            {
                // The previous snapshot's equal strings: the one being served and this one share them.
                Domain = old?.Domain ?? domain,
                Account = old?.Account ?? account,
                Name = old?.Name ?? name,
                Cluster = strings.Get(sd.Cluster?.Name ?? (res.StateSource.ServerClustered ? ClusterOf(reporter) : "")),
                Storage = strings.Get(cfg?.Storage ?? ""),
                Retention = strings.Get(cfg?.Retention ?? ""),
                ReplicasConfigured = replicasConfigured,
                Messages = st?.Messages ?? 0,
                Bytes = st?.Bytes ?? 0,
                FirstSeq = st?.FirstSeq ?? 0,
                LastSeq = st?.LastSeq ?? 0,
                ConsumerCount = st?.ConsumerCount ?? 0,
                DeletedMessages = st?.NumDeleted ?? 0,
                LostMessages = st?.Lost?.Msgs?.Count ?? 0,
                LostBytes = st?.Lost?.Bytes ?? 0,
                Subjects = st?.NumSubjects ?? 0,
                MaxBytes = Limit(cfg?.MaxBytes ?? -1),
                MaxMessages = Limit(cfg?.MaxMsgs ?? -1),
                HasLeader = res.HasLeader,
                Leader = res.Leader,
                StateFrom = res.StateSource.Server,
                Peers = res.Peers,
                Mirror = sd.Mirror is null ? null : BuildSource(sd.Mirror),
                Sources = sd.Sources is not { Count: > 0 } ? [] : sd.Sources.Where(s => s.Name is not null).Select(BuildSource).OrderBy(s => s.Name, StringComparer.Ordinal).ToArray(),
                Consumers = filter.Consumers ? BuildConsumers(domain, account, name, replicas, known, filter, conflicts, reportsPaused, comparison, copies, old, strings, scratch) : [],
                LeaderChanges = changes,
                LastKnownLeader = lastKnown,
                Monitor = MonitorThresholds.From(cfg?.Metadata, consumer: false),
                Replicas = copies is null ? [] : ReplicaComparison.CompareStream(res.HasLeader, res.Leader, res.StateSource.Server, copies, old),
            };
        }
        Array.Sort(streams, (a, b) =>
        {
            int c = string.CompareOrdinal(a.Domain, b.Domain);
            if (c != 0) return c;
            c = string.CompareOrdinal(a.Account, b.Account);
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });
        return streams;
    }

    private static string DomainPrefix(string domain) => domain.Length == 0 ? "" : domain + ":";

    /// <summary>
    /// The unreachable-stream rule. A stream every replica of which sits on servers that failed this
    /// poll is not deleted, it is unreachable: it stays listed (identity, configuration, the names of
    /// its replicas) with <see cref="StreamView.Reachable"/> false, no leader, unknown replica health,
    /// and its state numbers and consumers omitted (null / none): the last known numbers would be
    /// stale, and nobody can be asked for new ones. So `natsjs_stream_has_leader` is 0 while the
    /// number series are absent, and every view shows a critical `stream_unreachable` problem.
    /// It stays so until one of its servers answers (with it: reachable again; without it: deleted).
    /// A stream some answering server no longer lists has been deleted. Only a stream seen by an
    /// earlier poll can be kept: a one-shot `report` never saw it.
    /// </summary>
    private static StreamView[] CarryUnreachable(StreamView[] streams, ClusterSnapshot? previous, IReadOnlyList<ServerReport> reports, LeaderHistory history,
        SnapshotFilter filter)
    {
        if (previous is null || previous.Streams.Count == 0) return streams;
        var failed = new HashSet<string>(reports.Where(r => r.Jsz is null && r.ServerName is not null).Select(r => r.ServerName!), StringComparer.Ordinal);
        if (failed.Count == 0) return streams;
        var present = new HashSet<(string, string, string)>(streams.Select(s => (s.Domain, s.Account, s.Name)));
        var carried = new List<StreamView>();
        foreach (var old in previous.Streams)
        {
            if (present.Contains((old.Domain, old.Account, old.Name)) || old.Peers.Count == 0) continue;
            if (!old.Peers.All(p => failed.Contains(p.Name))) continue;
            var (changes, lastKnown) = history.Observe(LeaderGroupKey.Stream(old.Domain, old.Account, old.Name), null);
            carried.Add(old with
            {
                Reachable = false,
                HasLeader = false,
                Leader = null,
                StateFrom = null,
                Messages = null,
                Bytes = null,
                FirstSeq = null,
                LastSeq = null,
                ConsumerCount = null,
                DeletedMessages = null,
                LostMessages = null,
                LostBytes = null,
                Subjects = null,
                Peers = old.Peers.Select(p => new PeerView { Name = p.Name, IsLeader = false }).ToArray(),
                Mirror = null,
                Sources = [],
                Consumers = [],
                LeaderChanges = changes,
                LastKnownLeader = lastKnown,
                // Nobody reported a copy this time (the replica comparison, when on, lists none).
                Replicas = filter.ReplicaComparison ? [] : old.Replicas,
            });
        }
        if (carried.Count == 0) return streams;
        return streams.Concat(carried)
            .OrderBy(s => s.Domain, StringComparer.Ordinal).ThenBy(s => s.Account, StringComparer.Ordinal).ThenBy(s => s.Name, StringComparer.Ordinal)
            .ToArray();
    }

    private static StreamSourceView BuildSource(StreamSourceInfoDto s) => new()
    {
        Name = s.Name ?? "",
        Lag = s.Lag,
        LastSeenSeconds = s.Active < 0 ? null : s.Active / 1e9,
        Error = s.Error is null ? null : (s.Error.Description ?? $"error {s.Error.Code}"),
    };

    private static ConsumerView[] BuildConsumers(string domain, string account, string stream, List<ReplicaReport<StreamDetailDto>> streamReplicas,
        HashSet<string> known, SnapshotFilter filter, List<string> conflicts, HashSet<string> reportsPaused,
        ReplicaComparison.Context? comparison, IReadOnlyList<ReplicaReport<StreamDetailDto>>? copies, StreamView? old,
        MergeStrings strings, ConsumerGroups groups)
    {
        groups.Clear();
        foreach (var sr in streamReplicas)
        {
            foreach (var ci in sr.Item.ConsumerDetail ?? [])
            {
                if (ci.Name is null || !filter.IncludeConsumer(ci.Name, IsDurable(ci))) continue;
                groups.Add(ci.Name, new ReplicaReport<ConsumerInfoDto>(sr.Server, sr.ServerClustered, ci, ci.Cluster, ci.Delivered?.StreamSeq ?? 0, sr.MetaLeaderKnown));
            }
        }
        var result = new ConsumerView[groups.Count];
        ReplicaComparison.ConsumerLookup? lookup = null;
        for (int g = 0; g < groups.Count; g++)
        {
            string name = groups.Name(g);
            var before = PreviousStreams.Consumer(old, name);
            var res = ReplicaGroup.Resolve(groups.Replicas(g), known, strings);
            if (res.Claimants.Count > 1)
                conflicts.Add($"consumer {DomainPrefix(domain)}{account}/{stream}/{name}: servers {string.Join(", ", res.Claimants)} all claim leadership; using {res.Leader}");
            var ci = res.StateSource.Item;
            result[g] = new ConsumerView
            {
                Name = before?.Name ?? name,
                Durable = IsDurable(ci),
                AckPolicy = strings.Get(ci.Config?.AckPolicy ?? ""),
                DeliverPolicy = strings.Get(ci.Config?.DeliverPolicy ?? ""),
                PendingMessages = ci.NumPending,
                AckPendingMessages = ci.NumAckPending,
                RedeliveredMessages = ci.NumRedelivered,
                WaitingPulls = ci.NumWaiting,
                DeliveredStreamSeq = ci.Delivered?.StreamSeq ?? 0,
                DeliveredConsumerSeq = ci.Delivered?.ConsumerSeq ?? 0,
                AckFloorStreamSeq = ci.AckFloor?.StreamSeq ?? 0,
                MaxAckPending = ci.Config?.MaxAckPending ?? 0,
                LastDeliveryUnixSeconds = UnixSeconds(ci.Delivered?.LastActive),
                LastAckUnixSeconds = UnixSeconds(ci.AckFloor?.LastActive),
                Paused = ci.Paused ?? (reportsPaused.Contains(res.StateSource.Server) ? false : null),
                HasLeader = res.HasLeader,
                Leader = res.Leader,
                StateFrom = res.StateSource.Server,
                Peers = res.Peers,
                Monitor = MonitorThresholds.From(ci.Config?.Metadata, consumer: true),
                Replicas = copies is null ? [] : ReplicaComparison.CompareConsumer(comparison!, name, res.HasLeader, res.Leader, res.StateSource.Server,
                    copies, lookup ??= new ReplicaComparison.ConsumerLookup(copies.Count), before),
            };
        }
        Array.Sort(result, (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return result;
    }

    /// <summary>The previous snapshot's reachable streams by identity (the first of each), and their consumers by name.</summary>
    private sealed class PreviousStreams(ClusterSnapshot? previous)
    {
        private Dictionary<(string, string, string), StreamView>? _byKey;

        public StreamView? Find(string domain, string account, string name)
        {
            if (previous is null || previous.Streams.Count == 0) return null;
            if (_byKey is null)
            {
                _byKey = new Dictionary<(string, string, string), StreamView>(previous.Streams.Count);
                foreach (var s in previous.Streams)
                    if (s.Reachable) _byKey.TryAdd((s.Domain, s.Account, s.Name), s);
            }
            return _byKey.GetValueOrDefault((domain, account, name));
        }

        /// <summary>The first consumer of that name: a scan of a few, a binary search of many (a snapshot's consumers are sorted by name).</summary>
        public static ConsumerView? Consumer(StreamView? stream, string name)
        {
            var consumers = stream?.Consumers;
            if (consumers is null || consumers.Count == 0) return null;
            if (consumers.Count > 16)
            {
                int lo = 0, hi = consumers.Count - 1;
                while (lo <= hi)
                {
                    int mid = lo + (hi - lo) / 2;
                    int c = string.CompareOrdinal(consumers[mid].Name, name);
                    if (c == 0)
                    {
                        // Names are unique in a merged stream; step back in case they are not.
                        while (mid > 0 && consumers[mid - 1].Name == name) mid--;
                        return consumers[mid];
                    }
                    if (c < 0) lo = mid + 1;
                    else hi = mid - 1;
                }
            }
            // Few consumers, or not found by the search (consumers not in order: not from a merge).
            for (int i = 0; i < consumers.Count; i++)
                if (consumers[i].Name == name) return consumers[i];
            return null;
        }
    }

    /// <summary>
    /// One stream's consumer replicas grouped by consumer name, in the order names first appear.
    /// Reused for every stream of a merge: the groups are slices of one array (no dictionary and no
    /// list per stream and consumer); an index by name only for a stream with many consumers.
    /// </summary>
    private sealed class ConsumerGroups
    {
        private const int ScanUpTo = 16;
        private readonly List<string> _names = [];
        private readonly List<(int Group, ReplicaReport<ConsumerInfoDto> Replica)> _entries = [];
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
        private int[] _start = new int[16];
        private ReplicaReport<ConsumerInfoDto>[] _sorted = new ReplicaReport<ConsumerInfoDto>[64];
        private bool _sortedValid;

        public int Count => _names.Count;

        public void Clear()
        {
            // Drop the references the last stream left, so they do not outlive the merge's parsed answers longer than needed.
            Array.Clear(_sorted, 0, Math.Min(_sorted.Length, _entries.Count));
            _names.Clear();
            _entries.Clear();
            _index.Clear();
            _sortedValid = false;
        }

        public void Add(string name, ReplicaReport<ConsumerInfoDto> replica)
        {
            int g = -1;
            if (_names.Count > ScanUpTo)
            {
                if (_index.TryGetValue(name, out var found)) g = found;
            }
            else
            {
                for (int i = 0; i < _names.Count; i++)
                    if (string.Equals(_names[i], name, StringComparison.Ordinal)) { g = i; break; }
            }
            if (g < 0)
            {
                g = _names.Count;
                _names.Add(name);
                if (_names.Count > ScanUpTo)
                {
                    if (_index.Count == 0)
                        for (int i = 0; i < _names.Count; i++) _index[_names[i]] = i;
                    else _index[name] = g;
                }
            }
            _entries.Add((g, replica));
        }

        /// <summary>Group <paramref name="g"/>: its name and its replicas in the order they were added.</summary>
        public string Name(int g) => _names[g];

        public ReadOnlySpan<ReplicaReport<ConsumerInfoDto>> Replicas(int g)
        {
            if (!_sortedValid) SortByGroup();
            return _sorted.AsSpan(_start[g], _start[g + 1] - _start[g]);
        }

        // A stable counting sort by group: each group's replicas end up side by side, in added order.
        private void SortByGroup()
        {
            int groups = _names.Count;
            if (_start.Length < groups + 1) _start = new int[Math.Max(groups + 1, _start.Length * 2)];
            Array.Clear(_start, 0, groups + 1);
            foreach (var (g, _) in _entries) _start[g + 1]++;
            for (int g = 0; g < groups; g++) _start[g + 1] += _start[g];
            if (_sorted.Length < _entries.Count) _sorted = new ReplicaReport<ConsumerInfoDto>[Math.Max(_entries.Count, _sorted.Length * 2)];
            Span<int> next = groups <= 256 ? stackalloc int[groups] : new int[groups];
            _start.AsSpan(0, groups).CopyTo(next);
            foreach (var (g, r) in _entries) _sorted[next[g]++] = r;
            _sortedValid = true;
        }
    }

    private static bool IsDurable(ConsumerInfoDto ci) => !string.IsNullOrEmpty(ci.Config?.DurableName);

    private static double? UnixSeconds(DateTimeOffset? t) =>
        t is { } v && v.Year > 1 ? (v - DateTimeOffset.UnixEpoch).TotalSeconds : null;

    // ---- accounts -----------------------------------------------------------------------

    private static AccountView[] BuildAccounts(List<ServerReport> ok, HashSet<string> metaLeaders, StreamView[] streams, SnapshotFilter filter)
    {
        // Account usage is already cluster-wide on every server of a JetStream domain: take it from
        // the domain's meta leader when it lists the account, else from the first server (by name)
        // that does. An account is (domain, name): each domain keeps its own usage.
        var chosen = new SortedDictionary<(string Domain, string Account), AccountDetailDto>(Comparer<(string Domain, string Account)>.Create((a, b) =>
        {
            int c = string.CompareOrdinal(a.Domain, b.Domain);
            return c != 0 ? c : string.CompareOrdinal(a.Account, b.Account);
        }));
        foreach (var r in ok.OrderBy(r => metaLeaders.Contains(r.ServerName!) ? 0 : 1).ThenBy(r => r.ServerName, StringComparer.Ordinal))
        {
            foreach (var acc in r.Jsz!.AccountDetails ?? [])
                if (acc.Name is not null && filter.IncludeAccount(acc.Name))
                    chosen.TryAdd((DomainOf(r), acc.Name), acc);
        }
        var perAccount = streams.GroupBy(s => (s.Domain, s.Account)).ToDictionary(g => g.Key, g => (Streams: (long)g.Count(), Consumers: Saturating.Sum(g, s => s.ConsumerCount ?? 0)));
        return chosen.Select(kv =>
        {
            perAccount.TryGetValue(kv.Key, out var counts);
            return new AccountView
            {
                Domain = kv.Key.Domain,
                Name = kv.Key.Account,
                MemoryBytes = kv.Value.Memory,
                StorageBytes = kv.Value.Storage,
                MaxMemoryBytes = Limit(kv.Value.ReservedMemory),
                MaxStorageBytes = Limit(kv.Value.ReservedStorage),
                Streams = counts.Streams,
                Consumers = counts.Consumers,
            };
        }).ToArray();
    }

    private sealed class UnionFind
    {
        private readonly Dictionary<string, string> _parent = new(StringComparer.Ordinal);

        public string Find(string x)
        {
            if (!_parent.TryGetValue(x, out var p)) { _parent[x] = x; return x; }
            if (p == x) return x;
            var root = Find(p);
            _parent[x] = root;
            return root;
        }

        public void Union(string a, string b)
        {
            var ra = Find(a);
            var rb = Find(b);
            if (ra != rb) _parent[ra] = rb;
        }
    }
}
