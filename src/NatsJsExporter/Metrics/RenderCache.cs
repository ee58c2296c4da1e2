using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>
/// The encoded labels of every stream and consumer (identity, and identity plus peer or source),
/// kept from one render to the next: at 10,000 streams they are ~40,000 identities and ~150,000
/// identity+peer sets that otherwise would be UTF-8-encoded and escape-checked again on every
/// render. Keyed by the strings the labels are made of, so a cached set always holds exactly the
/// bytes a fresh encoding would (the output never depends on the cache); entries not used by the
/// last render are dropped. Also keeps the per-render scratch arrays (label runs, gathered values),
/// so a steady-state render allocates little beyond its output buffer; at 10,000 streams it holds
/// ~80 MB between polls. One render at a time: pass it to
/// <see cref="MetricsRenderer.RenderCompressed"/> (or <see cref="MetricsRenderer.Render"/>) from a single caller.
/// </summary>
public sealed class RenderCache
{
    private readonly Dictionary<AssetKey, AssetLabels> _assets = [];
    private readonly Dictionary<string, LabelRun> _runs = new(StringComparer.Ordinal);
    private int _generation;
    private RenderAssets? _last;

    internal readonly record struct AssetKey(string Cluster, string Domain, string Account, string Stream, string? Consumer);

    /// <summary>Used for one render only (the overload without a cache): nothing to trim or drop afterwards.</summary>
    internal bool Transient { get; init; }

    /// <summary>Assets cached (streams and consumers), for tests and diagnostics.</summary>
    public int Count => _assets.Count;

    /// <summary>Each stream's and consumer's labels for one render, in snapshot order.</summary>
    internal RenderAssets Begin(ClusterSnapshot s)
    {
        _generation++;
        var streams = s.Streams;
        var streamLabels = new AssetLabels[streams.Count];
        var consumerStart = new int[streams.Count + 1];
        int count = 0;
        for (int i = 0; i < streams.Count; i++) count += streams[i].Consumers.Count;
        var consumerLabels = new AssetLabels[count];
        int n = 0;
        var last = _last;
        for (int i = 0; i < streams.Count; i++)
        {
            var st = streams[i];
            // Polls list the same assets in the same order: try the last render's asset at this
            // position (a few string compares) before the dictionary (hashing five strings).
            var key = new AssetKey(st.Cluster, st.Domain, st.Account, st.Name, null);
            var previous = last is not null && i < last.Streams.Length ? last.Streams[i] : null;
            var stream = Get(key, previous, null, st);
            streamLabels[i] = stream;
            consumerStart[i] = n;
            int lastFirst = 0, lastCount = 0;
            if (ReferenceEquals(stream, previous))
            {
                lastFirst = last!.ConsumerStart[i];
                lastCount = last.ConsumerStart[i + 1] - lastFirst;
            }
            for (int j = 0; j < st.Consumers.Count; j++)
                consumerLabels[n++] = Get(key with { Consumer = st.Consumers[j].Name }, j < lastCount ? last!.Consumers[lastFirst + j] : null, stream, st);
        }
        consumerStart[streams.Count] = n;
        return _last = new RenderAssets(streamLabels, consumerLabels, consumerStart, this);
    }

    /// <summary>The run named <paramref name="name"/>, emptied, its arrays kept from the last render.</summary>
    internal LabelRun Run(string name, int count)
    {
        if (!_runs.TryGetValue(name, out var run)) _runs[name] = run = new LabelRun();
        run.Clear(count);
        return run;
    }

    private readonly Dictionary<string, double?[]> _values = new(StringComparer.Ordinal);

    /// <summary>The scratch array named <paramref name="name"/>, at least <paramref name="length"/> values, reused from render to render (contents undefined).</summary>
    internal double?[] Values(string name, int length)
    {
        if (!_values.TryGetValue(name, out var values) || values.Length < length) _values[name] = values = new double?[length];
        return values;
    }

    /// <summary>Drops the assets (and their peer/source sets) the render just finished did not use.</summary>
    internal void End()
    {
        if (Transient) return;
        foreach (var run in _runs.Values) run.TrimExcess();
        foreach (var (key, labels) in _assets)
        {
            if (labels.Generation != _generation) _assets.Remove(key);
            else labels.Prune();
        }
    }

    private AssetLabels Get(AssetKey key, AssetLabels? previous, AssetLabels? stream, StreamView st)
    {
        var labels = previous is not null && previous.Key == key ? previous : null;
        if (labels is null && !_assets.TryGetValue(key, out labels))
        {
            var set = stream is null ? new LabelSet(StreamMetrics.Labels(st)) : stream.Set.With(new Label("consumer", key.Consumer!));
            _assets[key] = labels = new AssetLabels(set, key);
        }
        labels.Generation = _generation;
        return labels;
    }
}

