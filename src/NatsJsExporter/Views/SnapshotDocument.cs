using System.Text.Json;
using System.Text.Json.Serialization;
using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Views;

/// <summary>
/// The JSON of /api/v1/snapshot and `report --json`: the merged snapshot as is, plus when it was
/// taken and the problems found in it. Shape documented in the README; fields are snake_case,
/// unknown values are null (never invented).
/// </summary>
public sealed record SnapshotDocument
{
    /// <summary>Bumped on an incompatible change of this shape.</summary>
    public int SchemaVersion { get; init; } = 1;
    public required string ExporterVersion { get; init; }
    public required DateTimeOffset CollectedAt { get; init; }
    public required double AgeSeconds { get; init; }
    public required double PollIntervalSeconds { get; init; }
    public required double PollDurationSeconds { get; init; }
    /// <summary>healthy, warning or critical.</summary>
    public required string Status { get; init; }
    public required IReadOnlyList<Problem> Problems { get; init; }
    public long? ServersExpected { get; init; }
    /// <summary>Servers the meta groups count (sum of their cluster_size; 0 when none reported).</summary>
    public long ServersDiscovered { get; init; }
    public long ConflictsTotal { get; init; }
    public required IReadOnlyList<TargetView> Targets { get; init; }
    public required IReadOnlyList<ServerView> Servers { get; init; }
    public required IReadOnlyList<MetaGroupView> MetaGroups { get; init; }
    public required IReadOnlyList<AccountView> Accounts { get; init; }
    public required IReadOnlyList<StreamView> Streams { get; init; }
    /// <summary>Raft state from the servers themselves and the meta group's agreement.</summary>
    public RaftView Raft { get; init; } = RaftView.Empty;
    /// <summary>Each server's own /healthz (2.10+: with the failing checks); absent when no server was asked.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ServerHealthView>? Healthz { get; init; }

    public static SnapshotDocument From(ClusterSnapshot s, HealthReport health, DateTimeOffset now, string version) => new()
    {
        ExporterVersion = version,
        CollectedAt = s.CollectedAt,
        AgeSeconds = Math.Round(Math.Max(0, (now - s.CollectedAt).TotalSeconds), 3),
        PollIntervalSeconds = s.PollInterval.TotalSeconds,
        PollDurationSeconds = Math.Round(s.PollDuration.TotalSeconds, 6),
        Status = health.Status,
        Problems = health.Problems,
        ServersExpected = s.ExpectedServerCount,
        ServersDiscovered = s.ServersDiscovered,
        ConflictsTotal = s.ConflictsTotal,
        Targets = s.Targets,
        Servers = s.Servers,
        MetaGroups = s.MetaGroups,
        Accounts = s.Accounts,
        Streams = OperatorTables.Sorted(s.Streams).ToArray(),
        Raft = s.Raft,
        Healthz = s.Healthz,
    };

    public static byte[] Serialize(SnapshotDocument doc) =>
        JsonSerializer.SerializeToUtf8Bytes(doc, ViewsJsonContext.Default.SnapshotDocument);
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(SnapshotDocument))]
public sealed partial class ViewsJsonContext : JsonSerializerContext;
