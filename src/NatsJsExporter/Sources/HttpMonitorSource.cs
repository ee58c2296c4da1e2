using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using NatsJsExporter.Model;

namespace NatsJsExporter.Sources;

/// <summary>Polls /jsz (and /varz, to learn the server's name) on each configured monitor URL, concurrently.</summary>
public sealed class HttpMonitorSource : IJszSource
{
    private readonly HttpClient _http;
    private readonly IReadOnlyList<Uri> _targets;
    private readonly TimeSpan _timeout;
    private readonly int _pageSize;
    private readonly long _maxResponseBytes;
    private readonly bool _consumers;
    private readonly HttpRaftzFetch _raftz;
    // Last identity learned per target: /varz is asked again only when the server ID changes (a restart).
    private readonly ConcurrentDictionary<Uri, Identity> _identities = new();

    private sealed record Identity(string ServerId, string? Name, string? Version, string? Cluster);

    /// <summary>Every server must report every replica it hosts (the replica comparison): never ask for stream_leader_only.</summary>
    public bool EveryReplica { get; init; }

    public HttpMonitorSource(HttpClient http, IReadOnlyList<Uri> targets, TimeSpan timeout, int pageSize = 1024,
        long maxResponseBytes = 256L * 1024 * 1024, bool consumers = true, RaftzGroups raftz = RaftzGroups.Meta)
    {
        _raftz = new HttpRaftzFetch(raftz);
        _consumers = consumers;
        _http = http;
        _targets = targets;
        _timeout = timeout;
        _pageSize = pageSize;
        _maxResponseBytes = maxResponseBytes;
    }

