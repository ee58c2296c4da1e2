namespace NatsJsExporter.Tests.Support;

/// <summary>A prefix, then one piece repeated forever, at most <paramref name="maxRead"/> bytes per read; counts what it served.</summary>
internal sealed class EndlessStream(byte[] prefix, byte[] piece, int maxRead = int.MaxValue) : Stream
{
    public long Served;

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(buffer.Length, maxRead);
        for (int i = 0; i < n; i++, Served++)
            buffer[i] = Served < prefix.Length ? prefix[Served] : piece[(Served - prefix.Length) % piece.Length];
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => Served; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>The bytes of <paramref name="data"/>, at most <paramref name="piece"/> per read, as a socket hands them out.</summary>
internal sealed class TricklingStream(byte[] data, int piece) : MemoryStream(data, writable: false)
{
    public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, piece));
    public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, piece)]);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        base.ReadAsync(buffer[..Math.Min(buffer.Length, piece)], cancellationToken);
}
