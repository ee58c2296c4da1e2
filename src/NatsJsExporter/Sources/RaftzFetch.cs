using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using NATS.Client.Core;
using NatsJsExporter.Model;

namespace NatsJsExporter.Sources;

/// <summary>Which Raft groups /raftz is asked about (--raftz-groups).</summary>
public enum RaftzGroups
{
    /// <summary>Never ask /raftz.</summary>
    Off,
    /// <summary>The meta group only: one request per server per poll.</summary>
    Meta,
    /// <summary>The meta group and every stream and consumer group: one more request per account with a replicated stream, per server per poll.</summary>
    All,
}

/// <summary>
/// /raftz (HTTP: seen on 2.10.27 and 2.15.1, absent on 2.9.10) and $SYS.REQ.SERVER.PING.RAFTZ (system
/// account: asked of 2.11+ servers only, so an older server never holds a poll up to the timeout).
/// 2.9 servers are never asked (gated by the version learned from /varz or the reply envelope); a
/// server that answers 404 (2.10 before /raftz existed, or a server without Raft nodes) is remembered
/// and not asked again until it restarts. /raftz is an
/// extra: whatever goes wrong with it, the poll's /jsz stands, no error is counted and nothing is logged.
/// </summary>
public static class RaftzFeatures
{
    /// <summary>HTTP: 2.10 servers are asked once (late 2.10 releases have /raftz; a 404 is remembered).</summary>
    public static readonly ServerVersion HttpRaftz = new(2, 10, 0);

    /// <summary>System account: only servers known to answer PING.RAFTZ.</summary>
    public static readonly ServerVersion Raftz = new(2, 11, 0);

    public const string PingSubject = "$SYS.REQ.SERVER.PING.RAFTZ";

    public static bool Supported(string? version) => ServerVersion.Parse(version) is { } v && v >= Raftz;

    public static bool SupportedOverHttp(string? version) => ServerVersion.Parse(version) is { } v && v >= HttpRaftz;

    /// <summary>Accounts in this /jsz answer with a replicated (R&gt;1) stream or consumer: the only ones with stream or consumer Raft groups.</summary>
    public static IReadOnlyList<string> ReplicatedAccounts(JszResponse? jsz) =>
        (jsz?.AccountDetails ?? [])
            .Where(a => a.Name is not null && (a.StreamDetail ?? []).Any(s => s.Config?.NumReplicas > 1 || s.Cluster?.RaftGroup is not null
                || (s.ConsumerDetail ?? []).Any(c => c.Cluster?.RaftGroup is not null)))
            .Select(a => a.Name!)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToArray();

    /// <summary>Accounts to ask beyond the meta group (the system account, which holds it, is asked without a name).</summary>
    internal static IReadOnlyList<string> AccountsToAsk(RaftzGroups groups, JszResponse? jsz) =>
        groups == RaftzGroups.All ? ReplicatedAccounts(jsz) : [];

    /// <summary>Merges per-account answers (each account -> group -> state) into one.</summary>
    internal static void Merge(Dictionary<string, Dictionary<string, RaftzGroupDto>> into, Dictionary<string, Dictionary<string, RaftzGroupDto>>? part)
    {
        foreach (var (account, groups) in part ?? [])
        {
            if (!into.TryGetValue(account, out var known)) into[account] = known = new(StringComparer.Ordinal);
            foreach (var (name, g) in groups ?? []) known[name] = g;
        }
    }
}

/// <summary>HTTP mode: GET /raftz (and /raftz?acc=NAME) on one monitor URL after its /jsz.</summary>
internal sealed class HttpRaftzFetch(RaftzGroups groups)
{
    // Targets whose server (by server id: a restart may bring a new version) answered /raftz with 404.
    private readonly ConcurrentDictionary<Uri, string> _absent = new();

    public delegate Task<T> Get<T>(string relative, JsonTypeInfo<T> type, CancellationToken ct);

    public async Task<Dictionary<string, Dictionary<string, RaftzGroupDto>>?> FetchAsync(Uri target, string serverId, string? version, JszResponse jsz,
        Get<Dictionary<string, Dictionary<string, RaftzGroupDto>>> get, CancellationToken ct)
    {
        if (groups == RaftzGroups.Off || !RaftzFeatures.SupportedOverHttp(version)) return null;
        if (_absent.TryGetValue(target, out var absentId) && absentId == serverId) return null;
        var type = RaftzJsonContext.Default.DictionaryStringDictionaryStringRaftzGroupDto;
        try
        {
            var result = new Dictionary<string, Dictionary<string, RaftzGroupDto>>(StringComparer.Ordinal);
            RaftzFeatures.Merge(result, await get("raftz", type, ct).ConfigureAwait(false));
            var accounts = RaftzFeatures.AccountsToAsk(groups, jsz);
            var parts = await Task.WhenAll(accounts.Select(a => GetOrEmptyAsync(get, "raftz?acc=" + Uri.EscapeDataString(a), type, ct))).ConfigureAwait(false);
            foreach (var p in parts) RaftzFeatures.Merge(result, p);
            return result;
        }
        catch (HttpMonitorSource.HttpStatusException h) when (h.Status == HttpStatusCode.NotFound)
        {
            _absent[target] = serverId; // no /raftz here (or no Raft node registered yet): not again until a restart
            return null;
        }
        catch (Exception)
        {
            return null; // /raftz is an extra: the /jsz answer stands
        }
    }

