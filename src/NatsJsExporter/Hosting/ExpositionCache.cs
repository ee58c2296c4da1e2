using System.IO.Compression;
using System.Runtime.CompilerServices;
using NatsJsExporter.Metrics;

namespace NatsJsExporter.Hosting;

/// <summary>One of the ways /metrics can send a snapshot's exposition.</summary>
public enum ExpositionEncoding { Text = 0, TextGzip = 1, OpenMetrics = 2, OpenMetricsGzip = 3 }

/// <summary>
/// The encodings of a published snapshot other than plain text (gzip, OpenMetrics, both), each
/// made at most once per snapshot however many scrapers ask. Encodings that scrapers asked for
/// recently are made when the snapshot is published (on the poller's thread, before it is
/// served), so a scrape never waits for a compression; others are made on the first request.
/// </summary>
public sealed class ExpositionCache(TimeProvider? time = null)
{
    /// <summary>An encoding asked for within this long is prepared at every publish.</summary>
    public static readonly TimeSpan RememberWanted = TimeSpan.FromMinutes(10);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly long[] _lastWanted = new long[4];

    // Per published snapshot, its encodings; an entry lives exactly as long as its snapshot (the
    // one being served, or an older one a slow request still sends), never keeping one alive.
    private readonly ConditionalWeakTable<PublishedSnapshot, Entry> _entries = new();

    private sealed class Entry
    {
        public readonly byte[]?[] Bytes = new byte[4][];
    }

    /// <summary>How many encodings were made (for tests: once per snapshot and encoding).</summary>
    public long EncodeCount => Interlocked.Read(ref _encodes);

    private long _encodes;

    public ReadOnlyMemory<byte> Get(PublishedSnapshot published, ExpositionEncoding encoding)
    {
        if (encoding == ExpositionEncoding.Text) return published.Exposition;
        Volatile.Write(ref _lastWanted[(int)encoding], _time.GetUtcNow().UtcTicks);
        return GetOrEncode(published, encoding);
    }

    /// <summary>Makes the encodings scrapers asked for recently; call before the snapshot is served.</summary>
    public void Prepare(PublishedSnapshot published)
    {
        long now = _time.GetUtcNow().UtcTicks;
        for (int e = 1; e < 4; e++)
        {
            long last = Volatile.Read(ref _lastWanted[e]);
            if (last == 0 || now - last > RememberWanted.Ticks) continue;
            GetOrEncode(published, (ExpositionEncoding)e);
        }
    }

    private byte[] GetOrEncode(PublishedSnapshot published, ExpositionEncoding encoding)
    {
        var entry = _entries.GetValue(published, static _ => new Entry());
        int i = (int)encoding;
        var bytes = Volatile.Read(ref entry.Bytes[i]);
        if (bytes is not null) return bytes;
        lock (entry)
        {
            bytes = entry.Bytes[i];
            if (bytes is null)
            {
                bytes = Encode(published.Exposition, encoding);
                Interlocked.Increment(ref _encodes);
                Volatile.Write(ref entry.Bytes[i], bytes);
            }
            return bytes;
        }
    }

    public static byte[] Encode(ReadOnlyMemory<byte> text, ExpositionEncoding encoding)
    {
        switch (encoding)
        {
            case ExpositionEncoding.Text:
                return text.ToArray();
            case ExpositionEncoding.OpenMetrics:
                return OpenMetricsText.FromText(text.Span);
            default:
                // Fastest: the exposition is label-heavy and repetitive, so it already shrinks about
                // tenfold; Optimal costs several times the CPU for a few % less.
                using (var ms = new MemoryStream(text.Length / 8 + 1024))
                {
                    using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
                    {
                        if (encoding == ExpositionEncoding.OpenMetricsGzip) OpenMetricsText.Write(text.Span, gz);
                        else gz.Write(text.Span);
                    }
                    return ms.ToArray();
                }
        }
    }
}
