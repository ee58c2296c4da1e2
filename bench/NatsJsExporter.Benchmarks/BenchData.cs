using System.Text.Json;
using NatsJsExporter.Model;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Sources;

namespace NatsJsExporter.Benchmarks;

/// <summary>Turns a workload into what the exporter's pipeline steps take: parsed reports, merge input.</summary>
public static class BenchData
{
    public static readonly DateTimeOffset CollectedAt = new(2026, 11, 26, 4, 0, 0, TimeSpan.Zero);

    /// <summary>As the exporter parses /jsz: the hand-written <see cref="JszReader"/> (the STJ baseline is CycleHarness's).</summary>
    public static JszResponse Parse(byte[] json) =>
        JszReader.Read(json) ?? throw new JsonException("null");

    public static List<ServerReport> Reports(Workload w) =>
        Enumerable.Range(0, w.Jsz.Length).Select(i => Report(i, Parse(w.Jsz[i]))).ToList();

    public static ServerReport Report(int server, JszResponse jsz) => new()
    {
        Target = $"http://127.0.0.1:{8222 + server}",
        ServerName = Workload.ServerNames[server],
        ServerVersion = "2.9.10",
        ClusterName = Workload.Cluster,
        Jsz = jsz,
        Duration = TimeSpan.FromMilliseconds(50),
    };

    public static SnapshotInput Input(IReadOnlyList<ServerReport> reports, ClusterSnapshot? previous = null) => new()
    {
        Reports = reports,
        Targets = reports.Select(r => new TargetView
        {
            Label = r.ServerName!,
            Target = r.Target,
            Up = true,
            DurationSeconds = r.Duration.TotalSeconds,
            LastSuccessUnixSeconds = CollectedAt.ToUnixTimeSeconds(),
            ErrorsByReason = [],
        }).ToArray(),
        CollectedAt = CollectedAt,
        PollDuration = TimeSpan.FromMilliseconds(500),
        PollInterval = TimeSpan.FromSeconds(15),
        KnownServers = new HashSet<string>(Workload.ServerNames, StringComparer.Ordinal),
        Previous = previous,
    };
}