/// <summary>The streams' and consumers' labels of one render: consumers of stream i are ConsumerStart[i]..ConsumerStart[i+1]-1.</summary>
internal sealed record RenderAssets(AssetLabels[] Streams, AssetLabels[] Consumers, int[] ConsumerStart, RenderCache Cache);

/// <summary>One asset's identity labels, and that identity followed by one more label (peer, source), each encoded once.</summary>
internal sealed class AssetLabels(LabelSet set, RenderCache.AssetKey key = default)
{
    public LabelSet Set { get; } = set;

    /// <summary>The strings the labels are made of (default for a meta group's, which are not cached).</summary>
    internal RenderCache.AssetKey Key { get; } = key;

    /// <summary>The render that last used this asset (RenderCache's counter).</summary>
    internal int Generation;

    private (string Name, string Value, LabelSet Set, int Generation)[] _more = [];
    private int _count;

    /// <summary>The identity followed by <c>name="value"</c>; <paramref name="name"/> is a literal (compared by reference).</summary>
    public LabelSet With(string name, string value)
    {
        var more = _more;
        for (int i = 0; i < _count; i++)
        {
            ref var m = ref more[i];
            if (ReferenceEquals(m.Name, name) && string.Equals(m.Value, value, StringComparison.Ordinal))
            {
                m.Generation = Generation;
                return m.Set;
            }
        }
        if (_count == more.Length) Array.Resize(ref _more, Math.Max(4, _count * 2));
        var set = Set.With(new Label(name, value));
        _more[_count++] = (name, value, set, Generation);
        return set;
    }

    private LabelSet? _info;
    private Label[] _infoLabels = [];

    /// <summary>The identity followed by the asset's metadata labels (its info series), encoded again only when they change.</summary>
    public LabelSet Info(params ReadOnlySpan<Label> labels)
    {
        if (_info is null || !labels.SequenceEqual(_infoLabels))
        {
            _info = Set.With(labels);
            _infoLabels = labels.ToArray();
        }
        return _info;
    }

    /// <summary>Forgets the extra sets the current render did not use (a peer moved away, a source removed).</summary>
    internal void Prune()
    {
        int kept = 0;
        for (int i = 0; i < _count; i++)
            if (_more[i].Generation == Generation) _more[kept++] = _more[i];
        Array.Clear(_more, kept, _count - kept);
        _count = kept;
    }
}

/// <summary>
/// Encoded label sets back to back in one array, in the order a family's series are written, so a
/// family over 30,000 consumers reads its labels sequentially (prefetched) instead of from 30,000
/// scattered arrays, a cache miss each, again for every family. Kept in the RenderCache: its
/// arrays are reused from render to render.
/// </summary>
internal sealed class LabelRun
{
    private byte[] _bytes = [];
    private int[] _ends = [];
    private int _length;

    public int Count { get; private set; }

    /// <summary>Empties the run, making room for <paramref name="count"/> sets (at most 128 bytes each, as a consumer's identity and peer; trimmed after the render).</summary>
    public void Clear(int count)
    {
        Count = 0;
        _length = 0;
        if (_ends.Length != 0) return; // later renders reuse the last one's (trimmed) arrays, growing only if more is needed
        _ends = new int[Math.Max(count, 16)];
        _bytes = GC.AllocateUninitializedArray<byte>((int)Math.Min(Math.Max(count, 16) * 128L, Array.MaxLength));
    }

    /// <summary>Shrinks the arrays to what this render used when they are much larger (the first render's estimate), so the cache holds no slack.</summary>
    public void TrimExcess()
    {
        if (_bytes.Length > _length + _length / 8 + 4096) Array.Resize(ref _bytes, _length);
        if (_ends.Length > Count + Count / 8 + 256) Array.Resize(ref _ends, Count);
    }

    public void Add(LabelSet set)
    {
        var encoded = set.Encoded;
        if (_bytes.Length - _length < encoded.Length) Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + encoded.Length + 4096));
        if (Count == _ends.Length) Array.Resize(ref _ends, Math.Max(_ends.Length * 2, 16));
        encoded.CopyTo(_bytes.AsSpan(_length));
        _length += encoded.Length;
        _ends[Count++] = _length;
    }

    public ReadOnlySpan<byte> this[int i]
    {
        get
        {
            int start = i == 0 ? 0 : _ends[i - 1];
            return _bytes.AsSpan(start, _ends[i] - start);
        }
    }
}