    // An account without Raft groups answers 404 ("no groups"): that is an empty answer, not an absent endpoint.
    private static async Task<Dictionary<string, Dictionary<string, RaftzGroupDto>>?> GetOrEmptyAsync(
        Get<Dictionary<string, Dictionary<string, RaftzGroupDto>>> get, string relative,
        JsonTypeInfo<Dictionary<string, Dictionary<string, RaftzGroupDto>>> type, CancellationToken ct)
    {
        try
        {
            return await get(relative, type, ct).ConfigureAwait(false);
        }
        catch (HttpMonitorSource.HttpStatusException h) when (h.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}

/// <summary>System-account mode: $SYS.REQ.SERVER.PING.RAFTZ once for the meta group and once per replicated account.</summary>
internal static class SystemRaftzFetch
{
    /// <summary>Asks every 2.11+ server that answered /jsz this poll; returns the reports with <see cref="ServerReport.Raftz"/> filled where answered.</summary>
    public static async Task<List<ServerReport>> AttachAsync(NatsConnection nats, List<ServerReport> reports, RaftzGroups groups, RaftzRequestOptions filter,
        TimeSpan timeout, TimeSpan quiet, CancellationToken cancellationToken)
    {
        if (groups == RaftzGroups.Off) return reports;
        var asked = reports.Where(r => r.Succeeded && r.ServerName is not null && RaftzFeatures.Supported(r.ServerVersion))
            .Select(r => r.ServerName!).ToHashSet(StringComparer.Ordinal);
        if (asked.Count == 0) return reports;
        var accounts = reports.Where(r => asked.Contains(r.ServerName!))
            .SelectMany(r => RaftzFeatures.AccountsToAsk(groups, r.Jsz)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var merged = new Dictionary<string, Dictionary<string, Dictionary<string, RaftzGroupDto>>>(StringComparer.Ordinal);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            foreach (var account in new string?[] { null }.Concat(accounts))
            {
                var answers = await PingAsync(nats, filter with { Account = account }, asked.Count, quiet, cts.Token).ConfigureAwait(false);
                foreach (var (server, data) in answers)
                {
                    if (!asked.Contains(server)) continue;
                    if (!merged.TryGetValue(server, out var into)) merged[server] = into = new(StringComparer.Ordinal);
                    RaftzFeatures.Merge(into, data);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or NatsException && !cancellationToken.IsCancellationRequested)
        {
            // Keep what arrived: /raftz is an extra, the /jsz answers stand.
        }
        return reports.Select(r => r.ServerName is not null && merged.TryGetValue(r.ServerName, out var raftz) ? r with { Raftz = raftz } : r).ToList();
    }

    private static async Task<List<(string Server, Dictionary<string, Dictionary<string, RaftzGroupDto>>? Data)>> PingAsync(NatsConnection nats,
        RaftzRequestOptions request, int expected, TimeSpan quiet, CancellationToken ct)
    {
        var result = new List<(string, Dictionary<string, Dictionary<string, RaftzGroupDto>>?)>();
        var inbox = nats.NewInbox();
        await using var sub = await nats.SubscribeCoreAsync(inbox, serializer: NatsRawSerializer<NatsMemoryOwner<byte>>.Default, cancellationToken: ct).ConfigureAwait(false);
        var payload = JsonSerializer.SerializeToUtf8Bytes(request, RaftzJsonContext.Default.RaftzRequestOptions);
        await nats.PublishAsync(RaftzFeatures.PingSubject, payload, new NatsHeaders { ["Accept-Encoding"] = "gzip" }, replyTo: inbox,
            serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: ct).ConfigureAwait(false);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (seen.Count < expected)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (seen.Count > 0) wait.CancelAfter(quiet);
            NatsMsg<NatsMemoryOwner<byte>> msg;
            try
            {
                msg = await sub.Msgs.ReadAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                break; // quiet period over
            }
            using var owner = msg.Data;
            if (msg.Headers is { Code: 503 }) break; // nobody serves RAFTZ (no 2.11+ server)
            RaftzServerResponse? response;
            try
            {
                response = Deserialize(owner.Memory, msg.Headers);
            }
            catch (Exception ex) when (ex is JsonException or InvalidDataException)
            {
                continue;
            }
            if (response?.Server?.Name is not { Length: > 0 } name || !seen.Add(name)) continue;
            if (response.Error is null) result.Add((name, response.Data));
        }
        return result;
    }

    private static RaftzServerResponse? Deserialize(ReadOnlyMemory<byte> body, NatsHeaders? headers)
    {
        bool gzip = headers is not null && headers.TryGetValue("Content-Encoding", out var enc) && enc.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase);
        if (!gzip) return JsonSerializer.Deserialize(body.Span, RaftzJsonContext.Default.RaftzServerResponse);
        using var input = new MemoryStream(body.ToArray(), writable: false);
        using var unzip = new GZipStream(input, CompressionMode.Decompress);
        return JsonSerializer.Deserialize(unzip, RaftzJsonContext.Default.RaftzServerResponse);
    }
}
