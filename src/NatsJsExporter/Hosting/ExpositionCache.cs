using NatsJsExporter.Metrics;

namespace NatsJsExporter.Hosting;

/// <summary>
/// Which exposition form /metrics sends: text (Prometheus 0.0.4) or OpenMetrics 1.0; gzip or not
/// is only whether the stored form is sent as it is or inflated on the way out.
/// </summary>
public enum ExpositionForm { Text = 0, OpenMetrics = 1 }

/// <summary>
/// Remembers which forms scrapers asked for, so that a poll renders the OpenMetrics form (what
/// Prometheus asks for) in the same pass as the text form, and a scrape never waits for a render.
/// A form nobody asked for in <see cref="RememberWanted"/> is not made; if it is asked for, it is
/// converted once from the published text form and kept with it (never beyond it).
/// </summary>
public sealed class ExpositionCache(TimeProvider? time = null)
{
    /// <summary>A form asked for within this long is made at every publish.</summary>
    public static readonly TimeSpan RememberWanted = TimeSpan.FromMinutes(10);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private long _openMetricsWanted;
    private long _renders;

    /// <summary>How many OpenMetrics forms were converted apart from a poll's own render (for tests: at most once per snapshot).</summary>
    public long EncodeCount => Interlocked.Read(ref _renders);

    public bool WantsOpenMetrics
    {
        get
        {
            long last = Volatile.Read(ref _openMetricsWanted);
            return last != 0 && _time.GetUtcNow().UtcTicks - last <= RememberWanted.Ticks;
        }
    }

    public CompressedExposition Get(PublishedSnapshot published, ExpositionForm form)
    {
        if (form == ExpositionForm.Text) return published.Exposition;
        Volatile.Write(ref _openMetricsWanted, _time.GetUtcNow().UtcTicks);
        return published.OpenMetrics(() => Interlocked.Increment(ref _renders));
    }

    /// <summary>Makes the forms scrapers asked for recently; call before the snapshot is served.</summary>
    public void Prepare(PublishedSnapshot published)
    {
        if (WantsOpenMetrics && !published.HasOpenMetrics)
            published.OpenMetrics(() => Interlocked.Increment(ref _renders));
    }
}
