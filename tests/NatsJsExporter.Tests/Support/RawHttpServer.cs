using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NatsJsExporter.Tests.Support;

/// <summary>
/// A loopback TCP server that speaks just enough HTTP/1.1 to misbehave in ways WireMock cannot:
/// headers that never come, a body trickling byte by byte, an endless body, a TLS client met by
/// plain text. The handler gets the request path and the raw stream; bytes written are counted.
/// </summary>
public sealed class RawHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<string, Stream, CancellationToken, Task> _handler;
    private readonly Task _accept;
    private long _bytesWritten;

    private readonly System.Security.Cryptography.X509Certificates.X509Certificate2? _tls;

    /// <param name="tls">a server certificate: speak HTTPS instead of HTTP</param>
    public RawHttpServer(Func<string, Stream, CancellationToken, Task> handler, System.Security.Cryptography.X509Certificates.X509Certificate2? tls = null)
    {
        _handler = handler;
        _tls = tls;
        _listener.Start();
        _accept = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Url => $"{(_tls is null ? "http" : "https")}://127.0.0.1:{Port}";
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);
    public int Connections;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }
            Interlocked.Increment(ref Connections);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        client.NoDelay = true;
        Stream stream = new CountingStream(client.GetStream(), n => Interlocked.Add(ref _bytesWritten, n));
        try
        {
            if (_tls is not null)
            {
                var ssl = new System.Net.Security.SslStream(stream);
                await ssl.AuthenticateAsServerAsync(_tls, false, false);
                stream = ssl;
            }
            var path = await ReadRequestPathAsync(stream, _stop.Token);
            if (path is null) return;
            await _handler(path, stream, _stop.Token);
        }
        catch (Exception)
        {
            // The client gave up (timeout, size limit): that is the point of most tests.
        }
    }

    /// <summary>Reads the request head; returns the path without the query string.</summary>
    private static async Task<string?> ReadRequestPathAsync(Stream stream, CancellationToken ct)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, ct) == 0) return null;
            head.Append((char)one[0]);
            if (head.Length > 64 * 1024) return null;
        }
        var target = head.ToString().Split(' ')[1];
        int q = target.IndexOf('?');
        return q < 0 ? target : target[..q];
    }

    public static Task WriteAsync(Stream s, string text, CancellationToken ct) => s.WriteAsync(Encoding.UTF8.GetBytes(text), ct).AsTask();

    /// <summary>A complete answer with Content-Length and Connection: close.</summary>
    public static async Task RespondAsync(Stream s, byte[] body, CancellationToken ct, int status = 200, string contentType = "application/json")
    {
        await WriteAsync(s, $"HTTP/1.1 {status} X\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n", ct);
        await s.WriteAsync(body, ct);
        await s.FlushAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _accept; } catch (Exception) { }
        _stop.Dispose();
    }

    private sealed class CountingStream(Stream inner, Action<int> written) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => inner.ReadAsync(buffer, ct);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            written(count);
        }
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            await inner.WriteAsync(buffer, ct);
            written(buffer.Length);
        }
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();
    }
}
