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

    /// <summary>
    /// IEC sizes as natscli prints them (go-humanize's IBytes): below 10 the number of bytes; else the
    /// value in the largest unit it reaches, first rounded half up to one decimal, then printed with
    /// one decimal below 10 and none from 10 on, that last step rounding half to even as Go's %.0f
    /// does: 0 B, 1023 B, 1.0 KiB, 9.9 KiB, 10 KiB, 18 KiB (18,944 B = 18.5 KiB), 27 MiB.
    /// </summary>
    public static string Bytes(ulong n)
    {
        if (n < 10) return n.ToString(Inv) + " B";
        int u = 0;
        ulong scale = 1;
        while (u < Units.Length - 1 && n / scale >= 1024) { scale *= 1024; u++; }
        double v = Math.Floor((double)n / scale * 10 + 0.5) / 10;
        return (v < 10 ? GoFixed(v, 1) : GoFixed(v, 0)) + " " + Units[u];
    }

    /// <summary>A size that may be unknown (an unreachable stream's).</summary>
    public static string Bytes(ulong? n) => n is { } v ? Bytes(v) : Unknown;

    public static string Count(ulong? n) => n is { } v ? Count(v) : Unknown;

    public static string Count(long? n) => n is { } v ? Count(v) : Unknown;

    /// <summary>What a table or page prints for a number nobody could report.</summary>
    public const string Unknown = "unknown";

    /// <summary>
    /// Durations as natscli prints them (its HumanizeDuration), for a duration in seconds:
    /// below 1 ms to the microsecond (`250µs`, `0s`), below 1 s to the millisecond (`169ms`),
    /// below 1 min with two decimals (`59.90s`), then whole units: `3m5s`, `2h10m5s`, `1d2h3m4s`, `1y2d3h4m5s`.
    /// </summary>
    public static string Duration(double seconds)
    {
        if (double.IsNaN(seconds) || seconds < 0) seconds = 0;
        if (seconds >= long.MaxValue / 1e9) seconds = long.MaxValue / 1e9 - 1;
        long ns = (long)Math.Round(seconds * 1e9, MidpointRounding.AwayFromZero);
        const long Ms = 1_000_000, Sec = 1_000_000_000;
        if (ns < Ms) return GoDuration(RoundAway(ns, 1000));
        if (ns < Sec) return GoDuration(RoundAway(ns, Ms));
        long secs = ns / Sec, mins = secs / 60, hrs = mins / 60, days = hrs / 24, yrs = days / 365;
        if (yrs > 0) return $"{yrs}y{days % 365}d{hrs % 24}h{mins % 60}m{secs % 60}s";
        if (days > 0) return $"{days}d{hrs % 24}h{mins % 60}m{secs % 60}s";
        if (hrs > 0) return $"{hrs}h{mins % 60}m{secs % 60}s";
        if (mins > 0) return $"{mins}m{secs % 60}s";
        // Go's Duration.Seconds(): whole seconds plus the fraction, each exact, added in float64.
        return GoFixed(secs + (ns % Sec) / 1e9, 2) + "s";
    }

    // Go's Duration.Round: to a multiple of m, halves away from zero (ns is never negative here).
    private static long RoundAway(long ns, long m) => (ns + m / 2) / m * m;

    // Go's Duration.String for a whole number of microseconds or milliseconds below one second (or exactly one).
    private static string GoDuration(long ns) => ns switch
    {
        0 => "0s",
        >= 1_000_000_000 => (ns / 1_000_000_000).ToString(Inv) + "s",
        >= 1_000_000 when ns % 1_000_000 == 0 => (ns / 1_000_000).ToString(Inv) + "ms",
        >= 1_000_000 => (ns / 1e6).ToString("0.######", Inv) + "ms",
        _ => (ns / 1000).ToString(Inv) + "\u00b5s",
    };

    /// <summary>
    /// Go's fmt %.Nf for a non-negative double: the exact binary value rounded to N decimals, an exact
    /// half going to the even digit (.NET's "F" rounds halves away from zero: 18.5 gives 19, Go gives 18).
    /// </summary>
    internal static string GoFixed(double v, int decimals)
    {
        if (v < 0 || double.IsNaN(v) || double.IsInfinity(v)) return v.ToString("F" + decimals, Inv);
        long bits = BitConverter.DoubleToInt64Bits(v);
        int exp = (int)((bits >> 52) & 0x7FF);
        long mant = bits & 0xFFFFFFFFFFFFFL;
        if (exp == 0) exp++; else mant |= 1L << 52;
        exp -= 1075; // v = mant * 2^exp exactly
        var scaled = new System.Numerics.BigInteger(mant) * System.Numerics.BigInteger.Pow(10, decimals);
        System.Numerics.BigInteger q;
        if (exp >= 0) q = scaled << exp;
        else
        {
            var den = System.Numerics.BigInteger.One << -exp;
            q = System.Numerics.BigInteger.DivRem(scaled, den, out var rem);
            int c = (rem * 2).CompareTo(den);
            if (c > 0 || (c == 0 && !q.IsEven)) q += 1;
        }
        var digits = q.ToString(Inv).PadLeft(decimals + 1, '0');
        return decimals == 0 ? digits : digits[..^decimals] + "." + digits[^decimals..];
    }

    /// <summary>File or Memory, as `nats stream report` prints the storage.</summary>
    public static string Storage(string storage) => storage switch
    {
        "file" => "File",
        "memory" => "Memory",
        _ => storage,
    };

    /// <summary>
    /// The `nats stream report` placement: every peer, the leader marked `*`, and `!` on the peers
    /// <paramref name="hasProblem"/> says a problem is about (outdated or offline replicas).
    /// </summary>
    public static string Placement(IReadOnlyList<PeerView> peers, string? leader, Func<string, bool> hasProblem)
    {
        if (peers.Count == 0) return leader is null ? "" : leader + "*";
        return string.Join(", ", peers.Select(p => p.Name + (p.IsLeader ? "*" : "") + (hasProblem(p.Name) ? "!" : "")));
    }

    /// <summary>"current, seen 70ms ago", "outdated, OFFLINE, seen 5.02s ago, 150 operations behind".</summary>
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

    /// <summary>One line of the `Cluster Information` block; <see cref="Problem"/> when a problem is about it.</summary>
    public readonly record struct Line(string Text, bool Problem);

    /// <summary>The `Cluster Information` block of `nats stream info`, one line per entry, marked from the stream's problems.</summary>
    public static IReadOnlyList<Line> ClusterInformation(StreamView s, HealthReport health)
    {
        var key = StreamKey.Of(s);
        var lines = new List<Line>
        {
            new("Cluster Information:", false),
            new("", false),
            new(Field("Name", s.Cluster.Length == 0 ? "(not clustered)" : s.Cluster), false),
            new(Field("Leader", s.HasLeader ? s.Leader ?? "" : s.Reachable ? "none: no leader reported" : "none: every server hosting it failed this poll"),
                health.StreamLeaderMissing(key)),
        };
        foreach (var p in s.Peers.Where(p => !p.IsLeader))
            lines.Add(new(Field("Replica", $"{p.Name}, {PeerState(p)}"), health.StreamReplicaHasProblem(key, p.Name)));
        return lines;
    }

    private static string Field(string name, string value) => name.PadLeft(21) + ": " + value;

    public static string YesNo(bool? b) => b switch { true => "true", false => "false", null => "unknown" };

    /// <summary>How long ago, e.g. "3.02s ago", for an age in seconds.</summary>
    public static string Ago(double seconds) => Duration(seconds) + " ago";
}
