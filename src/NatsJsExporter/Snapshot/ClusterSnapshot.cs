namespace NatsJsExporter.Snapshot;

// The merged, immutable picture of the cluster after one poll. Everything downstream
// (metrics, status page, report command) reads only this.

public sealed record ClusterSnapshot
{
    public required DateTimeOffset CollectedAt { get; init; }
    public required TimeSpan PollDuration { get; init; }
    public required TimeSpan PollInterval { get; init; }
    public required IReadOnlyList<TargetView> Targets { get; init; }
    public required IReadOnlyList<ServerView> Servers { get; init; }
    public required IReadOnlyList<MetaGroupView> MetaGroups { get; init; }
    public required IReadOnlyList<AccountView> Accounts { get; init; }
    public required IReadOnlyList<StreamView> Streams { get; init; }
    /// <summary>Raft state from the servers themselves (/raftz 2.11+) and their meta leader agreement (see <see cref="RaftView"/>).</summary>
    public RaftView Raft { get; init; } = RaftView.Empty;
    /// <summary>Leader changes per Raft group, kept across polls in which a group is missing (see <see cref="Snapshot.LeaderHistory"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyDictionary<LeaderGroupKey, LeaderHistoryEntry> LeaderHistory { get; init; } = new Dictionary<LeaderGroupKey, LeaderHistoryEntry>();

    /// <summary>Each server's own /healthz (see <see cref="ServerHealthView"/>); null when no server was asked.</summary>
    public IReadOnlyList<ServerHealthView>? Healthz { get; init; }

    /// <summary>Servers expected to answer; null means one per target.</summary>
    public long? ServersExpected { get; init; }
    /// <summary>Times two servers both claimed to lead the same group (cumulative).</summary>
    public long ConflictsTotal { get; init; }

    /// <summary>
    /// Servers the meta groups say the cluster has: the sum of every meta group's `cluster_size`
    /// (one group per JetStream domain), the largest seen since the exporter started (0 when no
    /// server reported a meta group). System-account mode discovers the same number itself.
    /// </summary>
    public long ServersDiscovered { get; init; }

    /// <summary>
    /// Servers expected to answer, the one rule every view and metric uses: the configured or
    /// source-discovered count (system-account mode) when there is one, else the larger of the
    /// targets polled and <see cref="ServersDiscovered"/> (HTTP mode: a cluster of 3 polled through
    /// 1 monitor URL expects 3).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long ExpectedServerCount => ServersExpected ?? Math.Max(Targets.Count, ServersDiscovered);

    /// <summary>Servers the meta groups count that no configured target polls (HTTP mode only; 0 otherwise).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long ServersNotPolled => ServersExpected is null ? Math.Max(0, ServersDiscovered - Targets.Count) : 0;

}

/// <summary>One configured target and how its last poll went.</summary>
public sealed record TargetView
{
    /// <summary>Server name when known, else the configured target (URL).</summary>
    public required string Label { get; init; }
    public required string Target { get; init; }
    public required bool Up { get; init; }
    public required double DurationSeconds { get; init; }
    public double? LastSuccessUnixSeconds { get; init; }
    public string? LastError { get; init; }
    /// <summary>Cumulative error counts by reason since the exporter started.</summary>
    public required IReadOnlyList<KeyValuePair<string, long>> ErrorsByReason { get; init; }
}

/// <summary>One server's own view of itself (the `nats server report jetstream` row).</summary>
public sealed record ServerView
{
    public required string Name { get; init; }
    public required string Cluster { get; init; }
    public required string Domain { get; init; }
    public required string Version { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("jetstream_enabled")]
    public required bool JetStreamEnabled { get; init; }
    public long Streams { get; init; }
    public long Consumers { get; init; }
    public ulong Messages { get; init; }
    public ulong Bytes { get; init; }
    public ulong MemoryBytes { get; init; }
    public ulong StorageBytes { get; init; }
    public ulong? MaxMemoryBytes { get; init; }
    public ulong? MaxStorageBytes { get; init; }
    public ulong ApiRequests { get; init; }
    public ulong ApiErrors { get; init; }
    public ulong? ApiInflight { get; init; }
    public long? ApiLevel { get; init; }
    public long HaAssets { get; init; }
    public long? StreamLeaders { get; init; }
    public long? ConsumerLeaders { get; init; }
    public bool IsMetaLeader { get; init; }
}

/// <summary>
/// The JetStream meta group: one per JetStream domain, spanning every cluster of a super-cluster.
/// Labelled by <see cref="Cluster"/>, the alphabetically first cluster name among its members.
/// </summary>
public sealed record MetaGroupView
{
    public required string Cluster { get; init; }
    /// <summary>The JetStream domain ("" when none is configured).</summary>
    public string Domain { get; init; } = "";
    /// <summary>Every cluster with a member in the group (one for a plain cluster, all of a super-cluster's).</summary>
    public IReadOnlyList<string> Clusters { get; init; } = [];
    /// <summary>The leader's name (never a metric label; for the status page and report).</summary>
    public string? Leader { get; init; }
    public required bool HasLeader { get; init; }
    public long ClusterSize { get; init; }
    public ulong? Pending { get; init; }
    public ulong? SnapshotPendingEntries { get; init; }
    public ulong? SnapshotPendingBytes { get; init; }
    /// <summary>Peers including the leader, sorted by name.</summary>
    public required IReadOnlyList<PeerView> Peers { get; init; }
    public long LeaderChanges { get; init; }
    public string? LastKnownLeader { get; init; }
}

