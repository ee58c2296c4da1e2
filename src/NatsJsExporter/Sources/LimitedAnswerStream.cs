namespace NatsJsExporter.Sources;

/// <summary>
/// A response body read as the parser asks for it, never held whole: the raw /jsz answers of a
/// large cluster (66 MB per server at 10,000 streams) were the largest thing in memory at the peak
/// of a poll when each was read whole before parsing. Two bounds replace that: the answer may not
/// pass <c>limit</c> bytes (<see cref="ResponseTooLargeException"/> the moment it does), and the
/// parser may not allocate more than <see cref="AllocationFactor"/> × <c>limit</c> while reading it,
/// which stops a hostile answer built to make many objects from few bytes (<c>[{},{},…]</c>) long
/// before it could push memory past twice the limit (the aborted poll's objects, and the last one's
/// not yet collected). nats-server's /jsz (indented JSON) allocates about 0.45 byte per byte, so a
/// real server's answer within the limit is never stopped by this; compact JSON with every field set
/// (about 1.5 bytes per byte) is stopped at about two thirds of the limit.
/// </summary>
internal sealed class LimitedAnswerStream(Stream inner, long limit) : Stream
{
    public const long AllocationFactor = 1;

    private long _read;
    private long _allocated;
    private int _thread = -1;
    private long _threadAllocatedAtReturn;

    /// <summary>Bytes read so far.</summary>
    public long BytesRead => _read;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CountParserAllocations();
        int n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        _read += n;
        if (_read > limit) throw new ResponseTooLargeException(limit);
        MarkReturn();
        return n;
    }

    public override int Read(Span<byte> buffer)
    {
        CountParserAllocations();
        int n = inner.Read(buffer);
        _read += n;
        if (_read > limit) throw new ResponseTooLargeException(limit);
        MarkReturn();
        return n;
    }

    // The parser runs synchronously between two reads, on the thread the last read returned on:
    // what that thread allocated in between is the parser's.
    private void CountParserAllocations()
    {
        if (_thread == Environment.CurrentManagedThreadId)
            _allocated += GC.GetAllocatedBytesForCurrentThread() - _threadAllocatedAtReturn;
        if (_allocated > AllocationFactor * limit) throw new ResponseTooLargeException(limit, byObjects: true);
    }

    private void MarkReturn()
    {
        _thread = Environment.CurrentManagedThreadId;
        _threadAllocatedAtReturn = GC.GetAllocatedBytesForCurrentThread();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
