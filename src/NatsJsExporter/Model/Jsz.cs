using System.Text.Json;
using System.Text.Json.Serialization;

namespace NatsJsExporter.Model;

// Wire DTOs for nats-server's /jsz answer (server/monitor.go JSInfo and friends), 2.9 to 2.15.
// Every field is optional: servers omit zero values and older servers lack newer fields.
// Unsigned 64-bit fields stay ulong so uint64-max ("unlimited") survives parsing.

// A null element in any list (a damaged or hostile answer; servers never send one) is left out
// after parsing (IJsonOnDeserialized on the record that holds the list), so no consumer needs its own
// null check. Not a custom converter: one cannot resume, so System.Text.Json would buffer the whole
// array (for account_details, the whole answer) before reading it.

public sealed record JszResponse : IJsonOnDeserialized
{
    void IJsonOnDeserialized.OnDeserialized() => AccountDetails?.RemoveAll(static a => a is null);

    public string? ServerId { get; init; }
    public DateTimeOffset? Now { get; init; }
    public bool Disabled { get; init; }
    public JetStreamConfigDto? Config { get; init; }
    public ulong Memory { get; init; }
    public ulong Storage { get; init; }
    public ulong ReservedMemory { get; init; }
    public ulong ReservedStorage { get; init; }
    public long Accounts { get; init; }
    public long HaAssets { get; init; }
    public ApiStatsDto? Api { get; init; }
    public long Streams { get; init; }
    public long Consumers { get; init; }
    public ulong Messages { get; init; }
    public ulong Bytes { get; init; }
    /// <summary>2.11.11/2.12.1+ with raft=true: streams this server leads.</summary>
    public long? StreamsLeader { get; init; }
    /// <summary>2.11.11/2.12.1+ with raft=true: consumers this server leads.</summary>
    public long? ConsumersLeader { get; init; }
    public MetaClusterDto? MetaCluster { get; init; }
    public List<AccountDetailDto>? AccountDetails { get; init; }
    /// <summary>2.10.28/2.11.2+: total number of accounts, for paging.</summary>
    public long? Total { get; init; }
}

public sealed record JetStreamConfigDto
{
    public long MaxMemory { get; init; }
    public long MaxStorage { get; init; }
    public string? Domain { get; init; }
}

public sealed record ApiStatsDto
{
    public ulong Total { get; init; }
    public ulong Errors { get; init; }
    public ulong? Inflight { get; init; }
    public long? Level { get; init; }
}

public sealed record MetaClusterDto : IJsonOnDeserialized
{
    void IJsonOnDeserialized.OnDeserialized() => Replicas?.RemoveAll(static p => p is null);

    public string? Name { get; init; }
    public string? Leader { get; init; }
    public string? Peer { get; init; }
    public List<PeerInfoDto>? Replicas { get; init; }
    public long ClusterSize { get; init; }
    /// <summary>2.10.21+.</summary>
    public ulong? Pending { get; init; }
    /// <summary>2.11.11/2.12.2+.</summary>
    public MetaSnapshotDto? Snapshot { get; init; }
}

public sealed record MetaSnapshotDto
{
    public ulong PendingEntries { get; init; }
    public ulong PendingSize { get; init; }
}

public sealed record PeerInfoDto
{
    public string? Name { get; init; }
    public bool Current { get; init; }
    public bool Offline { get; init; }
    /// <summary>Nanoseconds since last contact.</summary>
    public long Active { get; init; }
    public ulong Lag { get; init; }
    public string? Peer { get; init; }
}

public sealed record AccountDetailDto : IJsonOnDeserialized
{
    void IJsonOnDeserialized.OnDeserialized() => StreamDetail?.RemoveAll(static s => s is null);

    public string? Name { get; init; }
    public string? Id { get; init; }
    public ulong Memory { get; init; }
    public ulong Storage { get; init; }
    public ulong ReservedMemory { get; init; }
    public ulong ReservedStorage { get; init; }
    public ApiStatsDto? Api { get; init; }
    public List<StreamDetailDto>? StreamDetail { get; init; }
}

