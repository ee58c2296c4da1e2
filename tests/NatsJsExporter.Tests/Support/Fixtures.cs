using System.Text.Json;
using NatsJsExporter.Options;
using NatsJsExporter.Model;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Sources;

namespace NatsJsExporter.Tests.Support;

/// <summary>
/// A fixture folder holds one /jsz answer per server, named after the server (n1.json …).
/// An optional targets-down.txt lists servers that were polled but did not answer.
/// </summary>
public static class Fixtures
{
    public static readonly DateTimeOffset CollectedAt = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static string Dir(string fixture) => Path.Combine(Repo.TestData, "fixtures", fixture);

    public static IEnumerable<string> All() =>
        Directory.GetDirectories(Path.Combine(Repo.TestData, "fixtures")).Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    public static JszResponse Parse(string path)
    {
        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize(stream, JszJsonContext.Default.JszResponse)!;
    }

    /// <summary>raftz/&lt;server&gt;.json beside a /jsz answer: that server's /raftz (account -> group -> state); null when absent.</summary>
    public static Dictionary<string, Dictionary<string, RaftzGroupDto>>? ParseRaftz(string path)
    {
        if (!File.Exists(path)) return null;
        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize(stream, RaftzJsonContext.Default.DictionaryStringDictionaryStringRaftzGroupDto);
    }

    /// <summary>
    /// healthz/&lt;server&gt;.json, as scripts/capture-fixtures.sh writes it: {"http_status": 503, "body": {...}}
    /// (the body exactly as the server sent it). Null when the fixture has no healthz answer for the server.
    /// </summary>
    public static HealthzAnswer? Healthz(string path)
    {
        if (!File.Exists(path)) return null;
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var body = doc.RootElement.GetProperty("body").Deserialize(HealthzJsonContext.Default.HealthzResponse);
        return new HealthzAnswer { StatusCode = doc.RootElement.GetProperty("http_status").GetInt32(), Body = body };
    }

    public static List<ServerReport> Reports(string fixture)
    {
        var dir = Dir(fixture);
        var version = fixture.Split('-')[0];
        var reports = Directory.GetFiles(dir, "*.json").Order(StringComparer.Ordinal).Select(f => new ServerReport
        {
            Target = Path.GetFileNameWithoutExtension(f),
            ServerName = Path.GetFileNameWithoutExtension(f),
            ServerVersion = version,
            Jsz = Parse(f),
            Raftz = ParseRaftz(Path.Combine(dir, "raftz", Path.GetFileName(f))),
            Duration = TimeSpan.FromMilliseconds(4),
            Healthz = Healthz(Path.Combine(dir, "healthz", Path.GetFileName(f))),
        }).Select(r => r.Jsz!.Disabled ? r with { ErrorReason = "jetstream_disabled", ErrorMessage = "JetStream is disabled" } : r).ToList();
        var down = Path.Combine(dir, "targets-down.txt");
        if (File.Exists(down))
        {
            foreach (var name in File.ReadAllLines(down).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
                reports.Add(ServerReport.Failed(name, name, "timeout", "no complete answer within 5s", TimeSpan.FromSeconds(5)));
        }
        return reports;
    }

    /// <summary>The snapshot a poll of this fixture produces, with fixed times so the output is reproducible.</summary>
    public static ClusterSnapshot Snapshot(string fixture, SnapshotFilter? filter = null) => Build(Reports(fixture), filter).Snapshot;

    public static SnapshotResult Build(IReadOnlyList<ServerReport> reports, SnapshotFilter? filter = null, ClusterSnapshot? previous = null)
    {
        var targets = reports.Select(r => new TargetView
        {
            Label = r.ServerName ?? r.Target,
            Target = r.Target,
            Up = r.Succeeded,
            DurationSeconds = r.Duration.TotalSeconds,
            LastSuccessUnixSeconds = r.Succeeded ? CollectedAt.ToUnixTimeSeconds() : null,
            LastError = r.ErrorMessage,
            ErrorsByReason = r.Succeeded ? [] : [new(r.ErrorReason!, 1)],
        }).OrderBy(t => t.Label, StringComparer.Ordinal).ToArray();
        return SnapshotBuilder.Build(new SnapshotInput
        {
            Reports = reports,
            Targets = targets,
            CollectedAt = CollectedAt,
            PollDuration = TimeSpan.FromMilliseconds(12),
            PollInterval = TimeSpan.FromSeconds(15),
            Previous = previous,
            Filter = filter ?? SnapshotFilter.None,
        });
    }
}
