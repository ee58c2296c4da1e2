using System.Text;
using NatsJsExporter.Hosting;
using NatsJsExporter.Options;
using NatsJsExporter.Snapshot;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace NatsJsExporter.Views;

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
            var bytes = SnapshotDocument.Serialize(SnapshotDocument.From(snapshot, health, now, Poller.Version));
            await stdout.WriteAsync(Encoding.UTF8.GetString(bytes));
            await stdout.WriteLineAsync();
        }
        else
        {
            Render(snapshot, health, section, stdout, Console.IsOutputRedirected || !ReferenceEquals(stdout, Console.Out));
        }
        return health.ExitCode;
    }

    /// <summary>The text report: a status line (Nagios-style), the problems, then the tables.</summary>
    public static void Render(ClusterSnapshot snapshot, HealthReport health, string section, TextWriter output, bool plain)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = plain ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = plain ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = InteractionSupport.No,
        });
        if (plain) console.Profile.Width = 240;

        console.WriteLine(StatusLine(snapshot, health));
        if (health.Problems.Count > 0)
        {
            foreach (var p in health.Problems)
            {
                var style = p.Severity == Severity.Critical ? new Style(Color.Red, decoration: Decoration.Bold) : new Style(Color.Yellow);
                console.Write(new Text(p.Severity == Severity.Critical ? "  CRITICAL " : "  WARNING  ", style));
                console.Write(new Text(p.Message + "\n"));
            }
        }
        console.WriteLine();

        if (section is "all" or "jetstream") Write(console, OperatorTables.JetStreamSummary(snapshot));
        if (section is "all" or "meta")
        {
            var metas = OperatorTables.MetaGroups(snapshot);
            if (metas.Count == 0) console.WriteLine("RAFT Meta Group Information: no meta group reported");
            foreach (var m in metas) Write(console, m);
        }
        if (section is "all" or "streams") Write(console, OperatorTables.StreamReport(snapshot));
    }

    /// <summary>"OK: ...", "WARNING: ..." or "CRITICAL: ..." with the counts (the first line, for Nagios-style checks).</summary>
    public static string StatusLine(ClusterSnapshot s, HealthReport health)
    {
        string head = health.Status switch { "critical" => "CRITICAL", "warning" => "WARNING", _ => "OK" };
        var sb = new StringBuilder(head).Append(": ");
        if (health.Problems.Count == 0) sb.Append("all healthy; ");
        else
        {
            int crit = health.Count(Severity.Critical), warn = health.Count(Severity.Warning);
            if (crit > 0) sb.Append(crit).Append(" critical").Append(warn > 0 ? ", " : "; ");
            if (warn > 0) sb.Append(warn).Append(warn == 1 ? " warning; " : " warnings; ");
        }
        int consumers = s.Streams.Sum(x => x.Consumers.Count);
        var (answered, expected) = HealthCheck.Answered(s);
        sb.Append(answered).Append('/').Append(expected).Append(" servers answered, ")
          .Append(s.Streams.Count).Append(s.Streams.Count == 1 ? " stream, " : " streams, ")
          .Append(consumers).Append(consumers == 1 ? " consumer" : " consumers");
        return sb.ToString();
    }

    private static void Write(IAnsiConsole console, TableView t)
    {
        if (t.Rows.Count == 0)
        {
            console.WriteLine($"{t.Title}: {t.Empty}");
            console.WriteLine();
            return;
        }
        var table = new Table { Border = TableBorder.Rounded, Title = new TableTitle(t.Title.Replace("[", "[[").Replace("]", "]]")) };
        for (int i = 0; i < t.Headers.Count; i++)
        {
            var col = new TableColumn(new Text(t.Headers[i], new Style(decoration: Decoration.Bold)));
            if (t.Numeric.Contains(i)) col.RightAligned();
            if (t.Footer is { } f) col.Footer(new Text(f[i], new Style(decoration: Decoration.Bold)));
            table.AddColumn(col);
        }
        table.ShowFooters = t.Footer is not null;
        foreach (var row in t.Rows)
        {
            var style = row.Problem ? new Style(Color.Red) : Style.Plain;
            // Text, never markup: names with [brackets] print as they are.
            table.AddRow(row.Cells.Select(c => (IRenderable)new Text(c, style)));
        }
        console.Write(table);
        console.WriteLine();
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
