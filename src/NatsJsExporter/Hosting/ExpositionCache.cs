using NatsJsExporter.Metrics;

namespace NatsJsExporter.Hosting;

/// <summary>
/// Which exposition form /metrics sends: text (Prometheus 0.0.4) or OpenMetrics 1.0; gzip or not
/// is only whether the stored form is sent as it is or inflated on the way out.
/// </summary>
public enum ExpositionForm { Text = 0, OpenMetrics = 1 }

/// <summary>
/// Remembers which forms scrapers asked for, so that a poll renders just those (Prometheus asks for
/// OpenMetrics; a person with curl for text), both in one pass when both are wanted, and a scrape
/// never waits for a render. A form nobody asked for in <see cref="RememberWanted"/> is not made;
/// if it is asked for, it is made once for the published snapshot and kept with it (never beyond it).
/// </summary>
public sealed class ExpositionCache(TimeProvider? time = null)
{
    /// <summary>A form asked for within this long is made at every publish.</summary>
    public static readonly TimeSpan RememberWanted = TimeSpan.FromMinutes(10);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private long _textWanted;
    private long _openMetricsWanted;
    private long _made;

    /// <summary>How many forms were made for a published snapshot apart from its poll's render (for tests: at most once per snapshot and form).</summary>
    public long EncodeCount => Interlocked.Read(ref _made);

    public bool WantsText => Recent(ref _textWanted);

    public bool WantsOpenMetrics => Recent(ref _openMetricsWanted);

    private bool Recent(ref long wanted)
    {
        long last = Volatile.Read(ref wanted);
        return last != 0 && _time.GetUtcNow().UtcTicks - last <= RememberWanted.Ticks;
    }

    public CompressedExposition Get(PublishedSnapshot published, ExpositionForm form)
    {
        long now = _time.GetUtcNow().UtcTicks;
        if (form == ExpositionForm.Text)
        {
            Volatile.Write(ref _textWanted, now);
            return published.TextForm(Made);
        }
        Volatile.Write(ref _openMetricsWanted, now);
        return published.OpenMetricsForm(Made);
    }

    /// <summary>Makes the forms scrapers asked for recently; call before the snapshot is served.</summary>
    public void Prepare(PublishedSnapshot published)
    {
        if (WantsOpenMetrics && !published.HasOpenMetrics) published.OpenMetricsForm(Made);
        if (WantsText && !published.HasText) published.TextForm(Made);
    }

    private void Made() => Interlocked.Increment(ref _made);
}
