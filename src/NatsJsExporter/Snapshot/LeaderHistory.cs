namespace NatsJsExporter.Snapshot;

public sealed record LeaderHistoryEntry(long Changes, string? LastKnownLeader, DateTimeOffset LastSeen);

/// <summary>
/// Counts leader changes per Raft group across polls. A group missing from a poll (its servers did
/// not answer, or the exporter's connection was down) keeps its history, so a change across the gap
/// is still counted; a group unseen for <see cref="Retention"/> is forgotten (deleted, or gone).
/// </summary>
internal sealed class LeaderHistory(IReadOnlyDictionary<string, LeaderHistoryEntry>? previous, DateTimeOffset now)
{
    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(10);

    private readonly Dictionary<string, LeaderHistoryEntry> _entries = previous is null
        ? new(StringComparer.Ordinal)
        : previous.Where(kv => now - kv.Value.LastSeen <= Retention).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    /// <summary>Records this poll's leader (null while leaderless) and returns the count and last known leader.</summary>
    public (long Changes, string? LastKnown) Observe(string key, string? leader)
    {
        _entries.TryGetValue(key, out var entry);
        long changes = entry?.Changes ?? 0;
        string? lastKnown = entry?.LastKnownLeader;
        if (leader is not null)
        {
            if (lastKnown is not null && lastKnown != leader) changes++;
            lastKnown = leader;
        }
        _entries[key] = new LeaderHistoryEntry(changes, lastKnown, now);
        return (changes, lastKnown);
    }

    public IReadOnlyDictionary<string, LeaderHistoryEntry> Result() => _entries;
}
