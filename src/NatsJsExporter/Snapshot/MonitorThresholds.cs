using System.Globalization;
using System.Text;

namespace NatsJsExporter.Snapshot;

// Per-asset check thresholds from stream and consumer metadata (`io.nats.monitor.*`), the keys
// natscli's `server check stream|consumer` reads (nats-io/jsm.go, monitor package). Parsed here as
// natscli parses them, so a value natscli accepts gives the same threshold and one it rejects is
// reported (once, see MonitorThresholds.NewlyInvalid) instead of silently meaning "no check".

/// <summary>How natscli parses a key's value.</summary>
public enum MonitorValueKind
{
    /// <summary>A whole number 0 or more (Go strconv.ParseUint): a negative value is an error.</summary>
    Unsigned,
    /// <summary>A whole number (Go strconv.Atoi): 0 or negative turns the check off.</summary>
    Signed,
    /// <summary>A duration such as 30s, 5m, 1h30m, 2d (jsm.go ParseDuration): 0 or negative turns the check off.</summary>
    Duration,
}

/// <summary>One known key: which asset carries it and how its value is read.</summary>
public sealed record MonitorKey(string Key, bool Consumer, MonitorValueKind Kind)
{
    /// <summary>The key without the `io.nats.monitor.` prefix: "lag-critical".</summary>
    public string Short => Key["io.nats.monitor.".Length..];
}

/// <summary>A threshold in effect: a value natscli would check (greater than 0). Durations in seconds.</summary>
public sealed record MonitorThreshold(string Key, double Value);

/// <summary>A value natscli cannot read: the key, the value as written, and what to write instead.</summary>
public sealed record InvalidMonitorThreshold(string Key, string Value, string Expected);

/// <summary>The `io.nats.monitor.*` settings of one stream or consumer (null on the view when it has none).</summary>
public sealed record MonitorSettings
{
    /// <summary>Thresholds in effect, in <see cref="MonitorThresholds.Keys"/> order.</summary>
    public IReadOnlyList<MonitorThreshold> Thresholds { get; init; } = [];
    /// <summary>Values natscli cannot read, in key order: not exported, reported as a problem.</summary>
    public IReadOnlyList<InvalidMonitorThreshold> Invalid { get; init; } = [];

    public double? Value(string key)
    {
        foreach (var t in Thresholds)
            if (t.Key == key) return t.Value;
        return null;
    }
}

public static class MonitorThresholds
{
    public const string Prefix = "io.nats.monitor.";

    /// <summary>The keys natscli's stream and consumer checks read, in the order metrics list them.</summary>
    public static readonly IReadOnlyList<MonitorKey> Keys =
    [
        new(Prefix + "lag-critical", false, MonitorValueKind.Unsigned),
        new(Prefix + "seen-critical", false, MonitorValueKind.Duration),
        new(Prefix + "min-sources", false, MonitorValueKind.Signed),
        new(Prefix + "max-sources", false, MonitorValueKind.Signed),
        new(Prefix + "peer-expect", false, MonitorValueKind.Signed),
        new(Prefix + "peer-lag-critical", false, MonitorValueKind.Unsigned),
        new(Prefix + "peer-seen-critical", false, MonitorValueKind.Duration),
        new(Prefix + "msgs-warn", false, MonitorValueKind.Unsigned),
        new(Prefix + "msgs-critical", false, MonitorValueKind.Unsigned),
        new(Prefix + "subjects-warn", false, MonitorValueKind.Signed),
        new(Prefix + "subjects-critical", false, MonitorValueKind.Signed),
        new(Prefix + "outstanding-ack-critical", true, MonitorValueKind.Signed),
        new(Prefix + "waiting-critical", true, MonitorValueKind.Signed),
        new(Prefix + "unprocessed-critical", true, MonitorValueKind.Signed),
        new(Prefix + "last-delivery-critical", true, MonitorValueKind.Duration),
        new(Prefix + "last-ack-critical", true, MonitorValueKind.Duration),
        new(Prefix + "redelivery-critical", true, MonitorValueKind.Signed),
    ];

    /// <summary>Go's time.Duration limit (about 292 years), beyond which jsm.go refuses a duration.</summary>
    private const double MaxDurationSeconds = long.MaxValue / 1e9;

    /// <summary>
    /// The settings of a stream (<paramref name="consumer"/> false) or consumer from its metadata:
    /// only the keys natscli reads for that kind of asset; others (io.nats.monitor.enabled, pinned,
    /// unknown keys) are ignored as natscli ignores them. Null when no known key is set.
    /// </summary>
    public static MonitorSettings? From(IReadOnlyDictionary<string, string>? metadata, bool consumer)
    {
        if (metadata is null || metadata.Count == 0) return null;
        List<MonitorThreshold>? thresholds = null;
        List<InvalidMonitorThreshold>? invalid = null;
        bool any = false;
        foreach (var k in Keys)
        {
            if (k.Consumer != consumer || !metadata.TryGetValue(k.Key, out var raw)) continue;
            any = true;
            var (value, expected) = Parse(k.Kind, raw);
            if (expected is not null)
                (invalid ??= []).Add(new InvalidMonitorThreshold(k.Key, raw, expected));
            else if (value > 0)
                (thresholds ??= []).Add(new MonitorThreshold(k.Key, value!.Value));
        }
        return any ? new MonitorSettings { Thresholds = thresholds?.ToArray() ?? [], Invalid = invalid?.ToArray() ?? [] } : null;
    }

