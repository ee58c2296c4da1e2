using System.Globalization;

namespace NatsJsExporter.Options;

/// <summary>
/// Durations as Prometheus and Go write them (15s, 500ms, 2m, 1h, 1m30s) or a plain number of
/// seconds. TimeSpan.Parse reads "00:00:15", not "15s", so this one format stays hand-written.
/// </summary>
public static class Durations
{
    public static bool TryParse(string value, out TimeSpan result)
    {
        result = TimeSpan.Zero;
        var s = value.Trim();
        if (s.Length == 0) return false;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var plain))
        {
            if (!double.IsFinite(plain) || plain > TimeSpan.MaxValue.TotalSeconds / 2) return false;
            result = TimeSpan.FromSeconds(plain);
            return true;
        }
        int i = 0;
        double totalMs = 0;
        while (i < s.Length)
        {
            int start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
            if (start == i || !double.TryParse(s.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var n)) return false;
            int unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i])) i++;
            double factor = s[unitStart..i] switch { "ms" => 1, "s" => 1000, "m" => 60_000, "h" => 3_600_000, _ => -1 };
            if (factor < 0) return false;
            totalMs += n * factor;
        }
        if (totalMs > TimeSpan.MaxValue.TotalMilliseconds / 2) return false;
        result = TimeSpan.FromMilliseconds(totalMs);
        return true;
    }
}
