using System.Diagnostics;
using BenchmarkDotNet.Running;
using NatsJsExporter.Benchmarks;
using NatsJsExporter.Metrics;
using NatsJsExporter.Snapshot;

// cycle  [--streams N] [--accounts 1|100] ...   whole-process harness (real exporter, HTTP on 127.0.0.1)
// steps  [--streams N] [--accounts 1|100]       quick in-process parse / merge / render timings
// jsz    [--streams N] [--accounts 1|100] DIR   write the generated /jsz answers (n1.json ...) to DIR
// oversize [--size-mb 600] [--cap-mb 64] [--gzip]  a misbehaving target: RSS against idle + 2 x cap
// anything else                                 BenchmarkDotNet (e.g. --filter '*Render*')
var root = BenchCommandLine.Build(
    cycle: o => new CycleHarness(o).RunAsync(),
    steps: StepsAsync,
    jsz: (streams, accounts, dir) =>
    {
        var w = Workload.Generate(streams, accounts);
        Directory.CreateDirectory(dir);
        for (int i = 0; i < w.Jsz.Length; i++) File.WriteAllBytes(Path.Combine(dir, Workload.ServerNames[i] + ".json"), w.Jsz[i]);
        Console.WriteLine($"wrote {w.Jsz.Length} /jsz answers ({w.TotalJszBytes / 1048576.0:0.0} MB) to {dir}");
        return Task.FromResult(0);
    },
    benchmarkDotNet: () =>
    {
        BenchmarkSwitcher.FromAssembly(typeof(Workload).Assembly).Run(args);
        return Task.FromResult(0);
    },
    oversize: o => new OversizeHarness(o).RunAsync());
return await BenchCommandLine.InvokeAsync(root, args);