public sealed record ClusterInfoDto : IJsonOnDeserialized
{
    void IJsonOnDeserialized.OnDeserialized() => Replicas?.RemoveAll(static p => p is null);

    public string? Name { get; init; }
    public string? Leader { get; init; }
    public DateTimeOffset? LeaderSince { get; init; }
    public List<PeerInfoDto>? Replicas { get; init; }
    /// <summary>2.10.4+ with raft=true: the Raft group name (S-R3F-..., C-R3F-...), as /raftz lists it.</summary>
    public string? RaftGroup { get; init; }
}

public sealed record StreamDetailDto : IJsonOnDeserialized
{
    void IJsonOnDeserialized.OnDeserialized()
    {
        ConsumerDetail?.RemoveAll(static c => c is null);
        Sources?.RemoveAll(static s => s is null);
    }

    public string? Name { get; init; }
    public DateTimeOffset? Created { get; init; }
    public ClusterInfoDto? Cluster { get; init; }
    public StreamConfigDto? Config { get; init; }
    public StreamStateDto? State { get; init; }
    public List<ConsumerInfoDto>? ConsumerDetail { get; init; }
    public StreamSourceInfoDto? Mirror { get; init; }
    public List<StreamSourceInfoDto>? Sources { get; init; }
}

public sealed record StreamConfigDto : IJsonOnDeserialized
{
    void IJsonOnDeserialized.OnDeserialized() => Subjects?.RemoveAll(static s => s is null);

    public string? Name { get; init; }
    public List<string>? Subjects { get; init; }
    public string? Retention { get; init; }
    public string? Storage { get; init; }
    public long NumReplicas { get; init; }
    public long MaxMsgs { get; init; }
    public long MaxBytes { get; init; }
    /// <summary>2.10+: only the `io.nats.monitor.*` entries are kept (see <see cref="MonitorMetadataConverter"/>).</summary>
    [JsonConverter(typeof(MonitorMetadataConverter))]
    public Dictionary<string, string>? Metadata { get; init; }
}

public sealed record StreamStateDto
{
    public ulong Messages { get; init; }
    public ulong Bytes { get; init; }
    public ulong FirstSeq { get; init; }
    public ulong LastSeq { get; init; }
    public long NumSubjects { get; init; }
    public long NumDeleted { get; init; }
    public LostStreamDataDto? Lost { get; init; }
    public long ConsumerCount { get; init; }
}

public sealed record LostStreamDataDto
{
    public List<ulong>? Msgs { get; init; }
    public ulong Bytes { get; init; }
}

public sealed record StreamSourceInfoDto
{
    public string? Name { get; init; }
    public ulong Lag { get; init; }
    /// <summary>Nanoseconds since last contact; -1 when never heard from.</summary>
    public long Active { get; init; }
    public ApiErrorDto? Error { get; init; }
}

public sealed record ApiErrorDto
{
    public long Code { get; init; }
    public long ErrCode { get; init; }
    public string? Description { get; init; }
}

public sealed record ConsumerInfoDto
{
    public string? Name { get; init; }
    public DateTimeOffset? Created { get; init; }
    public ConsumerConfigDto? Config { get; init; }
    public SequenceInfoDto? Delivered { get; init; }
    public SequenceInfoDto? AckFloor { get; init; }
    public long NumAckPending { get; init; }
    public long NumRedelivered { get; init; }
    public long NumWaiting { get; init; }
    public ulong NumPending { get; init; }
    public ClusterInfoDto? Cluster { get; init; }
    /// <summary>2.11+.</summary>
    public bool? Paused { get; init; }
}

public sealed record ConsumerConfigDto
{
    public string? DurableName { get; init; }
    public string? Name { get; init; }
    public string? DeliverPolicy { get; init; }
    public string? AckPolicy { get; init; }
    public long MaxAckPending { get; init; }
    public long NumReplicas { get; init; }
    /// <summary>2.10+: only the `io.nats.monitor.*` entries are kept (see <see cref="MonitorMetadataConverter"/>).</summary>
    [JsonConverter(typeof(MonitorMetadataConverter))]
    public Dictionary<string, string>? Metadata { get; init; }
}

