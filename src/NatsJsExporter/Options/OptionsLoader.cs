using System.CommandLine;
using Microsoft.Extensions.Options;

namespace NatsJsExporter.Options;

public sealed record LoadResult(ExporterOptions? Options, IReadOnlyList<string> Errors, bool HelpRequested = false);

/// <summary>
/// Settings to options: the command line (System.CommandLine), environment and file
/// (<see cref="ExporterConfiguration"/>), bound to <see cref="ExporterSettings"/> and validated by
/// <see cref="ExporterSettingsValidator"/> through the options framework's own factory.
/// </summary>
public static class OptionsLoader
{
    /// <summary>Every setting as a flag, no subcommand (the commands build their own command lines from the same catalog).</summary>
    public static LoadResult Load(IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> environment, string workingDirectory)
    {
        var command = new RootCommand();
        foreach (var option in CommandLineSettings.Create(OptionCatalog.All)) command.Options.Add(option);
        var parsed = command.Parse(args);
        if (parsed.GetResult(command.Options.First(o => o.Name == "--help")) is not null) return new LoadResult(null, [], true);
        var errors = CommandLineSettings.Errors(parsed);
        if (errors.Count > 0) return new LoadResult(null, errors);
        return Resolve(ExporterConfiguration.Build(CommandLineSettings.Given(parsed), environment, workingDirectory));
    }

    /// <summary>Binds and validates: the same <see cref="OptionsFactory{TOptions}"/> pipeline the host's IOptions uses.</summary>
    public static LoadResult Resolve(ExporterConfiguration configuration)
    {
        if (configuration.Errors.Count > 0) return new LoadResult(null, configuration.Errors); // the file itself, before binding it
        var validator = new ExporterSettingsValidator(configuration);
        var factory = new OptionsFactory<ExporterSettings>(
            [new ConfigureFromConfigurationOptions<ExporterSettings>(configuration.Settings)], [], [validator]);
        try
        {
            return new LoadResult(validator.OptionsFor(factory.Create(Microsoft.Extensions.Options.Options.DefaultName)), []);
        }
        catch (OptionsValidationException ex)
        {
            return new LoadResult(null, ex.Failures.ToList());
        }
    }
}
