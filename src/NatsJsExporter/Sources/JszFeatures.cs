using System.Globalization;

namespace NatsJsExporter.Sources;

/// <summary>A nats-server release number, parsed from /varz `version` or the system envelope's `ver`.</summary>
public readonly record struct ServerVersion(int Major, int Minor, int Patch) : IComparable<ServerVersion>
{
    public static ServerVersion? Parse(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var core = text.TrimStart('v').Split('-', '+')[0].Split('.');
        if (core.Length < 2) return null;
        int Part(int i) => i < core.Length && int.TryParse(core[i], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
        if (!int.TryParse(core[0], NumberStyles.None, CultureInfo.InvariantCulture, out _)) return null;
        return new ServerVersion(Part(0), Part(1), Part(2));
    }

    public int CompareTo(ServerVersion other) =>
        Major != other.Major ? Major.CompareTo(other.Major) : Minor != other.Minor ? Minor.CompareTo(other.Minor) : Patch.CompareTo(other.Patch);

    public static bool operator >=(ServerVersion a, ServerVersion b) => a.CompareTo(b) >= 0;
    public static bool operator <=(ServerVersion a, ServerVersion b) => a.CompareTo(b) <= 0;
    public static bool operator >(ServerVersion a, ServerVersion b) => a.CompareTo(b) > 0;
    public static bool operator <(ServerVersion a, ServerVersion b) => a.CompareTo(b) < 0;

    public override string ToString() => $"{Major}.{Minor}.{Patch}";
}

/// <summary>
/// Which /jsz options a server supports, from its version (learned on first contact; the
/// first poll of a server asks only for what every version understands).
/// </summary>
public static class JszFeatures
{
    /// <summary>raft=true: Raft group names, and (2.11.11/2.12.1+) streams_leader/consumers_leader.</summary>
    public static readonly ServerVersion Raft = new(2, 9, 15);

    /// <summary>stream_leader_only: each stream crosses the wire once, from its leader.</summary>
    public static readonly ServerVersion StreamLeaderOnlyOption = new(2, 10, 19);

    /// <summary>
    /// stream_leader_only also filters consumers by their *stream's* leader, so a consumer led by
    /// another server would arrive only as a follower's (stale) view. It is therefore used only
    /// when consumer metrics are off: consumer numbers must come from the consumer leader.
    /// </summary>
    public static bool UseStreamLeaderOnly(ServerVersion? version, bool consumers) =>
        !consumers && version is { } v && v >= StreamLeaderOnlyOption;

    /// <summary>Consumer `paused` (2.11.0+), omitted when false.</summary>
    public static readonly ServerVersion ConsumerPaused = new(2, 11, 0);

    /// <summary>A server of this version omits a consumer's `paused` when false (so absent means 0).</summary>
    public static bool ReportsPaused(ServerVersion? version) => version is { } v && v >= ConsumerPaused;

    /// <summary>
    /// `streams_leader`/`consumers_leader` (with raft=true): 2.11.11+ in the 2.11 line, 2.12.1+ after;
    /// omitted when 0 (so absent means 0 on these versions and unknown before).
    /// </summary>
    public static bool ReportsLeaderCounts(ServerVersion? version) => version is { } v
        && (v >= new ServerVersion(2, 12, 1) || (v.Major == 2 && v.Minor == 11 && v.Patch >= 11));

    public static bool UseRaft(ServerVersion? version) => version is { } v && v >= Raft;

    public static string ExtraHttpOptions(ServerVersion? version, bool consumers) =>
        (UseRaft(version) ? "&raft=true" : "") + (UseStreamLeaderOnly(version, consumers) ? "&stream-leader-only=true" : "");
}
