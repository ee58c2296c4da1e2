using NatsJsExporter.Options;

namespace NatsJsExporter.Commands;

/// <summary>What a command runs against: the environment, the working directory and the two output streams (tests pass their own).</summary>
public sealed record CommandContext(IReadOnlyDictionary<string, string?> Environment, string WorkingDirectory, TextWriter Out, TextWriter Error)
{
    public static CommandContext FromProcess() => new(
        System.Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal),
        Directory.GetCurrentDirectory(), Console.Out, Console.Error);

    /// <summary>The validated options from this command line, the environment and the settings file; or each error as one line on stderr.</summary>
    public async Task<(ExporterOptions? Options, ExporterConfiguration Configuration)> ResolveAsync(System.CommandLine.ParseResult parsed, string prefix)
    {
        var configuration = ExporterConfiguration.Build(CommandLineSettings.Given(parsed), Environment, WorkingDirectory);
        var result = OptionsLoader.Resolve(configuration);
        foreach (var error in result.Errors) await Error.WriteLineAsync($"{prefix}: {error}");
        return (result.Options, configuration);
    }
}
