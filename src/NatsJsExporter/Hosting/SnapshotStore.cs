using NatsJsExporter.Metrics;
using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Hosting;

/// <summary>
/// A snapshot and its exposition, rendered once and published together. The exposition is held
/// compressed only (<see cref="CompressedExposition"/>): the text form always, the OpenMetrics form
/// when scrapers asked for it recently (made in the same render) or on the first request for it.
/// </summary>
public sealed class PublishedSnapshot
{
    private CompressedExposition? _openMetrics;

    public PublishedSnapshot(ClusterSnapshot snapshot, RenderedExposition exposition)
    {
        Snapshot = snapshot;
        Exposition = exposition.Text;
        _openMetrics = exposition.OpenMetrics;
    }

    /// <summary>From an exposition already rendered as text (tests, small tools).</summary>
    public PublishedSnapshot(ClusterSnapshot snapshot, ReadOnlyMemory<byte> text)
        : this(snapshot, new RenderedExposition(CompressedExposition.FromText(text.Span), null)) { }

    public ClusterSnapshot Snapshot { get; }

    /// <summary>The text exposition (Prometheus 0.0.4), compressed.</summary>
    public CompressedExposition Exposition { get; }

    /// <summary>The text exposition, inflated whole.</summary>
    public byte[] Text() => Exposition.ToText();

    /// <summary>The OpenMetrics form, converted from the text form on first use if the poll did not make it.</summary>
    internal CompressedExposition OpenMetrics(Action made)
    {
        if (Volatile.Read(ref _openMetrics) is { } om) return om;
        lock (this)
        {
            if (_openMetrics is null)
            {
                Volatile.Write(ref _openMetrics, OpenMetricsText.FromCompressedText(Exposition));
                made();
            }
            return _openMetrics;
        }
    }

    internal bool HasOpenMetrics => Volatile.Read(ref _openMetrics) is not null;
}

/// <summary>Holds the latest published snapshot. Readers always see a whole one: the reference is swapped atomically.</summary>
public sealed class SnapshotStore(ExpositionCache? encodings = null)
{
    private volatile PublishedSnapshot? _current;

    public PublishedSnapshot? Current => _current;

    public bool Ready => _current is not null;

    /// <summary>Whether the next render should make the OpenMetrics form as well (a scraper asked for it recently).</summary>
    public bool WantsOpenMetrics => encodings?.WantsOpenMetrics ?? false;

    public void Publish(PublishedSnapshot published)
    {
        encodings?.Prepare(published); // the OpenMetrics form, if scrapers want it, made before it is served
        _current = published;
    }
}
