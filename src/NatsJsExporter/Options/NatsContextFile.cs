using System.Text.Json.Serialization;

namespace NatsJsExporter.Options;

/// <summary>The fields of a NATS CLI context file (~/.config/nats/context/NAME.json) the exporter uses.</summary>
public sealed record NatsContextFile
{
    public string? Url { get; init; }
    public string? User { get; init; }
    public string? Password { get; init; }
    public string? Token { get; init; }
    public string? Creds { get; init; }
    public string? Nkey { get; init; }
    public string? Cert { get; init; }
    public string? Key { get; init; }
    public string? Ca { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(NatsContextFile))]
public sealed partial class OptionsJsonContext : JsonSerializerContext;
