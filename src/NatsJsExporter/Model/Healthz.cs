using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NatsJsExporter.Model;

/// <summary>
/// The body of /healthz (server/monitor.go HealthStatus): `{"status":"ok"}` when healthy; otherwise
/// status "unavailable" (2.9, and 2.10+ without details) or "error" (2.10+ with details), an `error`
/// sentence and, with details (2.10+), one entry per failing check in `errors`. Over the system
/// account the body also carries `status_code`; over HTTP the code is the response's own.
/// </summary>
public sealed record HealthzResponse : IJsonOnDeserialized
{
    void IJsonOnDeserialized.OnDeserialized() => Errors?.RemoveAll(static e => e is null);

    public string? Status { get; init; }
    public int StatusCode { get; init; }
    public string? Error { get; init; }
    public List<HealthzErrorDto>? Errors { get; init; }
}

/// <summary>One failing check of /healthz?details=true (server/monitor.go HealthzError).</summary>
public sealed record HealthzErrorDto
{
    /// <summary>JETSTREAM, ACCOUNT, STREAM, CONSUMER (also CONNECTION, BAD_REQUEST); a number on servers that send the enum raw.</summary>
    [JsonConverter(typeof(HealthzTypeConverter))]
    public string? Type { get; init; }
    public string? Account { get; init; }
    public string? Stream { get; init; }
    public string? Consumer { get; init; }
    public string? Error { get; init; }
}

/// <summary>A reply to $SYS.REQ.SERVER.PING.HEALTHZ (server/events.go ServerAPIResponse).</summary>
public sealed record HealthzServerResponse
{
    public ServerInfoDto? Server { get; init; }
    public HealthzResponse? Data { get; init; }
    public ApiErrorDto? Error { get; init; }
}

/// <summary>The request payload of the system HEALTHZ request (HealthzOptions plus the event filter).</summary>
public sealed record HealthzRequestOptions
{
    public bool Details { get; init; }
    public string? ServerName { get; init; }
    public string? Cluster { get; init; }
    public List<string>? Tags { get; init; }
    public string? Domain { get; init; }
}

/// <summary>The error type as a string: the server's names, or its enum number mapped to them.</summary>
public sealed class HealthzTypeConverter : JsonConverter<string?>
{
    private static readonly string[] Names = ["CONNECTION", "BAD_REQUEST", "JETSTREAM", "ACCOUNT", "STREAM", "CONSUMER"];

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number when reader.TryGetInt32(out var n) => n >= 0 && n < Names.Length ? Names[n] : n.ToString(CultureInfo.InvariantCulture),
        JsonTokenType.Null => null,
        _ => throw new JsonException("healthz error type is neither a string nor a number"),
    };

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.Strict,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
    GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(HealthzResponse))]
[JsonSerializable(typeof(HealthzServerResponse))]
[JsonSerializable(typeof(HealthzRequestOptions))]
public sealed partial class HealthzJsonContext : JsonSerializerContext;
