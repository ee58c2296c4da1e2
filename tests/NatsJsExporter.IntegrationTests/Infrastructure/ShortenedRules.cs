using System.Globalization;
using System.Text.RegularExpressions;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

/// <summary>
/// A temp copy of the shipped alerts/natsjs.rules.yml with every <c>for:</c> divided by
/// <see cref="ForDivisor"/> (whole seconds, at least <see cref="MinFor"/>, never longer than
/// shipped): 2m -> 10s, 3m -> 15s, 5m -> 25s, 10m -> 50s, 15m -> 75s; 0s stays 0s. Rules whose
/// threshold is a clock (last_seen &gt;= 45 s, for: 0s) are not sped up by it. Nothing else in the file changes (asserted): expressions,
/// labels and annotations are the shipped ones. For tests whose point does not depend on how
/// long an alert waits (paging path, deduplication, grouping), not for tests of the waits
/// themselves (those load the shipped file unchanged).
/// </summary>
public static partial class ShortenedRules
{
    public const int ForDivisor = 12;
    public static readonly TimeSpan MinFor = TimeSpan.FromSeconds(5);

    [GeneratedRegex(@"^(?<indent>\s*)for:\s*(?<value>\S+)\s*$")]
    private static partial Regex ForLine();

    [GeneratedRegex(@"(\d+)(ms|s|m|h|d|w|y)")]
    private static partial Regex DurationPart();

    [GeneratedRegex(@"^\s*-\s*alert:\s*(\S+)\s*$")]
    private static partial Regex AlertLine();

    public static TimeSpan ParseDuration(string text)
    {
        var total = TimeSpan.Zero;
        var matches = DurationPart().Matches(text);
        if (string.Concat(matches.Select(m => m.Value)) != text) throw new FormatException("not a Prometheus duration: " + text);
        foreach (Match m in matches)
        {
            var n = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                "d" => TimeSpan.FromDays(n),
                "w" => TimeSpan.FromDays(7 * n),
                _ => TimeSpan.FromDays(365 * n),
            };
        }
        return total;
    }

    /// <summary>
    /// A for: divided by <see cref="ForDivisor"/>, whole seconds, at least <see cref="MinFor"/>; never
    /// longer than the shipped one (issue 15's last-seen rules ship <c>for: 0s</c> and keep it).
    /// </summary>
    public static string Shorten(string duration)
    {
        if (ParseDuration(duration) <= MinFor) return duration;
        var seconds = Math.Max((long)MinFor.TotalSeconds, (long)(ParseDuration(duration).TotalSeconds / ForDivisor));
        return seconds.ToString(CultureInfo.InvariantCulture) + "s";
    }

    /// <summary>The first <c>for:</c> of each alert name in a rules file.</summary>
    public static Dictionary<string, string> ForByAlert(string rules)
    {
        var result = new Dictionary<string, string>();
        string? current = null;
        foreach (var line in rules.Split('\n'))
        {
            if (AlertLine().Match(line) is { Success: true } a) current = a.Groups[1].Value;
            else if (ForLine().Match(line) is { Success: true } f && current is not null) result.TryAdd(current, f.Groups["value"].Value);
        }
        return result;
    }

    /// <summary>
    /// Writes the shortened copy of <paramref name="shippedPath"/> into a new temp directory
    /// (deleted on dispose) and checks that it differs from the shipped file in <c>for:</c>
    /// lines only.
    /// </summary>
    public static ShortenedRulesFile Write(string shippedPath)
    {
        var shippedText = File.ReadAllText(shippedPath);
        var shippedLines = shippedText.Split('\n');
        var copyLines = shippedLines.Select(line => ForLine().Match(line) is { Success: true } m
            ? $"{m.Groups["indent"].Value}for: {Shorten(m.Groups["value"].Value)}"
            : line).ToArray();

        // Plain exceptions, not xunit's Assert: bench/NatsJsExporter.Soak compiles this folder too.
        if (shippedLines.Length != copyLines.Length) throw new InvalidOperationException("shortened rules: line count changed");
        int changed = 0;
        for (int i = 0; i < shippedLines.Length; i++)
        {
            if (shippedLines[i] == copyLines[i]) continue;
            if (!ForLine().IsMatch(shippedLines[i]) || !ForLine().IsMatch(copyLines[i]))
                throw new InvalidOperationException($"shortened rules: line {i + 1} changed but is no for: line: {shippedLines[i]}");
            changed++;
        }
        if (changed < 10) throw new InvalidOperationException($"shortened rules: only {changed} for: lines rewritten");

        var copyText = string.Join('\n', copyLines);
        var dir = Directory.CreateTempSubdirectory("natsjs-rules-").FullName;
        var path = Path.Combine(dir, Path.GetFileName(shippedPath));
        File.WriteAllText(path, copyText);
        return new ShortenedRulesFile(path, ForByAlert(shippedText), ForByAlert(copyText));
    }
}

/// <summary>A shortened rules copy: its path and each alert's shipped and shortened <c>for:</c>.</summary>
public sealed record ShortenedRulesFile(string Path, IReadOnlyDictionary<string, string> ShippedFor, IReadOnlyDictionary<string, string> TestFor)
    : IDisposable
{
    public void Dispose()
    {
        try { Directory.Delete(System.IO.Path.GetDirectoryName(Path)!, recursive: true); } catch (Exception) { }
    }
}
