namespace NatsJsExporter.Snapshot;

/// <summary>One Raft group whose leader changes are counted: a meta group (domain, label) or a stream (domain, account, name).</summary>
/// <remarks>A struct of the names the snapshot holds anyway, rather than a string built from them for every group and poll.</remarks>
public readonly record struct LeaderGroupKey(bool Meta, string Domain, string Account, string Name)
{
    public static LeaderGroupKey MetaGroup(string domain, string label) => new(true, domain, "", label);

    public static LeaderGroupKey Stream(string domain, string account, string name) => new(false, domain, account, name);
}

/// <summary>A group's leader changes so far, its last known leader, and when it was last seen.</summary>
public readonly record struct LeaderHistoryEntry(long Changes, string? LastKnownLeader, DateTimeOffset LastSeen);

/// <summary>
/// Counts leader changes per Raft group across polls. A group missing from a poll (its servers did
/// not answer, or the exporter's connection was down) keeps its history, so a change across the gap
/// is still counted; a group unseen for <see cref="Retention"/> is forgotten (deleted, or gone).
/// </summary>
internal sealed class LeaderHistory
{
    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(10);

    private readonly DateTimeOffset _now;
    private readonly Dictionary<LeaderGroupKey, LeaderHistoryEntry> _entries;

    public LeaderHistory(IReadOnlyDictionary<LeaderGroupKey, LeaderHistoryEntry>? previous, DateTimeOffset now)
    {
        _now = now;
        _entries = new Dictionary<LeaderGroupKey, LeaderHistoryEntry>(previous?.Count ?? 0);
        foreach (var (key, entry) in previous ?? new Dictionary<LeaderGroupKey, LeaderHistoryEntry>())
            if (now - entry.LastSeen <= Retention) _entries.Add(key, entry);
    }

    /// <summary>Records this poll's leader (null while leaderless) and returns the count and last known leader.</summary>
    public (long Changes, string? LastKnown) Observe(LeaderGroupKey key, string? leader)
    {
        ref var entry = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_entries, key, out _);
        long changes = entry.Changes;
        string? lastKnown = entry.LastKnownLeader;
        if (leader is not null)
        {
            if (lastKnown is not null && lastKnown != leader) changes++;
            lastKnown = leader;
        }
        entry = new LeaderHistoryEntry(changes, lastKnown, _now);
        return (changes, lastKnown);
    }

    public IReadOnlyDictionary<LeaderGroupKey, LeaderHistoryEntry> Result() => _entries;
}
