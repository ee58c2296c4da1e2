using System.Globalization;
using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Views;

/// <summary>Numbers, sizes and durations written the way the NATS CLI writes them.</summary>
public static class Format
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    /// <summary>2,946</summary>
    public static string Count(ulong n) => n.ToString("N0", Inv);

    public static string Count(long n) => n.ToString("N0", Inv);

    /// <summary>IEC sizes like the CLI's humanize.IBytes: 0 B, 512 B, 1.5 KiB, 27 MiB.</summary>
    public static string Bytes(ulong n)
    {
        if (n < 1024) return n.ToString(Inv) + " B";
        double v = n;
        int u = 0;
        while (v >= 1024 && u < Units.Length - 1)
        {
            v /= 1024;
            u++;
        }
        v = Math.Floor(v * 10 + 0.5) / 10; // round half up, like humanize
        return (v < 10 ? v.ToString("0.0", Inv) : v.ToString("0", Inv)) + " " + Units[u];
    }

    /// <summary>0.07s, 12.50s, 3m5s, 2h10m.</summary>
    public static string Duration(double seconds)
    {
        if (double.IsNaN(seconds) || seconds < 0) seconds = 0;
        if (seconds < 60) return seconds.ToString("0.00", Inv) + "s";
        var t = TimeSpan.FromSeconds(Math.Floor(seconds));
        if (t.TotalHours < 1) return $"{t.Minutes}m{t.Seconds}s";
        if (t.TotalDays < 1) return $"{(int)t.TotalHours}h{t.Minutes}m";
        return $"{(int)t.TotalDays}d{t.Hours}h";
    }

    /// <summary>File or Memory, as `nats stream report` prints the storage.</summary>
    public static string Storage(string storage) => storage switch
    {
        "file" => "File",
        "memory" => "Memory",
        _ => storage,
    };

    /// <summary>The `nats stream report` placement: every peer, the leader marked `*`, outdated or offline ones `!`.</summary>
    public static string Placement(IReadOnlyList<PeerView> peers, string? leader = null)
    {
        if (peers.Count == 0) return leader is null ? "" : leader + "*";
        return string.Join(", ", peers.Select(p => p.Name + (p.IsLeader ? "*" : "") + (HealthCheck.Unhealthy(p) ? "!" : "")));
    }

    /// <summary>"current, seen 0.07s ago", "outdated, OFFLINE, seen 5.02s ago, 150 operations behind".</summary>
    public static string PeerState(PeerView p)
    {
        if (p.Current is null && p.Offline is null) return "health unknown (no report from the leader)";
        var parts = new List<string> { p.Current == true ? "current" : "outdated" };
        if (p.Offline == true) parts.Add("OFFLINE");
        parts.Add(p.LastSeenSeconds is { } seen ? $"seen {Duration(seen)} ago" : "not seen");
        if (p.Lag is { } lag and > 0)
            parts.Add(lag == 1 ? "1 operation behind" : $"{Count(lag)} operations behind");
        return string.Join(", ", parts);
    }

    /// <summary>The `Cluster Information` block of `nats stream info`, one line per entry.</summary>
    public static IReadOnlyList<string> ClusterInformation(StreamView s)
    {
        var lines = new List<string>
        {
            "Cluster Information:",
            "",
            Field("Name", s.Cluster.Length == 0 ? "(not clustered)" : s.Cluster),
            Field("Leader", s.HasLeader ? s.Leader ?? "" : "none: no leader reported"),
        };
        foreach (var p in s.Peers.Where(p => !p.IsLeader))
            lines.Add(Field("Replica", $"{p.Name}, {PeerState(p)}"));
        return lines;
    }

    private static string Field(string name, string value) => name.PadLeft(21) + ": " + value;

    public static string YesNo(bool? b) => b switch { true => "true", false => "false", null => "unknown" };

    /// <summary>How long ago, e.g. "3.02s ago", for an age in seconds.</summary>
    public static string Ago(double seconds) => Duration(seconds) + " ago";
}
