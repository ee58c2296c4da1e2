using System.Text;
using NatsJsExporter.Snapshot;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace NatsJsExporter.Views;

/// <summary>The text form of `natsjs-exporter report`: status line, problems, then the status page's tables.</summary>
public static class ReportText
{
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
        // Plain output goes to files and pipes: one problem per line however long (no terminal to wrap for).
        if (plain) console.Profile.Width = 4096;

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

        if (section is "all" or "jetstream") Write(console, OperatorTables.JetStreamSummary(snapshot, health));
        if (section is "all" or "meta")
        {
            var metas = OperatorTables.MetaGroups(snapshot, health);
            if (metas.Count == 0) console.WriteLine("RAFT Meta Group Information: no meta group reported");
            foreach (var m in metas) Write(console, m);
            foreach (var t in RaftTables.MetaState(snapshot, health)) Write(console, t);
        }
        if (section is "all" && HealthzTable.Build(snapshot) is { } healthz) Write(console, healthz);
        if (section is "all" or "streams") Write(console, OperatorTables.StreamReport(snapshot, health));
        if (section is "all" or "streams" && snapshot.Streams.Any(x => x.Replicas.Count > 0)) Write(console, ReplicaTables.All(snapshot, health));
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
}
