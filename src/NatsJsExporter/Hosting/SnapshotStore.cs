using NatsJsExporter.Metrics;
using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Hosting;

/// <summary>
/// A snapshot and its exposition, rendered once and published together. The exposition is held
/// compressed only (<see cref="CompressedExposition"/>), in the forms scrapers asked for recently
/// (the poll renders them in one pass; Prometheus asks for OpenMetrics, curl for text). A form
/// the poll did not make is made on its first request and kept with this snapshot: OpenMetrics
/// converted from the text form, the text form rendered again from the snapshot (the render is
/// pure: the same bytes).
/// </summary>
public sealed class PublishedSnapshot
{
    private readonly Func<ClusterSnapshot, CompressedExposition>? _renderText;
    private CompressedExposition? _text;
    private CompressedExposition? _openMetrics;

    /// <param name="renderText">Renders the text form when it is asked for and <paramref name="exposition"/> lacks it.</param>
    public PublishedSnapshot(ClusterSnapshot snapshot, RenderedExposition exposition, Func<ClusterSnapshot, CompressedExposition>? renderText = null)
    {
        if (exposition.Text is null && (exposition.OpenMetrics is null || renderText is null))
            throw new ArgumentException("Without the text form, give the OpenMetrics form and a way to render the text form.", nameof(exposition));
        Snapshot = snapshot;
        _text = exposition.Text;
        _openMetrics = exposition.OpenMetrics;
        _renderText = renderText;
    }

    /// <summary>From an exposition already rendered as text (tests, small tools).</summary>
    public PublishedSnapshot(ClusterSnapshot snapshot, ReadOnlyMemory<byte> text)
        : this(snapshot, new RenderedExposition(CompressedExposition.FromText(text.Span), null)) { }

    public ClusterSnapshot Snapshot { get; }

    /// <summary>The text exposition (Prometheus 0.0.4), compressed; rendered on first use if the poll did not make it.</summary>
    public CompressedExposition Exposition => Form(ref _text, () => _renderText!(Snapshot), null);

    /// <summary>The text exposition, inflated whole.</summary>
    public byte[] Text() => Exposition.ToText();

    internal CompressedExposition TextForm(Action made) => Form(ref _text, () => _renderText!(Snapshot), made);

    /// <summary>The OpenMetrics form; converted from the text form on first use if the poll did not make it.</summary>
    internal CompressedExposition OpenMetricsForm(Action made) => Form(ref _openMetrics, () => OpenMetricsText.FromCompressedText(Exposition), made);

    /// <summary>A form the poll rendered (text if it did, else OpenMetrics), for sizes in logs without making a form.</summary>
    public CompressedExposition Rendered => Volatile.Read(ref _text) ?? _openMetrics!;

    internal bool HasText => Volatile.Read(ref _text) is not null;

    internal bool HasOpenMetrics => Volatile.Read(ref _openMetrics) is not null;

    private CompressedExposition Form(ref CompressedExposition? field, Func<CompressedExposition> make, Action? made)
    {
        if (Volatile.Read(ref field) is { } ready) return ready;
        lock (this)
        {
            if (field is null)
            {
                Volatile.Write(ref field, make());
                made?.Invoke();
            }
            return field;
        }
    }
}

/// <summary>Holds the latest published snapshot. Readers always see a whole one: the reference is swapped atomically.</summary>
public sealed class SnapshotStore(ExpositionCache? encodings = null)
{
    private volatile PublishedSnapshot? _current;

    public PublishedSnapshot? Current => _current;

    public bool Ready => _current is not null;

    /// <summary>Whether the next render should make the OpenMetrics form (a scraper asked for it recently).</summary>
    public bool WantsOpenMetrics => encodings?.WantsOpenMetrics ?? false;

    /// <summary>Whether the next render should make the text form: asked for recently, or nothing else is.</summary>
    public bool WantsText => encodings is null || encodings.WantsText || !encodings.WantsOpenMetrics;

    public void Publish(PublishedSnapshot published)
    {
        encodings?.Prepare(published); // the forms scrapers want, made before it is served
        _current = published;
    }
}