    /// <summary>
    /// A value as natscli reads it: (number, null) when valid (0 or negative: the check is off), or
    /// (null, what to write instead) when natscli would refuse it.
    /// </summary>
    public static (double? Value, string? Expected) Parse(MonitorValueKind kind, string raw)
    {
        switch (kind)
        {
            case MonitorValueKind.Unsigned:
                if (raw.Length > 0 && raw.All(char.IsAsciiDigit) && ulong.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var u))
                    return (u, null);
                return (null, "a whole number such as 200 (0 turns the check off; no sign, unit or decimals)");
            case MonitorValueKind.Signed:
            {
                var digits = raw.Length > 0 && raw[0] is '+' or '-' ? raw.AsSpan(1) : raw.AsSpan();
                if (digits.Length > 0 && !digits.ContainsAnyExcept("0123456789") &&
                    long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                    return (l, null);
                return (null, "a whole number such as 10 (0 turns the check off; no unit or decimals)");
            }
            default:
                return ParseDuration(raw) is { } seconds
                    ? (seconds, null)
                    : (null, "a duration such as 30s, 5m, 1h30m or 2d (units ns, us, ms, s, m, h, d, w, M, y; 0 turns the check off)");
        }
    }

    /// <summary>
    /// Seconds from a jsm.go duration: "0", or an optional sign then one or more number+unit
    /// parts (ns us ms s m h as Go, d/D day, w/W week, M 30-day month, y/Y 365-day year); null when
    /// not one (a bare number other than 0 is not: natscli refuses "30").
    /// </summary>
    public static double? ParseDuration(string raw)
    {
        var s = raw.Trim();
        if (s == "0") return 0;
        if (s.Length == 0) return null;
        int i = 0, sign = 1;
        if (s[0] is '-' or '+')
        {
            if (s[0] == '-') sign = -1;
            i = 1;
        }
        if (i == s.Length) return null;
        double total = 0;
        while (i < s.Length)
        {
            int start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
            if (i == start || !double.TryParse(s.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
                return null;
            int unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i])) i++;
            double? unit = s.AsSpan(unitStart, i - unitStart) switch
            {
                "ns" => 1e-9,
                "us" => 1e-6,
                "ms" => 1e-3,
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                "d" or "D" => 86400,
                "w" or "W" => 7 * 86400,
                "M" => 30 * 86400,
                "y" or "Y" => 365 * 86400,
                _ => null,
            };
            if (unit is null) return null;
            total += number * unit.Value;
            if (total >= MaxDurationSeconds) return null;
        }
        return sign * total;
    }

    /// <summary>
    /// One log line per invalid value that is new in <paramref name="current"/>: not in
    /// <paramref name="previous"/> for the same asset, key and value (so a value is logged once
    /// while it stays wrong, and again only after it was changed to another wrong value).
    /// </summary>
    public static IEnumerable<string> NewlyInvalid(ClusterSnapshot? previous, ClusterSnapshot current)
    {
        HashSet<(string, string, string, string, string, string)>? seen = null;
        if (previous is not null)
        {
            seen = [];
            foreach (var st in previous.Streams)
            {
                foreach (var x in st.Monitor?.Invalid ?? []) seen.Add((st.Domain, st.Account, st.Name, "", x.Key, x.Value));
                foreach (var c in st.Consumers)
                    foreach (var x in c.Monitor?.Invalid ?? []) seen.Add((st.Domain, st.Account, st.Name, c.Name, x.Key, x.Value));
            }
        }
        foreach (var st in current.Streams)
        {
            foreach (var x in st.Monitor?.Invalid ?? [])
                if (seen is null || !seen.Contains((st.Domain, st.Account, st.Name, "", x.Key, x.Value)))
                    yield return Describe(st.Domain, st.Account, st.Name, null, x);
            foreach (var c in st.Consumers)
                foreach (var x in c.Monitor?.Invalid ?? [])
                    if (seen is null || !seen.Contains((st.Domain, st.Account, st.Name, c.Name, x.Key, x.Value)))
                        yield return Describe(st.Domain, st.Account, st.Name, c.Name, x);
        }
    }

    /// <summary>The one sentence for an invalid value (log line, status page, report).</summary>
    public static string Describe(string domain, string account, string stream, string? consumer, InvalidMonitorThreshold x) =>
        $"{(consumer is null ? "stream" : "consumer")} metadata {x.Key}=\"{Printable(x.Value)}\" on account {account}{(domain.Length == 0 ? "" : $" (domain {domain})")}, " +
        $"stream {stream}{(consumer is null ? "" : $", consumer {consumer}")} is not {(x.Expected.StartsWith("a duration", StringComparison.Ordinal) ? "a duration" : "a whole number")} natscli can read: " +
        $"no threshold is exported for it; write {x.Expected}";

    /// <summary>The value as written, cut at 64 characters, control characters escaped (one log line, whatever the metadata holds).</summary>
    private static string Printable(string value)
    {
        var sb = new StringBuilder(Math.Min(value.Length, 64) + 8);
        foreach (var ch in value.Length > 64 ? value[..64] : value)
        {
            if (char.IsControl(ch)) sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)ch:x4}");
            else if (ch is '"' or '\\') sb.Append('\\').Append(ch);
            else sb.Append(ch);
        }
        if (value.Length > 64) sb.Append('…');
        return sb.ToString();
    }
}
