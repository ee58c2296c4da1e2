using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace NatsJsExporter.Sources;

/// <summary>
/// A whole HTTP answer read into pooled 64 KiB chunks (below the large-object threshold, so the
/// large object heap never grows with answer sizes), then read back as a stream that hands each
/// chunk back to the pool as soon as it has been read. <see cref="ReadWholeAsync"/> stops reading the
/// moment the answer passes the limit: an oversized answer costs at most the limit plus one chunk,
/// and none of it is parsed. Used for the small answers (/varz, /raftz); /jsz, the large one, is
/// parsed as it arrives instead (<see cref="LimitedAnswerStream"/> bounds what it may build).
/// </summary>
internal sealed class PooledAnswer : Stream
{
    public const int ChunkSize = 64 * 1024;

    private readonly byte[]?[] _chunks;
    private readonly long _length;
    private long _position;

    private PooledAnswer(byte[]?[] chunks, long length)
    {
        _chunks = chunks;
        _length = length;
    }

    /// <summary>Reads <paramref name="source"/> to its end; throws <see cref="ResponseTooLargeException"/> as soon as it passes <paramref name="limit"/> bytes.</summary>
    public static async Task<PooledAnswer> ReadWholeAsync(Stream source, long limit, CancellationToken ct)
    {
        var chunks = new List<byte[]?>();
        long total = 0;
        try
        {
            while (true)
            {
                var chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
                chunks.Add(chunk);
                int filled = 0;
                while (filled < ChunkSize)
                {
                    int n = await source.ReadAsync(chunk.AsMemory(filled, ChunkSize - filled), ct).ConfigureAwait(false);
                    if (n == 0) return new PooledAnswer(chunks.ToArray(), total);
                    filled += n;
                    total += n;
                    if (total > limit) throw new ResponseTooLargeException(limit);
                }
            }
        }
        catch
        {
            foreach (var c in chunks) if (c is not null) ArrayPool<byte>.Shared.Return(c);
            throw;
        }
    }

    /// <summary>Answers up to this size are parsed in one piece (faster); larger ones as a stream, chunk by chunk.</summary>
    public const int WholeParseLimit = 16 * 1024 * 1024;

    /// <summary>
    /// Parses the answer. Up to <see cref="WholeParseLimit"/> it is copied into one pooled array and
    /// parsed synchronously (a third less CPU than the resumable streaming parser; over the chunks as
    /// a sequence it would be twice slower); a larger answer is parsed as a stream, each chunk back
    /// to the pool as soon as it has been read, so the raw answer and its objects are not held at
    /// full size together.
    /// </summary>
    public async ValueTask<T?> DeserializeAsync<T>(JsonTypeInfo<T> type, CancellationToken ct)
    {
        if (_length > WholeParseLimit || _position != 0)
            return await JsonSerializer.DeserializeAsync(this, type, ct).ConfigureAwait(false);
        var whole = ArrayPool<byte>.Shared.Rent((int)Math.Max(_length, 1));
        try
        {
            int n = Read(whole.AsSpan(0, (int)_length));
            return JsonSerializer.Deserialize(whole.AsSpan(0, n), type);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(whole);
        }
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int copied = 0;
        while (copied < buffer.Length && _position < _length)
        {
            int index = (int)(_position / ChunkSize), offset = (int)(_position % ChunkSize);
            var chunk = _chunks[index] ?? throw new ObjectDisposedException(nameof(PooledAnswer));
            int n = (int)Math.Min(Math.Min(ChunkSize - offset, buffer.Length - copied), _length - _position);
            chunk.AsSpan(offset, n).CopyTo(buffer[copied..]);
            copied += n;
            _position += n;
            if (offset + n == ChunkSize || _position == _length)
            {
                // Read through: back to the pool now, not when the whole answer is parsed.
                _chunks[index] = null;
                ArrayPool<byte>.Shared.Return(chunk);
            }
        }
        return copied;
    }

    /// <summary>The streaming parse lets other work (a /metrics request) run after each this many bytes.</summary>
    public const int YieldEvery = 1024 * 1024;

    private long _lastYield;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<int>(cancellationToken);
        if (_position - _lastYield < YieldEvery) return ValueTask.FromResult(Read(buffer.Span));
        _lastYield = _position;
        return YieldThenReadAsync(buffer);
    }

    // The bytes are all here, so every read would complete at once and a 100 MB parse would hold
    // its thread-pool thread for a second: queue behind waiting work now and then, as a network
    // read would.
    private async ValueTask<int> YieldThenReadAsync(Memory<byte> buffer)
    {
        await Task.Yield();
        return Read(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            for (int i = 0; i < _chunks.Length; i++)
            {
                if (_chunks[i] is { } c)
                {
                    _chunks[i] = null;
                    ArrayPool<byte>.Shared.Return(c);
                }
            }
        }
        base.Dispose(disposing);
    }
}