    public static HttpClient CreateHttpClient(TimeSpan timeout, string? tlsCaFile = null, bool tlsInsecure = false) => new(new SocketsHttpHandler
    {
        ConnectTimeout = timeout,
        SslOptions = MonitorTls.ClientOptions(tlsCaFile, tlsInsecure),
        AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        UseProxy = false,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan, // per-request timeouts come from our own token
    };

    /// <summary>The label a target is known by before its server name is learned.</summary>
    public static string TargetLabel(Uri target) =>
        (target.UserInfo.Length > 0 ? new UriBuilder(target) { UserName = "", Password = "" }.Uri : target) // never a password in a label or log
            .GetLeftPart(UriPartial.Path).TrimEnd('/');

    public async Task<IReadOnlyList<ServerReport>> CollectAsync(CancellationToken cancellationToken)
    {
        var tasks = new Task<ServerReport>[_targets.Count];
        for (int i = 0; i < _targets.Count; i++)
        {
            var target = _targets[i];
            tasks[i] = Task.Run(() => PollAsync(target, cancellationToken), cancellationToken);
        }
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private async Task<ServerReport> PollAsync(Uri target, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        string label = TargetLabel(target);
        _identities.TryGetValue(target, out var identity);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(_timeout);
        var ct = cts.Token;
        try
        {
            // First contact: ask /varz alongside /jsz so the first poll costs one round trip.
            Task<VarzResponse>? varzTask = identity is null ? GetAsync(target, "varz", JszJsonContext.Default.VarzResponse, ct) : null;
            var healthz = HealthzFetch.HttpAsync(_http, target, _timeout, cancellationToken); // alongside /jsz; never fails the poll
            var jsz = await GetJszAsync(target, JszQuery(0, identity), ct).ConfigureAwait(false);

            if (identity is null || identity.ServerId != jsz.ServerId)
            {
                var varz = await (varzTask ?? GetAsync(target, "varz", JszJsonContext.Default.VarzResponse, ct)).ConfigureAwait(false);
                identity = new Identity(jsz.ServerId ?? varz.ServerId ?? "", varz.ServerName, varz.Version, varz.Cluster?.Name);
                _identities[target] = identity;
            }
            else if (varzTask is not null)
            {
                await varzTask.ConfigureAwait(false);
            }

            jsz = await ReadRemainingPagesAsync(target, jsz, identity, ct).ConfigureAwait(false);
            var raftz = await _raftz.FetchAsync(target, identity.ServerId, identity.Version, jsz, (rel, type, c) => GetAsync(target, rel, type, c), ct).ConfigureAwait(false);
            var report = new ServerReport
            {
                Target = label,
                ServerName = string.IsNullOrEmpty(identity.Name) ? label : identity.Name,
                ServerVersion = identity.Version,
                ClusterName = identity.Cluster,
                Jsz = jsz,
                Raftz = raftz,
                Healthz = await healthz.ConfigureAwait(false),
                Duration = sw.Elapsed,
            };
            return jsz.Disabled
                ? report with
                {
                    ErrorReason = "jetstream_disabled",
                    ErrorMessage = $"JetStream is disabled on server {report.ServerName}; enable it (jetstream {{}} in the server config) or remove this target",
                }
                : report;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested || ex is not OperationCanceledException)
        {
            var (reason, message) = Describe(ex);
            return ServerReport.Failed(label, identity?.Name, reason, message, sw.Elapsed) with { ClusterName = identity?.Cluster };
        }
    }

    private string JszQuery(int offset, Identity? identity) =>
        $"jsz?accounts=true&streams=true&consumers={(_consumers ? "true" : "false")}&config=true&offset={offset}&limit={_pageSize}"
        + JszFeatures.ExtraHttpOptions(ServerVersion.Parse(identity?.Version), _consumers || EveryReplica);

    // /jsz pages the account list (default limit 1024): keep asking until a short page arrives.
    private async Task<JszResponse> ReadRemainingPagesAsync(Uri target, JszResponse first, Identity identity, CancellationToken ct)
    {
        var accounts = first.AccountDetails;
        if (accounts is null || accounts.Count < _pageSize) return first;
        var all = new List<AccountDetailDto>(accounts);
        for (int page = 1; page < 10_000; page++)
        {
            if (first.Total is { } total && all.Count >= total) break;
            var next = await GetJszAsync(target, JszQuery(all.Count, identity), ct).ConfigureAwait(false);
            var got = next.AccountDetails ?? [];
            all.AddRange(got);
            if (got.Count < _pageSize) break;
        }
        return first with { AccountDetails = all };
    }

    private Task<T> GetAsync<T>(Uri target, string relative, JsonTypeInfo<T> type, CancellationToken ct) =>
        GetAsync(target, relative, async (body, c) =>
        {
            // Small answers (/varz, /raftz, /healthz): read whole first (pooled, stopped at the limit), then parsed.
            await using var answer = await PooledAnswer.ReadWholeAsync(body, _maxResponseBytes, c).ConfigureAwait(false);
            return await answer.DeserializeAsync(type, c).ConfigureAwait(false);
        }, ct);

    /// <summary>
    /// A /jsz page, parsed by the hand-written <see cref="JszReader"/> (the same DTOs as
    /// System.Text.Json, at half its CPU) as it arrives: the raw answer (66 MB per server at 10,000
    /// streams) is never held whole; <see cref="LimitedAnswerStream"/> bounds its size and what the
    /// parser may build from it.
    /// </summary>
    private Task<JszResponse> GetJszAsync(Uri target, string relative, CancellationToken ct) =>
        GetAsync(target, relative, (body, c) => JszReader.ReadAsync(new LimitedAnswerStream(body, _maxResponseBytes), c), ct);

    private async Task<T> GetAsync<T>(Uri target, string relative, Func<Stream, CancellationToken, ValueTask<T?>> parse, CancellationToken ct)
    {
        var uri = new Uri(target.AbsoluteUri.EndsWith('/') ? target : new Uri(target.AbsoluteUri + "/"), relative);
        using var response = await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            string body = await ReadSnippetAsync(response, ct).ConfigureAwait(false);
            throw new HttpStatusException(response.StatusCode, relative.Split('?')[0], body);
        }
        if (response.Content.Headers.ContentLength is { } len && len > _maxResponseBytes)
            throw new ResponseTooLargeException(_maxResponseBytes);
        await using var source = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        return await parse(source, ct).ConfigureAwait(false)
            ?? throw new JsonException("the answer was JSON null");
    }

    private static async Task<string> ReadSnippetAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var buffer = new byte[300];
            await using var s = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            int n = await s.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
            var text = System.Text.Encoding.UTF8.GetString(buffer, 0, n).ReplaceLineEndings(" ").Trim();
            return text.Length > 200 ? text[..200] + "…" : text;
        }
        catch (Exception)
        {
            return "";
        }
    }

    internal (string Reason, string Message) Describe(Exception ex) => ex switch
    {
        OperationCanceledException =>
            ("timeout", $"no complete answer within {_timeout.TotalSeconds:0.###}s; check that the server is up and not overloaded, or raise --timeout for very large /jsz answers"),
        HttpStatusException h =>
            ($"http_{(int)h.Status}", $"/{h.Path} answered HTTP {(int)h.Status} {h.Status}{(h.Body.Length > 0 ? $" \"{h.Body}\"" : "")}; is this the server's monitor port (http: in the server config)?"),
        ResponseTooLargeException { ByObjects: true } big =>
            (ResponseTooLargeException.Reason, $"the answer would build more than {big.Limit / (1024 * 1024)} MiB of objects (the --max-response-size limit) before its end and was aborted; raise --max-response-size or filter accounts"),
        ResponseTooLargeException big =>
            (ResponseTooLargeException.Reason, $"the answer is larger than the {big.Limit / (1024 * 1024)} MiB limit and was aborted; raise --max-response-size or filter accounts"),
        JsonException j =>
            ("invalid_json", $"the answer is not valid /jsz JSON ({FirstLine(j.Message)}); is this URL a NATS monitor port?"),
        HttpRequestException { InnerException: SocketException s } when s.SocketErrorCode is SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData =>
            ("dns", $"the host name does not resolve ({s.Message}); check the monitor URL"),
        HttpRequestException h when h.HttpRequestError == HttpRequestError.NameResolutionError =>
            ("dns", $"the host name does not resolve ({h.Message}); check the monitor URL"),
        HttpRequestException h when h.HttpRequestError == HttpRequestError.SecureConnectionError =>
            ("tls", $"TLS handshake failed ({FirstLine(h.InnerException?.Message ?? h.Message)}); check https:// vs http://, the server's certificate and --monitor-tls-ca"),
        // A NATS client port greets every connection with "INFO {...}" before any request: a real
        // server's answer to HTTP, and the most common wrong URL (4222 given for 8222).
        HttpRequestException h when h.HttpRequestError == HttpRequestError.InvalidResponse && GreetedWithInfo(h) =>
            ("client_port", "this is a NATS client port (it greeted with INFO), not the monitor port; give the server's monitor port (http: in the server config, usually 8222)"),
        HttpRequestException h when h.HttpRequestError is HttpRequestError.ResponseEnded or HttpRequestError.InvalidResponse =>
            ("invalid_response", $"the connection broke mid-answer ({FirstLine(h.Message)})"),
        HttpRequestException h =>
            ("connection", $"cannot connect ({FirstLine(h.Message)}); is nats-server running with its monitor port at this address?"),
        IOException io =>
            ("invalid_response", $"the answer broke off ({FirstLine(io.Message)})"),
        _ => ("error", $"{ex.GetType().Name}: {FirstLine(ex.Message)}"),
    };

    private static bool GreetedWithInfo(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
            if (e.Message.Contains("'INFO {", StringComparison.Ordinal)) return true;
        return false;
    }

    private static string FirstLine(string s)
    {
        int i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }

    internal sealed class HttpStatusException(HttpStatusCode status, string path, string body) : Exception($"HTTP {(int)status}")
    {
        public HttpStatusCode Status { get; } = status;
        public string Path { get; } = path;
        public string Body { get; } = body;
    }
}

public sealed class ResponseTooLargeException(long limit, bool byObjects = false)
    : IOException(byObjects ? $"response would build more than {limit} bytes of objects" : $"response larger than {limit} bytes")
{
    /// <summary>The scrape-error reason of an aborted answer (natsjs_scrape_errors_total{reason}).</summary>
    public const string Reason = "too_large";

    public long Limit { get; } = limit;

    /// <summary>Stopped by what the parser built from it (<see cref="LimitedAnswerStream"/>), not by its size.</summary>
    public bool ByObjects { get; } = byObjects;
}

