using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using NatsJsExporter.Options;

namespace NatsJsExporter.Commands;

/// <summary>
/// The command line (System.CommandLine): <c>natsjs-exporter</c> serves (the default command),
/// <c>report</c> polls once and prints, <c>healthcheck</c> asks a running exporter's /healthz
/// (also as the older <c>--healthcheck</c> flag); <c>--version</c>, <c>--help</c> on each.
/// A parse error is one line per problem and exit code 2 (3 for report, whose 2 means critical).
/// </summary>
public static class ExporterCommandLine
{
    public const string Name = "natsjs-exporter";
    public const int ExitBadSettings = 2;

    public static async Task<int> RunAsync(string[] args, CommandContext context, CancellationToken cancellationToken = default)
    {
        var root = Build(context);
        var parsed = root.Parse(args, new ParserConfiguration { EnablePosixBundling = false, ResponseFileTokenReplacer = null });
        if (parsed.Action is not (HelpAction or VersionAction))
        {
            var errors = CommandLineSettings.Errors(parsed);
            if (errors.Count > 0)
            {
                bool report = parsed.CommandResult.Command.Name == ReportCommand.Name;
                foreach (var error in errors) await context.Error.WriteLineAsync($"{Name}{(report ? " report" : "")}: {error}");
                return report ? ReportCommand.ExitUnknown : ExitBadSettings;
            }
        }
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = context.Out, Error = context.Error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, cancellationToken);
    }

    public static RootCommand Build(CommandContext context)
    {
        var root = new RootCommand(
            "Prometheus exporter for NATS JetStream: polls /jsz on every server's monitor port (HTTP mode) or asks the cluster " +
            "over one system-account connection, and serves /metrics, a status page (/), /api/v1/snapshot, /healthz and /readyz.\n\n" +
            "Every option can also be set by its environment variable or in appsettings.json (section \"NatsJsExporter\", key as in " +
            "the README); flags beat environment variables, which beat the file. Options of the other mode are rejected. A bad " +
            "setting stops the exporter with one line and exit code 2.");
        foreach (var option in CommandLineSettings.Create(OptionCatalog.All)) root.Options.Add(option);
        var legacyHealthcheck = new Option<bool>("--healthcheck") { Description = "Same as the healthcheck command (kept for container HEALTHCHECKs).", Hidden = true };
        root.Options.Add(legacyHealthcheck);
        root.SetAction((parsed, ct) => parsed.GetValue(legacyHealthcheck)
            ? HealthcheckAsync(parsed, context)
            : ServeCommand.RunAsync(parsed, context, ct));
        root.Subcommands.Add(ReportCommand.Create(context));
        root.Subcommands.Add(Healthcheck(context));

        root.Options.OfType<VersionOption>().Single().Action = new VersionAction();
        if (root.Options.OfType<HelpOption>().Single().Action is HelpAction help && Console.IsOutputRedirected) help.MaxWidth = 160;
        return root;
    }

    /// <summary>`natsjs-exporter healthcheck [options]`: the same settings as the exporter it checks.</summary>
    private static Command Healthcheck(CommandContext context)
    {
        var command = new Command("healthcheck",
            "Ask the running exporter's /healthz (TLS from the same web config; 401 counts as alive) and exit 0, or 1 when it does not answer. " +
            "For a container HEALTHCHECK (the image has no curl); reads the same settings as the exporter, so configure containers by environment.");
        foreach (var option in CommandLineSettings.Create(OptionCatalog.All)) command.Options.Add(option);
        command.SetAction((parsed, _) => HealthcheckAsync(parsed, context));
        return command;
    }

    private static async Task<int> HealthcheckAsync(ParseResult parsed, CommandContext context)
    {
        var (options, _) = await context.ResolveAsync(parsed, Name);
        return options is null ? ExitBadSettings : await HealthcheckCommand.RunAsync(options);
    }

    /// <summary>--version: the exporter's version, the commit it was built from and the .NET runtime.</summary>
    private sealed class VersionAction : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine($"{Name} {BuildInfo.Version} (commit {BuildInfo.Commit}, {BuildInfo.Runtime})");
            return 0;
        }
    }
}
