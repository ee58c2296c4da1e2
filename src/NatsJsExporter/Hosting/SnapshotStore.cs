using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Hosting;

/// <summary>A snapshot and its exposition (text format, UTF-8), rendered once, published together.</summary>
public sealed record PublishedSnapshot(ClusterSnapshot Snapshot, ReadOnlyMemory<byte> Exposition);

/// <summary>Holds the latest published snapshot. Readers always see a whole one: the reference is swapped atomically.</summary>
public sealed class SnapshotStore(ExpositionCache? encodings = null)
{
    private volatile PublishedSnapshot? _current;

    public PublishedSnapshot? Current => _current;

    public bool Ready => _current is not null;

    public void Publish(PublishedSnapshot published)
    {
        encodings?.Prepare(published); // gzip/OpenMetrics that scrapers want, made before it is served
        _current = published;
    }
}