/// <summary>One member of a Raft group. Health fields are null unless the group leader reported them.</summary>
public sealed record PeerView
{
    public required string Name { get; init; }
    public required bool IsLeader { get; init; }
    public bool? Current { get; init; }
    public bool? Offline { get; init; }
    public double? LastSeenSeconds { get; init; }
    public ulong? Lag { get; init; }
}

public sealed record AccountView
{
    /// <summary>The JetStream domain ("" when none is configured): each domain keeps its own usage.</summary>
    public string Domain { get; init; } = "";
    public required string Name { get; init; }
    public ulong MemoryBytes { get; init; }
    public ulong StorageBytes { get; init; }
    public ulong? MaxMemoryBytes { get; init; }
    public ulong? MaxStorageBytes { get; init; }
    public long Streams { get; init; }
    public long Consumers { get; init; }
}

/// <summary>
/// One stream, identified by (domain, account, name), however many servers host it.
/// The state numbers (messages, bytes, sequences, counts) are null while the stream is
/// unreachable: every server hosting it failed this poll, so nobody can say what they are now.
/// </summary>
public sealed record StreamView
{
    /// <summary>The JetStream domain ("" when none is configured).</summary>
    public string Domain { get; init; } = "";
    public required string Account { get; init; }
    public required string Name { get; init; }
    /// <summary>The cluster the stream is placed in ("" when the server is not clustered).</summary>
    public required string Cluster { get; init; }
    public required string Storage { get; init; }
    public required string Retention { get; init; }
    public long ReplicasConfigured { get; init; }
    /// <summary>False when every server hosting the stream failed this poll (kept from an earlier poll, state unknown).</summary>
    public bool Reachable { get; init; } = true;
    public ulong? Messages { get; init; }
    public ulong? Bytes { get; init; }
    public ulong? FirstSeq { get; init; }
    public ulong? LastSeq { get; init; }
    public long? ConsumerCount { get; init; }
    public long? DeletedMessages { get; init; }
    public long? LostMessages { get; init; }
    public ulong? LostBytes { get; init; }
    public long? Subjects { get; init; }
    public ulong? MaxBytes { get; init; }
    public ulong? MaxMessages { get; init; }
    public required bool HasLeader { get; init; }
    public string? Leader { get; init; }
    /// <summary>Which server's report the state came from (null while unreachable).</summary>
    public required string? StateFrom { get; init; }
    public required IReadOnlyList<PeerView> Peers { get; init; }
    public StreamSourceView? Mirror { get; init; }
    public required IReadOnlyList<StreamSourceView> Sources { get; init; }
    public required IReadOnlyList<ConsumerView> Consumers { get; init; }
    public long LeaderChanges { get; init; }
    public string? LastKnownLeader { get; init; }
    /// <summary>Each server's own copy of the stream beside the leader's (replicated streams only; see <see cref="ReplicaComparison"/>).</summary>
    public IReadOnlyList<StreamReplicaView> Replicas { get; init; } = [];
    /// <summary>natscli check thresholds from the stream's `io.nats.monitor.*` metadata (2.10+); null when none is set.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public MonitorSettings? Monitor { get; init; }
}

public sealed record StreamSourceView
{
    public required string Name { get; init; }
    public ulong Lag { get; init; }
    /// <summary>Null when never heard from (the server says -1).</summary>
    public double? LastSeenSeconds { get; init; }
    public string? Error { get; init; }
}

public sealed record ConsumerView
{
    public required string Name { get; init; }
    public required bool Durable { get; init; }
    public required string AckPolicy { get; init; }
    public required string DeliverPolicy { get; init; }
    public ulong PendingMessages { get; init; }
    public long AckPendingMessages { get; init; }
    public long RedeliveredMessages { get; init; }
    public long WaitingPulls { get; init; }
    public ulong DeliveredStreamSeq { get; init; }
    public ulong DeliveredConsumerSeq { get; init; }
    public ulong AckFloorStreamSeq { get; init; }
    public long MaxAckPending { get; init; }
    public double? LastDeliveryUnixSeconds { get; init; }
    public double? LastAckUnixSeconds { get; init; }
    public bool? Paused { get; init; }
    public required bool HasLeader { get; init; }
    public string? Leader { get; init; }
    public required string StateFrom { get; init; }
    public required IReadOnlyList<PeerView> Peers { get; init; }
    /// <summary>Each server's own copy of the consumer's state beside the leader's (replicated consumers only).</summary>
    public IReadOnlyList<ConsumerReplicaView> Replicas { get; init; } = [];
    /// <summary>natscli check thresholds from the consumer's `io.nats.monitor.*` metadata (2.10+); null when none is set.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public MonitorSettings? Monitor { get; init; }
}
