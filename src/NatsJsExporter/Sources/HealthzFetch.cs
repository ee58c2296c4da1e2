using System.Net;
using System.Text.Json;
using NATS.Client.Core;
using NatsJsExporter.Model;

namespace NatsJsExporter.Sources;

/// <summary>
/// What one server's /healthz said in one poll, or why it could not be read. A 503 is an answer
/// (the server says it is unhealthy), not a failed poll; a failed fetch never fails the /jsz part.
/// </summary>
public sealed record HealthzAnswer
{
    /// <summary>The HTTP status (HTTP mode) or the body's `status_code` (system account, 2.10+); null when not sent.</summary>
    public int? StatusCode { get; init; }
    public HealthzResponse? Body { get; init; }
    /// <summary>Why there is no answer: one sentence for the page and the log, never counted as a scrape error.</summary>
    public string? FetchError { get; init; }
    /// <summary>The server's own verdict; null when there is no answer.</summary>
    public bool? Healthy => Body is null ? null : string.Equals(Body.Status, "ok", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Reads each server's own health check beside /jsz: GET /healthz?details=true (HTTP mode) or
/// $SYS.REQ.SERVER.PING.HEALTHZ with {"details":true} (system account). Servers before 2.10 ignore
/// `details` and answer with the server-level status and one error sentence.
/// </summary>
public static class HealthzFetch
{
    public const string PingSubject = "$SYS.REQ.SERVER.PING.HEALTHZ";
    public const string HttpPath = "healthz?details=true";
    private const long MaxBytes = 8L * 1024 * 1024;

    /// <summary>One server's /healthz over HTTP, within <paramref name="timeout"/>. Never throws (except on shutdown).</summary>
    public static async Task<HealthzAnswer> HttpAsync(HttpClient http, Uri target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            var uri = new Uri(target.AbsoluteUri.EndsWith('/') ? target : new Uri(target.AbsoluteUri + "/"), HttpPath);
            using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            int code = (int)response.StatusCode;
            if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable))
                return new HealthzAnswer { StatusCode = code, FetchError = $"/healthz answered HTTP {code} {response.StatusCode}" };
            await using var stream = new LimitedAnswerStream(await response.Content.ReadAsStreamAsync(cts.Token).ConfigureAwait(false), MaxBytes);
            var body = await JsonSerializer.DeserializeAsync(stream, HealthzJsonContext.Default.HealthzResponse, cts.Token).ConfigureAwait(false);
            return body is null
                ? new HealthzAnswer { StatusCode = code, FetchError = "/healthz answered JSON null" }
                : new HealthzAnswer { StatusCode = code, Body = body };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new HealthzAnswer { FetchError = $"/healthz gave no answer within {timeout.TotalSeconds:0.###}s" };
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException)
        {
            return new HealthzAnswer { FetchError = $"/healthz could not be read: {FirstLine(ex.Message)}" };
        }
    }

    /// <summary>
    /// Asks every server at once over the system account, before the JSZ answers are awaited, so
    /// both requests run concurrently; <see cref="SystemHealthzRequest.AttachAsync"/> then collects
    /// the answers for the servers whose /jsz arrived. Never throws (except on shutdown).
    /// </summary>
    public static async Task<SystemHealthzRequest> StartSystemAsync(NatsConnection nats, HealthzRequestOptions request,
        TimeSpan timeout, TimeSpan quietPeriod, CancellationToken cancellationToken)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            var inbox = nats.NewInbox();
            var sub = await nats.SubscribeCoreAsync(inbox, serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: cts.Token).ConfigureAwait(false);
            var payload = JsonSerializer.SerializeToUtf8Bytes(request with { Details = true }, HealthzJsonContext.Default.HealthzRequestOptions);
            await nats.PublishAsync(PingSubject, payload, replyTo: inbox, serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: cts.Token).ConfigureAwait(false);
            return new SystemHealthzRequest(sub, cts, quietPeriod, null);
        }
        catch (Exception ex) when (ex is NatsException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new SystemHealthzRequest(null, cts, quietPeriod, $"request {PingSubject} failed: {FirstLine(ex.Message)}");
        }
    }

    /// <summary>One reply: the answering server's name and what it said.</summary>
    internal static (string? Name, HealthzAnswer Answer) Parse(ReadOnlySpan<byte> body)
    {
        HealthzServerResponse? reply;
        try
        {
            reply = JsonSerializer.Deserialize(body, HealthzJsonContext.Default.HealthzServerResponse);
        }
        catch (JsonException ex)
        {
            return (null, new HealthzAnswer { FetchError = $"a reply to {PingSubject} is not valid JSON ({FirstLine(ex.Message)})" });
        }
        var name = reply?.Server?.Name;
        if (reply?.Error is { } error)
            return (name, new HealthzAnswer { FetchError = $"{PingSubject} answered error {error.Code}: {error.Description}" });
        if (reply?.Data is not { } data)
            return (name, new HealthzAnswer { FetchError = $"{PingSubject} answered without data" });
        return (name, new HealthzAnswer { StatusCode = data.StatusCode > 0 ? data.StatusCode : null, Body = data });
    }

    internal static string FirstLine(string s)
    {
        int i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }
}