static async Task<int> StepsAsync(int streams, int accounts, int? repsOption)
{
    var w = Workload.Generate(streams, accounts);
    Console.WriteLine($"{streams:N0} streams, {accounts} account(s): /jsz {w.TotalJszBytes / 1048576.0:0.0} MB over 3 servers");
    int reps = repsOption ?? (streams >= 10_000 ? 5 : 20);
    // STEPS_MERGE_ONLY=1: the merge alone (SnapshotBuilder.Build), parsed once, each merge fed the
    // previous snapshot as the exporter does; CPU and allocation per merge, and the snapshot's retained size.
    if (Environment.GetEnvironmentVariable("STEPS_MERGE_ONLY") == "1") return MergeOnly(w, reps);
    if (Environment.GetEnvironmentVariable("PROFILE_JSZREADER") is not null)
    {
        // Only the hand-written reader, for a profiler: reps passes over the workload's answers.
        for (int r = 0; r < reps; r++) foreach (var json in w.Jsz) GC.KeepAlive(NatsJsExporter.Model.JszReader.Read(json));
        return 0;
    }
    ClusterSnapshot? previous = null;
    var times = new List<(double Parse, double Merge, double Render, long Alloc)>();
    var me = Process.GetCurrentProcess();
    double Cpu() { me.Refresh(); return me.TotalProcessorTime.TotalMilliseconds; }
    for (int r = 0; r < reps + 1; r++)
    {
        long a0 = GC.GetTotalAllocatedBytes(precise: true);
        double t0 = Cpu();
        var reports = BenchData.Reports(w);
        double t1 = Cpu();
        var snap = SnapshotBuilder.Build(BenchData.Input(reports, previous)).Snapshot;
        double t2 = Cpu();
        var bytes = MetricsRenderer.Render(snap, "bench");
        double t3 = Cpu();
        double parse = t1 - t0, merge = t2 - t1, render = t3 - t2;
        previous = snap;
        if (r > 0) times.Add((parse, merge, render, GC.GetTotalAllocatedBytes(precise: true) - a0));
        if (r <= 1)
        {
            long withAll = GC.GetTotalMemory(forceFullCollection: true);
            GC.KeepAlive(reports);
            reports = null!;
            long withoutDtos = GC.GetTotalMemory(forceFullCollection: true);
            Console.WriteLine($"exposition {bytes.Length / 1048576.0:0.0} MB; live heap {withAll / 1048576.0:0} MB with the parsed DTOs, {withoutDtos / 1048576.0:0} MB without (snapshot + exposition + workload)");
        }
    }
    double Med(Func<(double Parse, double Merge, double Render, long Alloc), double> f) => times.Select(f).Order().ElementAt(times.Count / 2);
    RenderOnly(previous!, Math.Max(reps, 3), Cpu);
    if (Environment.GetEnvironmentVariable("RENDER_ONLY") == "1") return 0; // skip the parse comparisons below
    var ps = new List<double>();
    var ctx = NatsJsExporter.Model.JszJsonContext.Default;
    if (Environment.GetEnvironmentVariable("BUF") is { } buf)
        ctx = new NatsJsExporter.Model.JszJsonContext(new System.Text.Json.JsonSerializerOptions(ctx.Options) { DefaultBufferSize = int.Parse(buf) });
    long heapBeforeStreams = GC.GetTotalMemory(forceFullCollection: true);
    for (int r = 0; r < Math.Min(reps, 5); r++)
    {
        double s0 = Cpu();
        foreach (var json in w.Jsz)
        {
            using var ms = new MemoryStream(json, writable: false);
            GC.KeepAlive(await System.Text.Json.JsonSerializer.DeserializeAsync(ms, ctx.JszResponse));
        }
        ps.Add(Cpu() - s0);
    }
    var sync = new List<double>();
    for (int r = 0; r < Math.Min(reps, 5); r++)
    {
        double s0 = Cpu();
        foreach (var json in w.Jsz) GC.KeepAlive(System.Text.Json.JsonSerializer.Deserialize(json, ctx.JszResponse));
        sync.Add(Cpu() - s0);
    }
    var seqs = w.Jsz.Select(j => Seg.Of(j, 64 * 1024)).ToArray();
    var multi = new List<double>();
    for (int r = 0; r < Math.Min(reps, 5); r++)
    {
        double s0 = Cpu();
        foreach (var seq in seqs)
        {
            var reader = new System.Text.Json.Utf8JsonReader(seq);
            GC.KeepAlive(System.Text.Json.JsonSerializer.Deserialize(ref reader, ctx.JszResponse));
        }
        multi.Add(Cpu() - s0);
    }
    // The hand-written reader (Model/JszReader): whole bytes, fed in 64 KiB chunks, and from a stream as the exporter reads.
    var (jr, jrAlloc) = Measure(() => { foreach (var json in w.Jsz) GC.KeepAlive(NatsJsExporter.Model.JszReader.Read(json)); });
    var (jc, jcAlloc) = Measure(() =>
    {
        foreach (var json in w.Jsz)
        {
            using var reader = new NatsJsExporter.Model.JszReader();
            for (int o = 0; o < json.Length; o += 64 * 1024) reader.Feed(json.AsSpan(o, Math.Min(64 * 1024, json.Length - o)));
            GC.KeepAlive(reader.Complete());
        }
    });
    var (js, jsAlloc) = Measure(() =>
    {
        foreach (var json in w.Jsz)
        {
            using var ms = new MemoryStream(json, writable: false);
            GC.KeepAlive(NatsJsExporter.Model.JszReader.ReadAsync(ms, CancellationToken.None).AsTask().GetAwaiter().GetResult());
        }
    });
    var (sw, swAlloc) = Measure(() => { foreach (var json in w.Jsz) GC.KeepAlive(System.Text.Json.JsonSerializer.Deserialize(json, ctx.JszResponse)); });
    Console.WriteLine($"JszReader whole bytes: {jr:0} ms CPU, {jrAlloc / 1048576.0:0} MB allocated; fed 64 KiB chunks: {jc:0} ms, {jcAlloc / 1048576.0:0} MB; from a stream: {js:0} ms, {jsAlloc / 1048576.0:0} MB; STJ whole bytes (same loop): {sw:0} ms, {swAlloc / 1048576.0:0} MB");
    (double Ms, long Alloc) Measure(Action parse)
    {
        var cpu = new List<double>();
        long alloc = 0;
        for (int r = 0; r < Math.Max(3, Math.Min(reps, 5)); r++)
        {
            long a0 = GC.GetTotalAllocatedBytes(precise: true);
            double s0 = Cpu();
            parse();
            cpu.Add(Cpu() - s0);
            alloc = GC.GetTotalAllocatedBytes(precise: true) - a0;
        }
        return (cpu.Order().ElementAt(cpu.Count / 2), alloc);
    }
    Console.WriteLine($"parse from 64 KiB chunks (Deserialize over a ReadOnlySequence): {multi.Order().ElementAt(multi.Count / 2):0} ms CPU");
    Console.WriteLine($"parse from whole bytes (Deserialize, the harness's baseline): {sync.Order().ElementAt(sync.Count / 2):0} ms CPU");
    Console.WriteLine($"parse from a stream (DeserializeAsync, as the exporter reads): {ps.Order().ElementAt(ps.Count / 2):0} ms CPU; live heap after: {(GC.GetTotalMemory(forceFullCollection: true) - heapBeforeStreams) / 1048576.0:0} MB more than before");
    Console.WriteLine($"CPU, median of {reps}: parse {Med(t => t.Parse):0} ms, merge {Med(t => t.Merge):0} ms, render {Med(t => t.Render):0} ms, allocated {Med(t => t.Alloc) / 1048576.0:0} MB per cycle");
    return 0;
}

