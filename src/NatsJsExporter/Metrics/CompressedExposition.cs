using System.IO.Compression;

namespace NatsJsExporter.Metrics;

/// <summary>
/// A rendered exposition kept only as one gzip member (CompressionLevel.Fastest), in 64 KiB chunks
/// (below the large-object threshold, never one 10 MB array) and with the text's length. At 10,000
/// streams the text is ~140 MB and its gzip ~10 MB: holding the gzip form alone (the one Prometheus
/// asks for) instead of the text saves the text twice over (the one served and the next one being
/// rendered); a plain-text scrape is inflated as it is sent, ~0.3 ms of CPU per MB.
/// </summary>
public sealed class CompressedExposition
{
    public const int ChunkSize = 64 * 1024;

    private readonly byte[][] _chunks;
    private readonly int _lastChunkLength;

    private CompressedExposition(byte[][] chunks, int lastChunkLength, long textLength)
    {
        _chunks = chunks;
        _lastChunkLength = lastChunkLength;
        TextLength = textLength;
        GzipLength = chunks.Length == 0 ? 0 : (long)(chunks.Length - 1) * ChunkSize + lastChunkLength;
    }

    /// <summary>Bytes of the uncompressed text.</summary>
    public long TextLength { get; }

    /// <summary>Bytes of the gzip member.</summary>
    public long GzipLength { get; }

    /// <summary>The gzip member, chunk by chunk (each at most <see cref="ChunkSize"/> bytes).</summary>
    public IEnumerable<ReadOnlyMemory<byte>> GzipChunks()
    {
        for (int i = 0; i < _chunks.Length; i++)
            yield return _chunks[i].AsMemory(0, i == _chunks.Length - 1 ? _lastChunkLength : ChunkSize);
    }

    /// <summary>The text, inflated as it is read.</summary>
    public Stream OpenText() => new GZipStream(new ChunkReader(this), CompressionMode.Decompress);

    /// <summary>The whole text as one array (tests, small expositions).</summary>
    public byte[] ToText()
    {
        var text = GC.AllocateUninitializedArray<byte>(checked((int)TextLength));
        using var s = OpenText();
        s.ReadExactly(text);
        return text;
    }

    /// <summary>The whole gzip member as one array.</summary>
    public byte[] ToGzip()
    {
        var gzip = new byte[GzipLength];
        int pos = 0;
        foreach (var c in GzipChunks())
        {
            c.Span.CopyTo(gzip.AsSpan(pos));
            pos += c.Length;
        }
        return gzip;
    }

    public static CompressedExposition FromText(ReadOnlySpan<byte> text)
    {
        using var w = new Writer();
        w.Write(text);
        return w.Complete();
    }

    /// <summary>Text written in goes out compressed; <see cref="Complete"/> gives the result.</summary>
    public sealed class Writer : Stream
    {
        private readonly ChunkSink _sink = new();
        private readonly GZipStream _gzip;
        private long _textLength;
        private bool _completed;

        public Writer() => _gzip = new GZipStream(_sink, CompressionLevel.Fastest, leaveOpen: true);

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            ObjectDisposedException.ThrowIf(_completed, this);
            _gzip.Write(buffer);
            _textLength += buffer.Length;
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public CompressedExposition Complete()
        {
            ObjectDisposedException.ThrowIf(_completed, this);
            _completed = true;
            _gzip.Dispose(); // writes the gzip trailer
            return _sink.ToExposition(_textLength);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_completed)
            {
                _completed = true;
                _gzip.Dispose();
            }
            base.Dispose(disposing);
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>Collects what the compressor writes into fixed 64 KiB arrays.</summary>
    private sealed class ChunkSink : Stream
    {
        private readonly List<byte[]> _chunks = [];
        private int _fill = ChunkSize;

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (buffer.Length > 0)
            {
                if (_fill == ChunkSize)
                {
                    _chunks.Add(GC.AllocateUninitializedArray<byte>(ChunkSize));
                    _fill = 0;
                }
                int n = Math.Min(buffer.Length, ChunkSize - _fill);
                buffer[..n].CopyTo(_chunks[^1].AsSpan(_fill));
                _fill += n;
                buffer = buffer[n..];
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public CompressedExposition ToExposition(long textLength) =>
            new([.. _chunks], _chunks.Count == 0 ? 0 : _fill, textLength);

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>Reads the chunks back in order (the inflater's input).</summary>
    private sealed class ChunkReader(CompressedExposition owner) : Stream
    {
        private int _chunk;
        private int _offset;

        public override int Read(Span<byte> buffer)
        {
            while (_chunk < owner._chunks.Length)
            {
                int length = _chunk == owner._chunks.Length - 1 ? owner._lastChunkLength : ChunkSize;
                if (_offset < length)
                {
                    int n = Math.Min(buffer.Length, length - _offset);
                    owner._chunks[_chunk].AsSpan(_offset, n).CopyTo(buffer);
                    _offset += n;
                    return n;
                }
                _chunk++;
                _offset = 0;
            }
            return 0;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
