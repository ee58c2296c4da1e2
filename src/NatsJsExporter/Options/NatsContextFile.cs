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

    /// <summary>A context name resolves like the NATS CLI: $XDG_CONFIG_HOME/nats/context/NAME.json (default ~/.config); a path is used as it is.</summary>
    public static string PathOf(string value, IReadOnlyDictionary<string, string?> environment)
    {
        if (value.Contains('/') || value.EndsWith(".json", StringComparison.Ordinal)) return ExpandHome(value, environment);
        var config = environment.GetValueOrDefault("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(environment.GetValueOrDefault("HOME") ?? "/root", ".config");
        return Path.Combine(config, "nats", "context", value + ".json");
    }

    public static string ExpandHome(string path, IReadOnlyDictionary<string, string?> environment) =>
        path.StartsWith("~/", StringComparison.Ordinal) && environment.GetValueOrDefault("HOME") is { Length: > 0 } home
            ? Path.Combine(home, path[2..])
            : path;
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(NatsContextFile))]
public sealed partial class OptionsJsonContext : JsonSerializerContext;
