using System.Text;
using NatsJsExporter.Hosting;
using NatsJsExporter.Options;
using NatsJsExporter.Snapshot;
using NatsJsExporter.Views;

namespace NatsJsExporter.Commands;

/// <summary>
/// `natsjs-exporter report [jetstream|streams|meta] [--json] [source flags]`: polls every server
/// once with the exporter's own source and poller, prints the status page's tables (or the
/// /api/v1/snapshot JSON) and exits 0 healthy, 1 warnings, 2 critical, 3 when it cannot run.
/// </summary>
public static class ReportCommand
{
    public const int ExitUnknown = 3;
    private static readonly string[] Sections = ["all", "jetstream", "streams", "meta"];

    public static async Task<int> RunAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> environment, string workingDirectory,
        TextWriter? stdout = null, TextWriter? stderr = null, CancellationToken cancellationToken = default)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        string section = "all";
        bool json = false;
        var rest = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a is "-h" or "--help" or "help")
            {
                await stdout.WriteAsync(Usage());
                return 0;
            }
            if (a == "--json") json = true;
            else if (i == 0 && !a.StartsWith('-'))
            {
                if (!Sections.Contains(a))
                {
                    await stderr.WriteLineAsync($"natsjs-exporter report: unknown section \"{a}\"; use one of {string.Join(", ", Sections)} (see report --help)");
                    return ExitUnknown;
                }
                section = a;
            }
            else rest.Add(a);
        }

        var load = OptionsLoader.Load(rest, environment, workingDirectory);
        if (load.Options is not { } options)
        {
            foreach (var error in load.Errors) await stderr.WriteLineAsync($"natsjs-exporter report: {error}");
            return ExitUnknown;
        }

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

    public static string Usage()
    {
        var sb = new StringBuilder();
        sb.AppendLine("Usage: natsjs-exporter report [all|jetstream|streams|meta] [--json] --monitor-urls URL,... [source flags]");
        sb.AppendLine();
        sb.AppendLine("Polls every server once and prints the problems and the tables of the status page:");
        sb.AppendLine("  jetstream  the JetStream summary of `nats server report jetstream`");
        sb.AppendLine("  meta       the RAFT meta group table");
        sb.AppendLine("  streams    the stream report of `nats stream report`");
        sb.AppendLine("  (default: all of them)");
        sb.AppendLine("  --json     print the /api/v1/snapshot document instead of tables");
        sb.AppendLine();
        sb.AppendLine("Exit code: 0 healthy, 1 warnings only, 2 at least one critical problem, 3 the report could not run.");
        sb.AppendLine("Source flags are the exporter's (--listen and --interval are accepted and not used):");
        sb.AppendLine();
        sb.Append(OptionsLoader.Usage());
        return sb.ToString();
    }
}
