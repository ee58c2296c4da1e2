using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using NatsJsExporter.Metrics;
using NatsJsExporter.Model;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Sources;

namespace NatsJsExporter.Benchmarks;

// One cycle's steps on the synthetic workload (3 servers, N streams R3, 3 consumers each).
// Few, long iterations: a 10,000-stream step takes hundreds of milliseconds.

public abstract class StepBenchmark
{
    [Params(1_000, 10_000)]
    public int Streams { get; set; }

    [Params(1, 100)]
    public int Accounts { get; set; }

    protected Workload Workload = null!;

    protected void Generate() => Workload = Workload.Generate(Streams, Accounts);
}

/// <summary>System.Text.Json (source-generated context) into the exporter's DTOs: the cost floor of a cycle.</summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, warmupCount: 2, iterationCount: 8, invocationCount: 1)]
public class ParseBenchmark : StepBenchmark
{
    [GlobalSetup]
    public void Setup() => Generate();

    [Benchmark(Description = "parse 3 servers (bytes)")]
    public int ParseBytes()
    {
        int n = 0;
        foreach (var json in Workload.Jsz) n += BenchData.Parse(json).AccountDetails!.Count;
        return n;
    }

    [Benchmark(Description = "parse 3 servers (stream, as the exporter reads)")]
    public async Task<int> ParseStream()
    {
        int n = 0;
        foreach (var json in Workload.Jsz)
        {
            using var ms = new MemoryStream(json, writable: false);
            var jsz = await JszReader.ReadAsync(ms, CancellationToken.None);
            n += jsz!.AccountDetails!.Count;
        }
        return n;
    }

    [Benchmark(Description = "parse 3 servers (bytes, System.Text.Json: the baseline)")]
    public int ParseBytesStj()
    {
        int n = 0;
        foreach (var json in Workload.Jsz) n += JsonSerializer.Deserialize(json, JszJsonContext.Default.JszResponse)!.AccountDetails!.Count;
        return n;
    }

    [Benchmark(Description = "parse 3 servers (stream, System.Text.Json, as the exporter read before JszReader)")]
    public async Task<int> ParseStreamStj()
    {
        int n = 0;
        foreach (var json in Workload.Jsz)
        {
            using var ms = new MemoryStream(json, writable: false);
            var jsz = await JsonSerializer.DeserializeAsync(ms, JszJsonContext.Default.JszResponse);
            n += jsz!.AccountDetails!.Count;
        }
        return n;
    }
}

/// <summary>SnapshotBuilder.Build: merge three servers' views into one snapshot (with a previous one, as in steady state).</summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, warmupCount: 2, iterationCount: 8, invocationCount: 1)]
public class MergeBenchmark : StepBenchmark
{
    private List<ServerReport> _reports = null!;
    private ClusterSnapshot _previous = null!;

    [GlobalSetup]
    public void Setup()
    {
        Generate();
        _reports = BenchData.Reports(Workload);
        _previous = SnapshotBuilder.Build(BenchData.Input(_reports)).Snapshot;
    }

    [Benchmark(Description = "SnapshotBuilder.Build")]
    public int Merge() => SnapshotBuilder.Build(BenchData.Input(_reports, _previous)).Snapshot.Streams.Count;
}

/// <summary>MetricsRenderer.Render: the whole exposition of one snapshot.</summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, warmupCount: 2, iterationCount: 8, invocationCount: 1)]
public class RenderBenchmark : StepBenchmark
{
    private ClusterSnapshot _snapshot = null!;

    [GlobalSetup]
    public void Setup()
    {
        Generate();
        _snapshot = SnapshotBuilder.Build(BenchData.Input(BenchData.Reports(Workload))).Snapshot;
    }

    [Benchmark(Description = "MetricsRenderer.Render")]
    public int Render() => MetricsRenderer.Render(_snapshot, "bench").Length;
}
