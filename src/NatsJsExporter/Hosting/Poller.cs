using System.Diagnostics;
using NatsJsExporter.Options;
using NatsJsExporter.Metrics;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Sources;

namespace NatsJsExporter.Hosting;

/// <summary>
/// One poll: ask the source, keep per-target bookkeeping (names, last success, error counts),
/// merge into a snapshot, render, publish. Logs a target's trouble when it starts or changes,
/// not on every poll.
/// </summary>
public sealed class Poller
{
    private readonly IJszSource _source;
    private readonly SnapshotStore _store;
    private readonly ILogger _logger;
    private readonly TimeSpan _interval;
    private readonly SnapshotFilter _filter;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, TargetState> _targets = new(StringComparer.Ordinal);
    private ClusterSnapshot? _previous;
    private readonly RenderCache _renderCache = new(); // encoded labels kept across polls (one render at a time: polls never overlap)

    private sealed class TargetState
    {
        public string? Name;
        public double? LastSuccess;
        public string? LastError;
        public readonly SortedDictionary<string, long> Errors = new(StringComparer.Ordinal);
    }

    public Poller(IJszSource source, SnapshotStore store, ILogger logger, TimeSpan interval, SnapshotFilter? filter = null, TimeProvider? time = null)
    {
        _source = source;
        _store = store;
        _logger = logger;
        _interval = interval;
        _filter = filter ?? SnapshotFilter.None;
        _time = time ?? TimeProvider.System;
    }

    public async Task<PublishedSnapshot> PollOnceAsync(CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        long allocatedBefore = GC.GetTotalAllocatedBytes();
        var reports = await _source.CollectAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var targets = UpdateTargets(reports, now);
        var result = SnapshotBuilder.Build(new SnapshotInput
        {
            Reports = reports,
            Targets = targets,
            CollectedAt = now,
            PollDuration = sw.Elapsed,
            PollInterval = _interval,
            KnownServers = _targets.Values.Where(t => t.Name is not null).Select(t => t.Name!).ToHashSet(StringComparer.Ordinal),
            Previous = _previous,
            Filter = _filter,
        });
        foreach (var conflict in result.Conflicts)
            _logger.LogWarning("Leadership conflict: {Conflict}", conflict);
        foreach (var invalid in MonitorThresholds.NewlyInvalid(_previous, result.Snapshot))
            _logger.LogWarning("Monitor threshold ignored: {Invalid}", invalid);

        var snapshot = result.Snapshot with { PollDuration = sw.Elapsed, ServersExpected = _source.ExpectedServers };
        bool aborted = reports.Any(r => r.ErrorReason == ResponseTooLargeException.Reason);
        reports = null!; // the parsed /jsz documents are dead from here on, not held to the end of this async method
        PollMemory.ReleaseParsedDocuments(allocatedBefore, aborted);
        var published = new PublishedSnapshot(snapshot,
            MetricsRenderer.RenderCompressed(snapshot, BuildInfo.Version, text: _store.WantsText, openMetrics: _store.WantsOpenMetrics, _renderCache),
            static s => MetricsRenderer.RenderCompressed(s, BuildInfo.Version, text: true, openMetrics: false).Text!);
        _previous = snapshot;
        _store.Publish(published);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            var gc = GC.GetGCMemoryInfo();
            _logger.LogDebug("Poll done in {Ms:0} ms: {Up}/{Targets} targets up, {Streams} streams, {Bytes} bytes of metrics ({Gzip} gzip); GC heap {HeapMb:0} MB, committed {CommittedMb:0} MB, fragmented {FragmentedMb:0} MB; GC pauses since the last poll {PauseMs:0} ms",
                sw.Elapsed.TotalMilliseconds, targets.Count(t => t.Up), targets.Count, snapshot.Streams.Count, published.Rendered.TextLength, published.Rendered.GzipLength,
                gc.HeapSizeBytes / 1048576.0, gc.TotalCommittedBytes / 1048576.0, gc.FragmentedBytes / 1048576.0, PollMemory.PausedSinceLastCall().TotalMilliseconds);
        }
        return published;
    }

    private List<TargetView> UpdateTargets(IReadOnlyList<ServerReport> reports, DateTimeOffset now)
    {
        var views = new List<TargetView>(reports.Count);
        foreach (var r in reports)
        {
            if (!_targets.TryGetValue(r.Target, out var state)) _targets[r.Target] = state = new TargetState();
            if (r.ServerName is not null && r.ServerName != r.Target) state.Name = r.ServerName;
            string label = state.Name ?? r.Target;
            if (r.Succeeded)
            {
                state.LastSuccess = now.ToUnixTimeMilliseconds() / 1000.0;
                if (state.LastError is not null)
                    _logger.LogInformation("Target {Target} ({Server}) answers again", r.Target, label);
                state.LastError = null;
            }
            else
            {
                var reason = r.ErrorReason ?? "error";
                state.Errors[reason] = state.Errors.GetValueOrDefault(reason) + 1;
                if (state.LastError != r.ErrorMessage)
                    _logger.LogWarning("Cannot poll {Server} ({Target}): {Error} (other servers are still served; retrying every {Interval}s)",
                        label, r.Target, r.ErrorMessage, _interval.TotalSeconds);
                state.LastError = r.ErrorMessage;
            }
            views.Add(new TargetView
            {
                Label = label,
                Target = r.Target,
                Up = r.Succeeded,
                DurationSeconds = r.Duration.TotalSeconds,
                LastSuccessUnixSeconds = state.LastSuccess,
                LastError = state.LastError,
                ErrorsByReason = state.Errors.ToArray(),
            });
        }
        views.Sort((a, b) => string.CompareOrdinal(a.Label, b.Label));
        return views;
    }
}
