using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace NatsJsExporter.Benchmarks;

public sealed record OversizeOptions
{
    /// <summary>How large the misbehaving answer is, in MiB.</summary>
    public int SizeMiB { get; init; } = 600;
    /// <summary>The exporter's --max-response-size, in MiB.</summary>
    public int CapMiB { get; init; } = 64;
    /// <summary>Polls against the oversized answer.</summary>
    public int Polls { get; init; } = 5;
    /// <summary>Send the answer gzip-compressed (a small transfer that inflates past the cap).</summary>
    public bool Gzip { get; init; }
    public string? Exporter { get; init; }
}

/// <summary>
/// The misbehaving target: one fake server answers /jsz normally (a 100-stream cluster's answer)
/// while the exporter settles (its idle RSS), then with a /jsz answer far larger than
/// --max-response-size, chunked (no Content-Length, so the exporter cannot refuse it up front), shaped
/// like real /jsz (streams with consumers), optionally gzip-encoded. Prints idle and peak RSS
/// against the bound idle + 2 x cap.
/// </summary>
public sealed class OversizeHarness(OversizeOptions o)
{
    private volatile bool _oversized;
    private long _jszRequests;
    private long _oversizedBytesSent;
    private readonly StringBuilder _log = new();

    public async Task<int> RunAsync()
    {
        var exporterDll = o.Exporter ?? CycleHarness.FindExporter();
        var small = Workload.Generate(100, 1);
        int port = CycleHarness.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.MapGet("/varz", ctx => Write(ctx, small.Varz[0]));
        app.MapGet("/healthz", ctx => Write(ctx, small.Healthz[0]));
        app.MapGet("/raftz", ctx => Write(ctx, small.Raftz[0]));
        app.MapGet("/jsz", async ctx =>
        {
            Interlocked.Increment(ref _jszRequests);
            if (!_oversized) { await Write(ctx, small.Jsz[0]); return; }
            await StreamOversizedAsync(ctx, small.ServerIds[0]);
        });
        await app.StartAsync();
        try
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(exporterDll);
            foreach (var a in new[] { "--monitor-urls", $"http://127.0.0.1:{port}", "--interval", "3s", "--timeout", "3s",
                         "--listen", $"127.0.0.1:{CycleHarness.FreePort()}", "--max-response-size", o.CapMiB.ToString(CultureInfo.InvariantCulture) })
                psi.ArgumentList.Add(a);
            psi.Environment["DOTNET_gcServer"] = "0";
            using var p = Process.Start(psi)!;
            p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
            p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            try
            {
                Say($"misbehaving target: /jsz of {o.SizeMiB} MiB{(o.Gzip ? " (gzip-encoded)" : "")}, chunked; exporter --max-response-size {o.CapMiB}");
                await WaitPollsAsync(p, 5);
                long idle = 0;
                var idleUntil = Stopwatch.StartNew();
                while (idleUntil.Elapsed < TimeSpan.FromSeconds(3)) { idle = Math.Max(idle, CycleHarness.ReadRss(p.Id).Rss); await Task.Delay(20); }
                long hwmBefore = CycleHarness.ReadRss(p.Id).Hwm;
                Say($"idle (5 normal polls of a 100-stream server done): RSS {Mb(idle)}, VmHWM so far {Mb(hwmBefore)}");

                _oversized = true;
                long peak = 0;
                long r0 = Interlocked.Read(ref _jszRequests);
                var sw = Stopwatch.StartNew();
                while (Interlocked.Read(ref _jszRequests) - r0 < o.Polls + 1 && sw.Elapsed < TimeSpan.FromMinutes(5))
                {
                    if (p.HasExited) throw new InvalidOperationException("the exporter exited:\n" + _log);
                    peak = Math.Max(peak, CycleHarness.ReadRss(p.Id).Rss);
                    await Task.Delay(5);
                }
                var (after, hwm) = CycleHarness.ReadRss(p.Id);
                long bound = idle + 2L * o.CapMiB * 1048576;
                Say($"after {o.Polls} oversized polls: peak RSS {Mb(peak)} (sampled every 5 ms), RSS now {Mb(after)}; bound idle + 2 x cap = {Mb(bound)}: " +
                    (peak <= bound ? $"met ({Mb(bound - peak)} to spare)" : $"MISSED by {Mb(peak - bound)}"));
                Say($"harness sent {Mb(Interlocked.Read(ref _oversizedBytesSent))} of oversized answers in all (the exporter hangs up at the cap)");
                string log;
                lock (_log) log = _log.ToString();
                var line = log.Split('\n').LastOrDefault(l => l.Contains("limit", StringComparison.Ordinal));
                Say($"exporter said: {line?.Trim() ?? "(no line about the limit)"}");
                return peak <= bound ? 0 : 1;
            }
            finally
            {
                if (!p.HasExited) p.Kill();
                await p.WaitForExitAsync();
            }
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    // '{"server_id":..., "account_details":[{"name":"APP","stream_detail":[ stream, stream, ... ]}]}' until SizeMiB is sent.
    private async Task StreamOversizedAsync(HttpContext ctx, string serverId)
    {
        ctx.Response.ContentType = "application/json";
        Stream body = ctx.Response.Body;
        GZipStream? gz = null;
        if (o.Gzip)
        {
            ctx.Response.Headers.ContentEncoding = "gzip";
            body = gz = new GZipStream(ctx.Response.Body, CompressionLevel.Fastest, leaveOpen: true);
        }
        long limit = (long)o.SizeMiB * 1048576, sent = 0;
        var chunk = new MemoryStream(1 << 17);
        void Add(string s) { var b = Encoding.UTF8.GetBytes(s); chunk.Write(b); }
        try
        {
            Add($"{{\"server_id\":\"{serverId}\",\"now\":\"2026-11-26T04:00:00Z\",\"streams\":1,\"account_details\":[{{\"name\":\"APP\",\"id\":\"APP\",\"stream_detail\":[");
            for (int i = 0; sent < limit && !ctx.RequestAborted.IsCancellationRequested; i++)
            {
                if (i > 0) Add(",");
                Add(StreamJson(i));
                if (chunk.Length >= 1 << 16)
                {
                    await body.WriteAsync(chunk.GetBuffer().AsMemory(0, (int)chunk.Length), ctx.RequestAborted);
                    sent += chunk.Length;
                    chunk.SetLength(0);
                }
            }
            Add("]}]}");
            await body.WriteAsync(chunk.GetBuffer().AsMemory(0, (int)chunk.Length), ctx.RequestAborted);
            sent += chunk.Length;
            if (gz is not null) await gz.DisposeAsync();
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The exporter hung up (at its cap): what it should do.
        }
        finally
        {
            Interlocked.Add(ref _oversizedBytesSent, sent);
        }
    }

    private static string StreamJson(int i) =>
        $"{{\"name\":\"BIG_{i:D7}\",\"created\":\"2026-11-01T00:00:00Z\",\"cluster\":{{\"name\":\"c1\",\"leader\":\"n1\",\"replicas\":[{{\"name\":\"n2\",\"current\":true,\"active\":1000,\"peer\":\"P2\"}},{{\"name\":\"n3\",\"current\":true,\"active\":1000,\"peer\":\"P3\"}}]}}," +
        $"\"config\":{{\"name\":\"BIG_{i:D7}\",\"subjects\":[\"big.{i}.>\"],\"retention\":\"limits\",\"max_bytes\":-1,\"storage\":\"file\",\"num_replicas\":3}}," +
        $"\"state\":{{\"messages\":{i},\"bytes\":{i * 100L},\"first_seq\":1,\"last_seq\":{i},\"consumer_count\":1}}," +
        $"\"consumer_detail\":[{{\"stream_name\":\"BIG_{i:D7}\",\"name\":\"C{i}\",\"created\":\"2026-11-01T00:00:00Z\",\"config\":{{\"durable_name\":\"C{i}\",\"ack_policy\":\"explicit\",\"num_replicas\":3}}," +
        $"\"delivered\":{{\"consumer_seq\":{i},\"stream_seq\":{i}}},\"ack_floor\":{{\"consumer_seq\":{i},\"stream_seq\":{i}}},\"num_ack_pending\":0,\"num_redelivered\":0,\"num_waiting\":0,\"num_pending\":0," +
        $"\"cluster\":{{\"name\":\"c1\",\"leader\":\"n1\",\"replicas\":[{{\"name\":\"n2\",\"current\":true,\"active\":1000,\"peer\":\"P2\"}}]}}}}]}}";

    private async Task WaitPollsAsync(Process p, int n)
    {
        long start = Interlocked.Read(ref _jszRequests);
        var sw = Stopwatch.StartNew();
        while (Interlocked.Read(ref _jszRequests) - start < n)
        {
            if (p.HasExited) throw new InvalidOperationException("the exporter exited:\n" + _log);
            if (sw.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException("the exporter did not poll:\n" + _log);
            await Task.Delay(20);
        }
    }

    private static async Task Write(HttpContext ctx, byte[] body)
    {
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = body.Length;
        await ctx.Response.Body.WriteAsync(body, ctx.RequestAborted);
    }

    private static void Say(string s) => Console.WriteLine(s);

    private static string Mb(long bytes) => $"{bytes / 1048576.0:0} MiB";
}
