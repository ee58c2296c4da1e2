using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using NATS.Client.Core;
using NatsJsExporter.Model;
using NatsJsExporter.Options;
using Polly;
using Polly.Retry;

namespace NatsJsExporter.Sources;

/// <summary>
/// Asks the whole cluster at once over one NATS connection: $SYS.REQ.SERVER.PING.JSZ, each server
/// answering once. Stops at the expected server count, after a quiet period, or at the timeout.
/// Pages long account lists per server with $SYS.REQ.SERVER.&lt;id&gt;.JSZ. Servers seen before
/// that stop answering are reported down until they have been silent for DropAfter.
/// </summary>
public sealed class SystemAccountSource : IJszSource, IAsyncDisposable
{
    public const string PingSubject = "$SYS.REQ.SERVER.PING.JSZ";

    private readonly SystemAccountOptions _options;
    private readonly TimeSpan _timeout;
    private readonly int _pageSize;
    private readonly bool _consumers;
    private readonly RaftzGroups _raftz;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Seen> _seen = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private NatsConnection? _connection;
    // Until the first connection: attempts through Polly, 1 s doubling to 1 min, in the background;
    // polls meanwhile report the last attempt's error (same reason, same words, so it is logged once).
    private readonly ResiliencePipeline _connectRetry;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _connecting;
    private readonly Lock _errorLock = new();
    private TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _discoveredSize;
    private int _silentPolls;
    private (string Reason, string Message)? _lastConnectError;

    private sealed record Seen(string Name, DateTimeOffset LastAnswer, string? Version, string? Cluster);