static int MergeOnly(Workload w, int reps)
{
    var me = Process.GetCurrentProcess();
    double Cpu() { me.Refresh(); return me.TotalProcessorTime.TotalMilliseconds; }
    var reports = BenchData.Reports(w);
    ClusterSnapshot? previous = null, older = null;
    var cpu = new List<double>();
    var alloc = new List<long>();
    for (int r = 0; r < reps + 1; r++)
    {
        long a0 = GC.GetTotalAllocatedBytes(precise: true);
        double t0 = Cpu();
        older = previous;
        previous = SnapshotBuilder.Build(BenchData.Input(reports, previous)).Snapshot;
        double t1 = Cpu();
        if (r > 0) { cpu.Add(t1 - t0); alloc.Add(GC.GetTotalAllocatedBytes(precise: true) - a0); }
    }
    if (Environment.GetEnvironmentVariable("STEPS_MERGE_HASH") == "1") PrintHash(previous!);
    // Retained: the snapshot with everything it references that the parsed DTOs do not keep alive
    // (strings it shares with them count once the DTOs are gone, as in the exporter between polls).
    reports = null!;
    // Two alive at once in the exporter: the one served and the next (what they share counts once).
    long withTwo = GC.GetTotalMemory(forceFullCollection: true);
    GC.KeepAlive(older);
    older = null;
    long withSnapshot = GC.GetTotalMemory(forceFullCollection: true);
    GC.KeepAlive(previous);
    previous = null;
    long without = GC.GetTotalMemory(forceFullCollection: true);
    cpu.Sort();
    alloc.Sort();
    Console.WriteLine($"merge alone, {reps} reps: CPU median {cpu[cpu.Count / 2]:0} ms (min {cpu[0]:0}, max {cpu[^1]:0}), allocated {alloc[alloc.Count / 2] / 1048576.0:0.0} MB per merge, snapshot retains {(withSnapshot - without) / 1048576.0:0.0} MB, two consecutive {(withTwo - without) / 1048576.0:0.0} MB");
    return 0;
}

// Same content check between builds: the snapshot JSON (as /api/v1/snapshot writes it) and the exposition.
[System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
static void PrintHash(ClusterSnapshot snap)
{
    var ctx = NatsJsExporter.Views.ViewsJsonContext.Default;
    byte[] Json<T>(T value) => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)ctx.GetTypeInfo(typeof(T))!);
    using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
    sha.AppendData(Json(snap.Streams));
    sha.AppendData(Json(snap.Servers));
    sha.AppendData(Json(snap.MetaGroups));
    sha.AppendData(Json(snap.Accounts));
    sha.AppendData(Json(snap.Raft));
    sha.AppendData(MetricsRenderer.Render(snap, "bench"));
    Console.WriteLine($"snapshot JSON + exposition SHA-256 {Convert.ToHexString(sha.GetHashAndReset())[..16]}");
}

static partial class Program
{
    /// <summary>
    /// Render alone, as the poller does it (straight into gzip, the text form, with and without the
    /// cache it keeps across polls): CPU and bytes allocated per render, medians. RENDER_REPS
    /// overrides the count; RENDER_ONLY=1 stops after it.
    /// </summary>
    static void RenderOnly(ClusterSnapshot snap, int reps, Func<double> cpu)
    {
        if (Environment.GetEnvironmentVariable("RENDER_REPS") is { } r) reps = int.Parse(r, System.Globalization.CultureInfo.InvariantCulture);
        RenderedExposition Render(RenderCache? cache) => MetricsRenderer.RenderCompressed(snap, "bench", text: true, openMetrics: false, cache);
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var cache = new RenderCache();
        var first = Render(cache); // fills the cache, as the poller's first poll does
        long held = GC.GetTotalMemory(forceFullCollection: true) - heapBefore - first.Text!.GzipLength;
        Console.WriteLine($"RenderCache holds {held / 1048576.0:0.0} MB live ({cache.Count:N0} assets)");
        GC.KeepAlive(first);
        var runs = new[] { new List<(double Cpu, long Alloc)>(), new List<(double Cpu, long Alloc)>() };
        long text = 0;
        for (int i = 0; i < reps; i++)
        {
            for (int withCache = 0; withCache < 2; withCache++) // alternating, so machine noise hits both alike
            {
                GC.Collect();
                long a0 = GC.GetTotalAllocatedBytes(precise: true);
                double t0 = cpu();
                var rendered = Render(withCache == 1 ? cache : null);
                runs[withCache].Add((cpu() - t0, GC.GetTotalAllocatedBytes(precise: true) - a0));
                text = rendered.Text!.TextLength;
            }
        }
        foreach (var (name, run) in new[] { ("without cache", runs[0]), ("with RenderCache", runs[1]) })
            Console.WriteLine($"render only (into gzip, {name}), {reps} reps: CPU median {run.Select(x => x.Cpu).Order().ElementAt(reps / 2):0} ms " +
                $"(min {run.Min(x => x.Cpu):0}, max {run.Max(x => x.Cpu):0}), allocated {run.Select(x => x.Alloc).Order().ElementAt(reps / 2) / 1048576.0:0.0} MB per render, exposition {text / 1048576.0:0.0} MB");
    }
}

sealed class Seg : System.Buffers.ReadOnlySequenceSegment<byte>
{
    public static System.Buffers.ReadOnlySequence<byte> Of(byte[] data, int size)
    {
        Seg? first = null, last = null;
        for (int o = 0; o < data.Length; o += size)
        {
            var s = new Seg { Memory = data.AsMemory(o, Math.Min(size, data.Length - o)), RunningIndex = o };
            if (first is null) first = s; else last!.Next = s;
            last = s;
        }
        return first is null ? default : new System.Buffers.ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }
}