/// <summary>A HEALTHZ request in flight over the system account (see <see cref="HealthzFetch.StartSystemAsync"/>).</summary>
public sealed class SystemHealthzRequest : IAsyncDisposable
{
    private readonly INatsSub<byte[]>? _sub;
    private readonly CancellationTokenSource _cts;
    private readonly TimeSpan _quietPeriod;
    private string? _failure;

    internal SystemHealthzRequest(INatsSub<byte[]>? sub, CancellationTokenSource cts, TimeSpan quietPeriod, string? failure)
    {
        _sub = sub;
        _cts = cts;
        _quietPeriod = quietPeriod;
        _failure = failure;
    }

    /// <summary>
    /// Waits for the servers whose /jsz arrived, at most a quiet period after the last answer (or
    /// after JSZ was done), and within the timeout counted from the request; attaches each answer to that server's report;
    /// servers that stay silent get a fetch error (their /jsz report is kept as it is).
    /// </summary>
    public async Task<IReadOnlyList<ServerReport>> AttachAsync(IReadOnlyList<ServerReport> reports)
    {
        var wanted = reports.Where(r => r.Jsz is not null && r.ServerName is not null).Select(r => r.ServerName!).ToHashSet(StringComparer.Ordinal);
        var answers = new Dictionary<string, HealthzAnswer>(StringComparer.Ordinal);
        if (_sub is not null && wanted.Count > 0)
        {
            try
            {
                while (answers.Count < wanted.Count)
                {
                    // Answers that arrived while /jsz was collected are taken even when the time is up.
                    if (!_sub.Msgs.TryRead(out var msg))
                    {
                        if (_cts.IsCancellationRequested) break;
                        using var wait = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);
                        // Sent alongside JSZ, the answers had as long as JSZ took: wait at most a quiet
                        // period more each, so servers that do not answer HEALTHZ cost no full timeout.
                        wait.CancelAfter(_quietPeriod);
                        try
                        {
                            msg = await _sub.Msgs.ReadAsync(wait.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException) when (!_cts.IsCancellationRequested)
                        {
                            break; // quiet period over
                        }
                    }
                    if (msg.Headers is { Code: 503 } || msg.Data is null) break; // no responders
                    var (name, answer) = HealthzFetch.Parse(msg.Data);
                    if (name is not null && wanted.Contains(name)) answers.TryAdd(name, answer);
                }
            }
            catch (OperationCanceledException)
            {
                // Timeout or shutdown: keep what arrived.
            }
            catch (NatsException ex)
            {
                _failure = $"request {HealthzFetch.PingSubject} failed: {HealthzFetch.FirstLine(ex.Message)}";
            }
        }
        return reports.Select(r => r.Jsz is null || r.ServerName is null ? r : r with
        {
            Healthz = answers.GetValueOrDefault(r.ServerName)
                ?? new HealthzAnswer { FetchError = _failure ?? $"no answer to {HealthzFetch.PingSubject} in this poll (its /jsz arrived)" },
        }).ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        if (_sub is not null) await _sub.DisposeAsync().ConfigureAwait(false);
        _cts.Dispose();
    }
}