public sealed record SequenceInfoDto
{
    public ulong ConsumerSeq { get; init; }
    public ulong StreamSeq { get; init; }
    /// <summary>2.10+.</summary>
    public DateTimeOffset? LastActive { get; init; }
}

/// <summary>
/// Reads a stream's or consumer's `metadata` object keeping only the `io.nats.monitor.*` entries
/// (natscli's per-asset check thresholds): 2.11+ servers add `_nats.*` entries to every asset, and
/// user metadata may be large, so nothing else is materialized. A non-string value is skipped
/// (as if absent), never an error for the whole answer. Null when no monitor entry is present.
/// </summary>
public sealed class MonitorMetadataConverter : JsonConverter<Dictionary<string, string>?>
{
    /// <summary>The prefix natscli's checks read (nats-io/jsm.go monitor package).</summary>
    public const string Prefix = "io.nats.monitor.";

    public override bool HandleNull => true;

    public override Dictionary<string, string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }
        Dictionary<string, string>? kept = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool monitor = !reader.HasValueSequence && !reader.ValueIsEscaped
                ? reader.ValueSpan.StartsWith("io.nats.monitor."u8)
                : reader.GetString()!.StartsWith(Prefix, StringComparison.Ordinal);
            string? key = monitor ? reader.GetString() : null;
            reader.Read();
            if (key is not null && reader.TokenType == JsonTokenType.String)
                (kept ??= new Dictionary<string, string>(StringComparer.Ordinal))[key] = reader.GetString()!;
            else
                reader.Skip();
        }
        return kept;
    }

    public override void Write(Utf8JsonWriter writer, Dictionary<string, string>? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
            return;
        }
        writer.WriteStartObject();
        foreach (var (k, v) in value) writer.WriteString(k, v);
        writer.WriteEndObject();
    }
}

/// <summary>The few fields of /varz the exporter needs: who answered.</summary>
public sealed record VarzResponse
{
    public string? ServerId { get; init; }
    public string? ServerName { get; init; }
    public string? Version { get; init; }
    public VarzClusterDto? Cluster { get; init; }
}

public sealed record VarzClusterDto
{
    public string? Name { get; init; }
}

/// <summary>A reply to $SYS.REQ.SERVER.PING.JSZ or $SYS.REQ.SERVER.&lt;id&gt;.JSZ (server/events.go ServerAPIResponse).</summary>
public sealed record JszServerResponse
{
    public ServerInfoDto? Server { get; init; }
    public JszResponse? Data { get; init; }
    public ApiErrorDto? Error { get; init; }
}

/// <summary>The envelope's description of the answering server (server/events.go ServerInfo).</summary>
public sealed record ServerInfoDto : IJsonOnDeserialized
{
    void IJsonOnDeserialized.OnDeserialized() => Tags?.RemoveAll(static t => t is null);

    public string? Name { get; init; }
    public string? Host { get; init; }
    public string? Id { get; init; }
    public string? Cluster { get; init; }
    public string? Domain { get; init; }
    public string? Ver { get; init; }
    public List<string>? Tags { get; init; }
}

/// <summary>The request payload of the system JSZ request (JSzOptions plus the event filter).</summary>
public sealed record JszRequestOptions
{
    public bool Accounts { get; init; }
    public bool Streams { get; init; }
    /// <summary>Singular on the wire: the plural is silently ignored there.</summary>
    public bool Consumer { get; init; }
    public bool Config { get; init; }
    public int Offset { get; init; }
    public int Limit { get; init; }
    public bool Raft { get; init; }
    public string? ServerName { get; init; }
    public string? Cluster { get; init; }
    public List<string>? Tags { get; init; }
    public string? Domain { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.Strict,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
    GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(JszResponse))]
[JsonSerializable(typeof(VarzResponse))]
[JsonSerializable(typeof(JszServerResponse))]
[JsonSerializable(typeof(JszRequestOptions))]
public sealed partial class JszJsonContext : JsonSerializerContext;
