using System.Text.Json;
using System.Text.Json.Serialization;

namespace NatsJsExporter.Model;

// Wire DTOs for nats-server's /raftz (2.11+, server/monitor.go Raftz/RaftzGroup/RaftzGroupPeer) and
// its system form $SYS.REQ.SERVER.PING.RAFTZ. The answer maps account -> Raft group name -> group;
// without an account only the system account's meta group (_meta_) is listed.

/// <summary>One Raft group as one server sees it.</summary>
public sealed record RaftzGroupDto
{
    /// <summary>This server's node id within the group.</summary>
    public string? Id { get; init; }
    /// <summary>LEADER, FOLLOWER, CANDIDATE or CLOSED.</summary>
    public string? State { get; init; }
    public long Size { get; init; }
    public long QuorumNeeded { get; init; }
    public bool Observer { get; init; }
    public bool Paused { get; init; }
    public ulong Committed { get; init; }
    public ulong Applied { get; init; }
    public bool CatchingUp { get; init; }
    /// <summary>The leader's node id (map it through <see cref="Peers"/>' names).</summary>
    public string? Leader { get; init; }
    public bool EverHadLeader { get; init; }
    public ulong Term { get; init; }
    public string? VotedFor { get; init; }
    public ulong Pterm { get; init; }
    /// <summary>Index of the last entry in this server's log (stored, not necessarily committed).</summary>
    public ulong Pindex { get; init; }
    /// <summary>A Go error value: present (any JSON) when the group's log failed.</summary>
    public JsonElement? WalError { get; init; }
    /// <summary>The other members, by node id (this server is not listed).</summary>
    public Dictionary<string, RaftzPeerDto>? Peers { get; init; }
}

public sealed record RaftzPeerDto
{
    public string? Name { get; init; }
    public bool Known { get; init; }
    /// <summary>Filled only on the group leader: the last log index this peer acknowledged.</summary>
    public ulong? LastReplicatedIndex { get; init; }
    /// <summary>A Go duration string ("15.53s", "12m8.6s").</summary>
    public string? LastSeen { get; init; }
}

/// <summary>A reply to $SYS.REQ.SERVER.PING.RAFTZ: the envelope plus account -> group -> state.</summary>
public sealed record RaftzServerResponse
{
    public ServerInfoDto? Server { get; init; }
    public Dictionary<string, Dictionary<string, RaftzGroupDto>>? Data { get; init; }
    public ApiErrorDto? Error { get; init; }
}

/// <summary>The payload of the system RAFTZ request (RaftzEventOptions: the event filter plus account/group).</summary>
public sealed record RaftzRequestOptions
{
    public string? Account { get; init; }
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
[JsonSerializable(typeof(Dictionary<string, Dictionary<string, RaftzGroupDto>>))]
[JsonSerializable(typeof(RaftzServerResponse))]
[JsonSerializable(typeof(RaftzRequestOptions))]
public sealed partial class RaftzJsonContext : JsonSerializerContext;
