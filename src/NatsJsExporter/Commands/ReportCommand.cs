using System.CommandLine;
using System.Text;
using NatsJsExporter.Hosting;
using NatsJsExporter.Options;
using NatsJsExporter.Views;

namespace NatsJsExporter.Commands;

/// <summary>
/// `natsjs-exporter report [all|jetstream|streams|meta] [--json] [source options]`: polls every server
/// once with the exporter's own source and poller, prints the status page's tables (or the
/// /api/v1/snapshot JSON) and exits 0 healthy, 1 warnings, 2 critical, 3 when it cannot run.
/// </summary>
public static class ReportCommand
{
    public const string Name = "report";
    public const int ExitUnknown = 3;
    private static readonly string[] Sections = ["all", "jetstream", "streams", "meta"];

    /// <summary>Runs `natsjs-exporter report ARGS` (the arguments after "report").</summary>
    public static Task<int> RunAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> environment, string workingDirectory,
        TextWriter? stdout = null, TextWriter? stderr = null, CancellationToken cancellationToken = default) =>
        ExporterCommandLine.RunAsync([Name, .. args], new CommandContext(environment, workingDirectory, stdout ?? Console.Out, stderr ?? Console.Error), cancellationToken);

    public static Command Create(CommandContext context)
    {
        var section = new Argument<string>("section")
        {
            Description = "jetstream: the JetStream summary of `nats server report jetstream`; meta: the RAFT meta group table; " +
                          "streams: the stream report of `nats stream report`; all (default): all of them.",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => "all",
        };
        section.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && !Sections.Contains(result.Tokens[0].Value))
                result.AddError($"unknown section \"{result.Tokens[0].Value}\"; use one of {string.Join(", ", Sections)} (see report --help)");
        });
        var json = new Option<bool>("--json") { Description = "Print the /api/v1/snapshot document instead of tables." };
        var command = new Command(Name,
            "natsjs-exporter report [all|jetstream|streams|meta] [--json] [options]: polls every server once and prints the problems " +
            "and the tables of the status page.\n" +
            "Exit code: 0 healthy, 1 warnings only, 2 at least one critical problem, 3 the report could not run (including a bad option).\n" +
            "Takes the exporter's source options, environment variables and appsettings.json; the serving-only ones " +
            "(--listen, --log-*, --web-config-file) are accepted and not used.")
        {
            section,
            json,
        };
        foreach (var option in CommandLineSettings.Create(OptionCatalog.All, spec => spec.ServeOnly)) command.Options.Add(option);
        command.SetAction(async (parsed, ct) =>
        {
            var (options, _) = await context.ResolveAsync(parsed, $"{ExporterCommandLine.Name} {Name}");
            return options is null
                ? ExitUnknown
                : await RunAsync(options, parsed.GetValue(section) ?? "all", parsed.GetValue(json), context.Out, context.Error, ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(ExporterOptions options, string section, bool json, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        // The exporter's own wiring (source, poller, store), polled once.
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddJszPolling(options);
        await using var provider = services.BuildServiceProvider();
        var poller = provider.GetRequiredService<Poller>();
        PublishedSnapshot published;
        try
        {
            published = await poller.PollOnceAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync($"natsjs-exporter report: the poll failed: {ex.Message}");
            return ExitUnknown;
        }

        var snapshot = published.Snapshot;
        var now = DateTimeOffset.UtcNow;
        var health = HealthCheck.Evaluate(snapshot, now);
        if (json)
        {
            var bytes = SnapshotDocument.Serialize(SnapshotDocument.From(snapshot, health, now, BuildInfo.Version));
            await stdout.WriteAsync(Encoding.UTF8.GetString(bytes));
            await stdout.WriteLineAsync();
        }
        else
        {
            ReportText.Render(snapshot, health, section, stdout, Console.IsOutputRedirected || !ReferenceEquals(stdout, Console.Out));
        }
        return health.ExitCode;
    }
}
