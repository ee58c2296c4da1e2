using System.IO.Compression;
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
    private readonly Entry?[] _entries = new Entry?[2]; // the current snapshot and the one before it (requests in flight)
    private int _next;

    private sealed class Entry(PublishedSnapshot source)
    {
        public readonly PublishedSnapshot Source = source;
        public readonly byte[]?[] Bytes = new byte[4][];
    }

    /// <summary>How many encodings were made (for tests: once per snapshot and encoding).</summary>
    public long EncodeCount => Interlocked.Read(ref _encodes);

    private long _encodes;

    public ReadOnlyMemory<byte> Get(PublishedSnapshot published, ExpositionEncoding encoding)
    {
        if (encoding == ExpositionEncoding.Text) return published.Exposition;
        Volatile.Write(ref _lastWanted[(int)encoding], _time.GetUtcNow().UtcTicks);
        return GetOrEncode(EntryFor(published), encoding);
    }

    /// <summary>Makes the encodings scrapers asked for recently; call before the snapshot is served.</summary>
    public void Prepare(PublishedSnapshot published)
    {
        long now = _time.GetUtcNow().UtcTicks;
        Entry? entry = null;
        for (int e = 1; e < 4; e++)
        {
            long last = Volatile.Read(ref _lastWanted[e]);
            if (last == 0 || now - last > RememberWanted.Ticks) continue;
            GetOrEncode(entry ??= EntryFor(published), (ExpositionEncoding)e);
        }
    }

    private byte[] GetOrEncode(Entry entry, ExpositionEncoding encoding)
    {
        int i = (int)encoding;
        var bytes = Volatile.Read(ref entry.Bytes[i]);
        if (bytes is not null) return bytes;
        lock (entry)
        {
            bytes = entry.Bytes[i];
            if (bytes is null)
            {
                bytes = Encode(entry.Source.Exposition, encoding);
                Interlocked.Increment(ref _encodes);
                Volatile.Write(ref entry.Bytes[i], bytes);
            }
            return bytes;
        }
    }

    private Entry EntryFor(PublishedSnapshot published)
    {
        lock (_entries)
        {
            foreach (var e in _entries)
                if (e is not null && ReferenceEquals(e.Source, published)) return e;
            var entry = new Entry(published);
            _entries[_next] = entry;
            _next = (_next + 1) % _entries.Length;
            return entry;
        }
    }

    public static byte[] Encode(byte[] text, ExpositionEncoding encoding)
    {
        switch (encoding)
        {
            case ExpositionEncoding.Text:
                return text;
            case ExpositionEncoding.OpenMetrics:
                return OpenMetricsText.FromText(text);
            default:
                // Fastest: the exposition is label-heavy and repetitive, so it already shrinks about
                // tenfold; Optimal costs several times the CPU for a few % less.
                using (var ms = new MemoryStream(text.Length / 8 + 1024))
                {
                    using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
                    {
                        if (encoding == ExpositionEncoding.OpenMetricsGzip) OpenMetricsText.Write(text, gz);
                        else gz.Write(text);
                    }
                    return ms.ToArray();
                }
        }
    }
}