    public SystemAccountSource(SystemAccountOptions options, TimeSpan timeout, int pageSize = 1024, bool consumers = true, TimeProvider? time = null,
        RaftzGroups raftz = RaftzGroups.Meta)
    {
        _raftz = raftz;
        _options = options;
        _timeout = timeout;
        _pageSize = pageSize;
        _consumers = consumers;
        _time = time ?? TimeProvider.System;
        _connectRetry = new ResiliencePipelineBuilder { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException || !_stopping.IsCancellationRequested),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromSeconds(1),
                MaxDelay = TimeSpan.FromMinutes(1),
                UseJitter = false,
                OnRetry = args =>
                {
                    var error = DescribeConnectError(args.Outcome.Exception!);
                    lock (_errorLock) _lastConnectError = error;
                    _firstAttempt.TrySetResult();
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Configured, or discovered: the larger of the meta group size and the servers seen recently.</summary>
    public long? ExpectedServers => _options.ExpectedServers ?? Math.Max(_discoveredSize, _seen.Count);

    public static NatsOpts BuildNatsOpts(SystemAccountOptions o) => new()
    {
        Url = o.Url,
        Name = "natsjs-exporter",
        AuthOpts = new NatsAuthOpts
        {
            Username = o.User,
            Password = o.Password,
            Token = o.Token,
            CredsFile = o.CredsFile,
            NKeyFile = o.NKeySeedFile,
        },
        TlsOpts = o.TlsCaFile is null && o.TlsCertFile is null
            ? NatsTlsOpts.Default
            : new NatsTlsOpts { CaFile = o.TlsCaFile, CertFile = o.TlsCertFile, KeyFile = o.TlsKeyFile, Mode = TlsMode.Require },
        MaxReconnectRetry = -1,
        ReconnectWaitMin = TimeSpan.FromMilliseconds(500),
        ReconnectWaitMax = TimeSpan.FromSeconds(5),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        // Notice a connection to a hung server within ~20 s instead of the default minutes.
        PingInterval = TimeSpan.FromSeconds(10),
        MaxPingOut = 2,
        RequestTimeout = TimeSpan.FromSeconds(5),
    };

    public async Task<IReadOnlyList<ServerReport>> CollectAsync(CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        var now = _time.GetUtcNow();
        var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        if (connection.Error is { } failure)
            return Missing(now, sw.Elapsed, failure.Reason, failure.Message, includeUnknown: true);

        var answers = new Dictionary<string, ServerReport>(StringComparer.Ordinal);
        string? noAnswerReason = null, noAnswerMessage = null;
        var nats = connection.Nats!;
        await using var healthz = await HealthzFetch.StartSystemAsync(nats, HealthzRequest(), _timeout, _options.QuietPeriod, cancellationToken).ConfigureAwait(false);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(_timeout);
        try
        {
            // Every server answers once and there is no end marker: stop at the expected count,
            // after a quiet period following the last answer, or at the timeout.
            var inbox = nats.NewInbox();
            await using var sub = await nats.SubscribeCoreAsync(inbox, serializer: NatsRawSerializer<NatsMemoryOwner<byte>>.Default,
                cancellationToken: cts.Token).ConfigureAwait(false);
            var payload = JsonSerializer.SerializeToUtf8Bytes(Request(0), JszJsonContext.Default.JszRequestOptions);
            await nats.PublishAsync(PingSubject, payload, new NatsHeaders { ["Accept-Encoding"] = "gzip" }, replyTo: inbox,
                serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: cts.Token).ConfigureAwait(false);
            int? expected = _options.ExpectedServers;
            while (true)
            {
                if (expected is { } e && answers.Count >= e) break;
                if (expected is null && _discoveredSize > 0 && answers.Count >= Math.Max(_discoveredSize, _seen.Count)) break;
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
                if (answers.Count > 0) wait.CancelAfter(_options.QuietPeriod);
                NatsMsg<NatsMemoryOwner<byte>> msg;
                try
                {
                    msg = await sub.Msgs.ReadAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cts.IsCancellationRequested)
                {
                    break; // quiet period over
                }
                if (msg.Headers is { Code: 503 })
                {
                    noAnswerReason = "no_responders";
                    noAnswerMessage = $"no responders on {PingSubject}: is user \"{_options.User ?? "(from creds/nkey/token)"}\" in the system account? Only system-account users get answers";
                    msg.Data.Dispose();
                    break;
                }
                var report = await ParseAsync(msg, sw.Elapsed, nats, cts.Token).ConfigureAwait(false);
                if (report is null || answers.ContainsKey(report.Target)) continue; // a server answering twice counts once
                answers[report.Target] = report;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Overall timeout: keep what arrived.
        }
        catch (NatsException ex)
        {
            noAnswerReason = "nats_connection";
            noAnswerMessage = $"request {PingSubject} failed: {ex.Message}";
        }

        // Nobody answered although servers were known: the server we are connected to may be hung
        // (a frozen process keeps its sockets open). After two such polls, drop the connection so the
        // next poll connects afresh, possibly to another server of the cluster.
        if (answers.Count == 0 && noAnswerReason is null && _seen.Count > 0)
        {
            if (++_silentPolls >= 2) await ResetConnectionAsync().ConfigureAwait(false);
        }
        else
        {
            _silentPolls = 0;
        }

        foreach (var r in answers.Values)
        {
            if (r.Jsz is null || r.ServerName is null) continue;
            _seen[r.Target] = new Seen(r.Target, now, r.ServerVersion, r.ClusterName);
            if (r.Jsz.MetaCluster?.ClusterSize is > 0 and var size) _discoveredSize = Math.Max(_discoveredSize, size);
        }
        var withHealthz = (await healthz.AttachAsync([.. answers.Values]).ConfigureAwait(false)).ToList();
        var result = await SystemRaftzFetch.AttachAsync(nats, withHealthz, _raftz, new RaftzRequestOptions
        {
            ServerName = _options.FilterServerName, Cluster = _options.FilterCluster, Domain = _options.FilterDomain,
            Tags = _options.FilterTags is { Count: > 0 } tags ? [.. tags] : null,
        }, RaftzBudget(sw.Elapsed), _options.QuietPeriod, cancellationToken).ConfigureAwait(false);
        result.AddRange(Missing(now, sw.Elapsed, noAnswerReason ?? "timeout",
            noAnswerMessage ?? $"no answer to {PingSubject} within {_timeout.TotalSeconds:0.###}s", includeUnknown: noAnswerReason is not null && answers.Count == 0,
            except: answers.Keys));
        return result;
    }

    // /raftz gets what is left of the poll's timeout (at least one quiet period), so a poll stays within about one timeout.
    private TimeSpan RaftzBudget(TimeSpan elapsed) => elapsed < _timeout - _options.QuietPeriod ? _timeout - elapsed : _options.QuietPeriod;

    private JszRequestOptions Request(int offset) => new()
    {
        Accounts = true,
        Streams = true,
        Consumer = _consumers,
        Config = true,
        Offset = offset,
        Limit = _pageSize,
        Raft = true, // ignored by servers before 2.9.15
        ServerName = _options.FilterServerName,
        Cluster = _options.FilterCluster,
        Tags = _options.FilterTags is { Count: > 0 } t ? [.. t] : null,
        Domain = _options.FilterDomain,
    };

    private HealthzRequestOptions HealthzRequest() => new()
    {
        ServerName = _options.FilterServerName,
        Cluster = _options.FilterCluster,
        Tags = _options.FilterTags is { Count: > 0 } t ? [.. t] : null,
        Domain = _options.FilterDomain,
    };

    /// <summary>Servers seen before that did not answer this time (and, when nothing is known yet, the connection itself).</summary>
    private List<ServerReport> Missing(DateTimeOffset now, TimeSpan elapsed, string reason, string message, bool includeUnknown,
        IEnumerable<string>? except = null)
    {
        var answered = new HashSet<string>(except ?? [], StringComparer.Ordinal);
        var reports = new List<ServerReport>();
        foreach (var seen in _seen.Values.ToList())
        {
            if (answered.Contains(seen.Name)) continue;
            if (now - seen.LastAnswer > _options.DropAfter)
            {
                _seen.Remove(seen.Name);
                continue;
            }
            reports.Add(ServerReport.Failed(seen.Name, seen.Name, reason, message, elapsed) with { ServerVersion = seen.Version, ClusterName = seen.Cluster });
        }
        if (includeUnknown && reports.Count == 0)
            reports.Add(ServerReport.Failed(_options.SafeUrl, null, reason, message, elapsed));
        return reports;
    }

    private async Task<ServerReport?> ParseAsync(NatsMsg<NatsMemoryOwner<byte>> msg, TimeSpan elapsed, NatsConnection nats, CancellationToken ct)
    {
        using var owner = msg.Data;
        JszServerResponse? response;
        try
        {
            response = Deserialize(owner.Memory, msg.Headers);
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException)
        {
            // Nobody to attribute it to: count it against the connection.
            return ServerReport.Failed(_options.SafeUrl, null, "invalid_json", $"a reply to {PingSubject} is not valid JSON ({ex.Message})", elapsed);
        }
        var server = response?.Server;
        var name = server?.Name;
        if (string.IsNullOrEmpty(name)) return null;
        if (response!.Error is { } error)
        {
            return ServerReport.Failed(name, name, $"server_error_{error.Code}",
                $"server {name} answered with error {error.Code}: {error.Description}", elapsed) with { ServerVersion = server!.Ver, ClusterName = server.Cluster };
        }
        if (response.Data is not { } jsz)
            return ServerReport.Failed(name, name, "invalid_json", $"server {name} answered without data", elapsed);

        if (jsz.AccountDetails is { } accounts && accounts.Count >= _pageSize && !string.IsNullOrEmpty(server!.Id))
            jsz = await ReadRemainingPagesAsync(nats, server.Id, jsz, ct).ConfigureAwait(false);

        var report = new ServerReport
        {
            Target = name,
            ServerName = name,
            ServerVersion = server!.Ver,
            ClusterName = server.Cluster,
            Jsz = jsz,
            Duration = elapsed,
        };
        return jsz.Disabled
            ? report with { ErrorReason = "jetstream_disabled", ErrorMessage = $"JetStream is disabled on server {name}" }
            : report;
    }

    private async Task<JszResponse> ReadRemainingPagesAsync(NatsConnection nats, string serverId, JszResponse first, CancellationToken ct)
    {
        var all = new List<AccountDetailDto>(first.AccountDetails!);
        for (int page = 1; page < 10_000; page++)
        {
            if (first.Total is { } total && all.Count >= total) break;
            var payload = JsonSerializer.SerializeToUtf8Bytes(Request(all.Count), JszJsonContext.Default.JszRequestOptions);
            var reply = await nats.RequestAsync<byte[], NatsMemoryOwner<byte>>($"$SYS.REQ.SERVER.{serverId}.JSZ", payload,
                headers: new NatsHeaders { ["Accept-Encoding"] = "gzip" },
                requestSerializer: NatsRawSerializer<byte[]>.Default,
                replySerializer: NatsRawSerializer<NatsMemoryOwner<byte>>.Default,
                replyOpts: new NatsSubOpts { Timeout = _timeout },
                cancellationToken: ct).ConfigureAwait(false);
            using var owner = reply.Data;
            var got = Deserialize(owner.Memory, reply.Headers)?.Data?.AccountDetails ?? [];
            all.AddRange(got);
            if (got.Count < _pageSize) break;
        }
        return first with { AccountDetails = all };
    }

    internal static JszServerResponse? Deserialize(ReadOnlyMemory<byte> body, NatsHeaders? headers)
    {
        bool gzip = headers is not null && headers.TryGetValue("Content-Encoding", out var enc) && enc.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase);
        // The hand-written JszReader: the same DTOs as System.Text.Json, at half its CPU.
        if (!gzip) return JszReader.ReadServerResponse(body.Span);
        using var input = new MemoryStream(body.ToArray(), writable: false);
        using var unzip = new GZipStream(input, CompressionMode.Decompress);
        return JszReader.ReadServerResponse(unzip);
    }

    private readonly record struct ConnectResult(NatsConnection? Nats, (string Reason, string Message)? Error);

    private async Task<ConnectResult> ConnectAsync(CancellationToken ct)
    {
        await _connectLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_connection is { ConnectionState: NatsConnectionState.Open }) return new ConnectResult(_connection, null);
            if (_connection is not null)
            {
                // Connected once: the client reconnects by itself; report the gap meanwhile.
                return new ConnectResult(null, ("nats_connection", $"NATS connection to {_options.SafeUrl} is {_connection.ConnectionState}; reconnecting"));
            }
            _connecting ??= StartConnecting();
        }
        finally
        {
            _connectLock.Release();
        }
        // The first attempt decides this poll (success, or why not); later polls see the last error at once.
        await _firstAttempt.Task.WaitAsync(ct).ConfigureAwait(false);
        await _connectLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_connection is { } connected) return new ConnectResult(connected, null);
            lock (_errorLock) return new ConnectResult(null, _lastConnectError ?? ("nats_connection", $"connecting to NATS at {_options.SafeUrl}"));
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <summary>Connects in the background, retrying with back-off until it works or the source is disposed.</summary>
    private Task StartConnecting()
    {
        var firstAttempt = _firstAttempt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return Task.Run(async () =>
        {
            try
            {
                var nats = await _connectRetry.ExecuteAsync(async token =>
                {
                    var attempt = new NatsConnection(BuildNatsOpts(_options));
                    try
                    {
                        await attempt.ConnectAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10), token).ConfigureAwait(false);
                        return attempt;
                    }
                    catch
                    {
                        await attempt.DisposeAsync().ConfigureAwait(false);
                        throw;
                    }
                }, _stopping.Token).ConfigureAwait(false);
                await _connectLock.WaitAsync(_stopping.Token).ConfigureAwait(false);
                try
                {
                    _connection = nats;
                    _connecting = null;
                    lock (_errorLock) _lastConnectError = null;
                }
                finally
                {
                    _connectLock.Release();
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                // Disposed while connecting.
            }
            finally
            {
                firstAttempt.TrySetResult();
            }
        });
    }

    private async Task ResetConnectionAsync()
    {
        await _connectLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_connection is not null) await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
            _silentPolls = 0;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    internal (string Reason, string Message) DescribeConnectError(Exception ex)
    {
        var text = string.Join(": ", Flatten(ex).Select(e => e.Message).Distinct());
        var url = _options.SafeUrl;
        // TLS first: .NET reports a failed handshake as an AuthenticationException ("Authentication
        // failed, see inner exception"), which is not a credentials problem.
        if (Flatten(ex).Any(e => e is System.Security.Authentication.AuthenticationException)
            || text.Contains("certificate", StringComparison.OrdinalIgnoreCase) || text.Contains("SSL", StringComparison.Ordinal) || text.Contains("TLS", StringComparison.Ordinal))
            return ("tls", $"TLS with NATS at {url} failed ({text}); check --nats-tls-ca (the CA that signed the server's certificate) and the client certificate");
        if (text.Contains("Authorization Violation", StringComparison.OrdinalIgnoreCase) || text.Contains("Authentication Timeout", StringComparison.OrdinalIgnoreCase)
            || text.Contains("Authentication Expired", StringComparison.OrdinalIgnoreCase))
            return ("auth", $"NATS at {url} refused the credentials (authorization violation): check --nats-user and --nats-password-file, --nats-creds or --nats-nkey ({_options.Origin})");
        return ("nats_connection", $"cannot connect to NATS at {url} ({text}); is the URL right and the server up? Retrying with back-off");
    }

    private static IEnumerable<Exception> Flatten(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException) yield return e;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_connecting is { } connecting) await connecting.ConfigureAwait(false);
        _stopping.Dispose();
        if (_connection is not null) await _connection.DisposeAsync().ConfigureAwait(false);
        _connectLock.Dispose();
    }
}
