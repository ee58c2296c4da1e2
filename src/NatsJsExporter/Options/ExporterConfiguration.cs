using Microsoft.Extensions.Configuration.Json;

namespace NatsJsExporter.Options;

/// <summary>
/// The exporter's settings as Microsoft.Extensions.Configuration layers: the JSON file (section
/// "NatsJsExporter"), then NATSJS_* environment variables, then command-line flags, each overriding
/// the last. Knows which layer supplied a value, so errors name it as the user wrote it:
/// <c>Interval in ./appsettings.json</c>, <c>NATSJS_INTERVAL</c> or <c>--interval</c>.
/// </summary>
public sealed class ExporterConfiguration
{
    public const string Section = "NatsJsExporter";

    private ExporterConfiguration(IConfigurationRoot root, IReadOnlyDictionary<string, string?> environment, string? file, IReadOnlyList<string> errors)
    {
        Root = root;
        Environment = environment;
        File = file;
        Errors = errors;
    }

    public IConfigurationRoot Root { get; }
    /// <summary>The "NatsJsExporter" section every setting binds from.</summary>
    public IConfigurationSection Settings => Root.GetSection(Section);
    /// <summary>The whole environment (HOME and XDG_CONFIG_HOME locate NATS contexts; NATSJS_NATS_PASSWORD/TOKEN are secrets read from it).</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; }
    /// <summary>The settings file read, as given (null: none).</summary>
    public string? File { get; }
    /// <summary>Problems of the layers themselves: a missing or unreadable file, bad JSON, an unknown key.</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <param name="flags">Values given on the command line, by flag name without dashes (e.g. "interval").</param>
    public static ExporterConfiguration Build(IReadOnlyDictionary<string, string> flags, IReadOnlyDictionary<string, string?> environment, string workingDirectory)
    {
        var errors = new List<string>();
        var builder = new ConfigurationBuilder();
        string? file = flags.GetValueOrDefault("config") ?? NonEmpty(environment.GetValueOrDefault("NATSJS_CONFIG"));
        bool explicitFile = file is not null;
        file ??= Path.Combine(workingDirectory, "appsettings.json");
        var full = Path.GetFullPath(file, workingDirectory);
        if (!explicitFile && !System.IO.File.Exists(full) && !Directory.Exists(full)) file = null;
        else if (!FileChecks.TryReadAllBytes(full, out var bytes, out var error)) errors.Add(error.StartsWith("file ", StringComparison.Ordinal) ? $"config {error}" : $"config file: {error}");
        else builder.Add(new SettingsFileSource(file, new MemoryStream(bytes), errors));
        builder.Add(new OriginSource(new CatalogProvider(spec => NonEmpty(environment.GetValueOrDefault(spec.Env)), spec => spec.Env)));
        builder.Add(new OriginSource(new CatalogProvider(spec => flags.GetValueOrDefault(spec.Flag), spec => spec.Name)));
        var root = builder.Build();

        var section = root.GetSection(Section);
        if (errors.Count == 0 && file is not null)
        {
            if (section.Value is not null) errors.Add($"config file \"{file}\": \"{Section}\" must be an object");
            foreach (var child in section.GetChildren())
            {
                if (OptionCatalog.FileSettings.All(s => !s.Json.Equals(child.Key, StringComparison.OrdinalIgnoreCase)))
                    errors.Add($"config file \"{file}\": unknown setting \"{child.Key}\" (known: {string.Join(", ", OptionCatalog.FileSettings.Select(s => s.Json))})");
                else if (child.Value is null && child.GetChildren().Any())
                    errors.Add($"config file \"{file}\": \"{child.Key}\" must be a value or a list of values, not an object");
            }
        }
        return new ExporterConfiguration(root, environment, file, errors);
    }

    /// <summary>How the user gave this setting: its flag, its environment variable or its key in the file (the flag when not given at all).</summary>
    public string Describe(OptionSpec spec)
    {
        var key = $"{Section}:{spec.Json}";
        foreach (var provider in Root.Providers.Reverse())
        {
            if (provider.TryGet(key, out _)) return provider is IOrigin origin ? origin.Describe(spec) : spec.Name;
        }
        return spec.Name;
    }

    /// <summary>Whether any layer gives this setting a value.</summary>
    public bool IsSet(OptionSpec spec) => !string.IsNullOrEmpty(Settings[spec.Json]);

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private interface IOrigin
    {
        string Describe(OptionSpec spec);
    }

    private sealed class OriginSource(IConfigurationProvider provider) : IConfigurationSource
    {
        public IConfigurationProvider Build(IConfigurationBuilder builder) => provider;
    }

    /// <summary>NATSJS_* variables (empty ones count as unset) or flags, each under its setting's key.</summary>
    private sealed class CatalogProvider(Func<OptionSpec, string?> value, Func<OptionSpec, string> describe) : ConfigurationProvider, IOrigin
    {
        public override void Load()
        {
            foreach (var spec in OptionCatalog.FileSettings)
                if (value(spec) is { } v) Data[$"{Section}:{spec.Json}"] = v;
        }

        public string Describe(OptionSpec spec) => describe(spec);
    }

    /// <summary>The JSON file (comments and trailing commas allowed); a list becomes one comma-separated value, as in the environment.</summary>
    private sealed class SettingsFileSource(string path, Stream stream, List<string> errors) : JsonStreamConfigurationSource
    {
        public override IConfigurationProvider Build(IConfigurationBuilder builder)
        {
            Stream = stream;
            return new SettingsFileProvider(this, path, errors);
        }
    }

    private sealed class SettingsFileProvider(JsonStreamConfigurationSource source, string path, List<string> errors)
        : JsonStreamConfigurationProvider(source), IOrigin
    {
        public override void Load(Stream stream)
        {
            try
            {
                base.Load(stream);
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException)
            {
                errors.Add($"config file \"{path}\" is not valid JSON: {(ex.InnerException ?? ex).Message}");
                return;
            }
            var lists = Data.Keys
                .Select(k => (Key: k, Parts: k.Split(':')))
                .Where(k => k.Parts.Length == 3 && k.Parts[0].Equals(Section, StringComparison.OrdinalIgnoreCase) && int.TryParse(k.Parts[2], out _))
                .GroupBy(k => $"{k.Parts[0]}:{k.Parts[1]}", StringComparer.OrdinalIgnoreCase)
                .ToList();
            foreach (var list in lists)
            {
                Data[list.Key] = string.Join(",", list.OrderBy(k => int.Parse(k.Parts[2], System.Globalization.CultureInfo.InvariantCulture)).Select(k => Data[k.Key]));
                foreach (var item in list) Data.Remove(item.Key);
            }
        }

        public string Describe(OptionSpec spec) => $"{spec.Json} in {path}";
    }
}
