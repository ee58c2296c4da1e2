using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace NatsJsExporter.Benchmarks;

/// <summary>
/// The harness's command line (System.CommandLine): <c>cycle</c>, <c>steps</c> and <c>jsz</c>; any
/// other arguments (e.g. <c>--filter '*Render*'</c>) go to BenchmarkDotNet unchanged.
/// </summary>
public static class BenchCommandLine
{
    public static RootCommand Build(
        Func<HarnessOptions, Task<int>> cycle,
        Func<int, int, int?, Task<int>> steps,
        Func<int, int, string, Task<int>> jsz,
        Func<Task<int>> benchmarkDotNet,
        Func<OversizeOptions, Task<int>>? oversize = null)
    {
        var root = new RootCommand(
            "NatsJsExporter benchmarks. Without a subcommand, the arguments go to BenchmarkDotNet (e.g. --filter '*Render*', --list flat).")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        root.SetAction(_ => benchmarkDotNet());

        var defaults = new HarnessOptions();
        {
            var (streams, accounts) = Workload();
            var cycles = Int("--cycles", "Polls to measure CPU over.", defaults.Cycles, 1);
            var interval = Seconds("--interval", "The exporter's --interval in seconds (default: from the workload size); its --timeout follows.", null);
            var scrapeSeconds = Seconds("--scrape-seconds", "How long the /metrics latency phase scrapes.", defaults.ScrapeTime.TotalSeconds);
            var scrapers = Int("--scrapers", "Concurrent /metrics scrapers in the latency phase.", defaults.Scrapers, 1);
            var exporter = new Option<string?>("--exporter")
            {
                Description = "The exporter to run: a natsjs-exporter.dll or a native binary (default: src/NatsJsExporter/bin/Release/net10.0/natsjs-exporter.dll).",
                HelpName = "PATH",
            };
            var gc = new Option<string>("--gc")
            {
                Description = "The exporter's garbage collector: workstation (as the Dockerfile runs it), server, or default (the runtimeconfig's).",
                HelpName = "workstation|server|default",
                DefaultValueFactory = _ => defaults.Gc,
            };
            gc.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<string>() is not ("workstation" or "server" or "default"))
                    r.AddError($"--gc must be workstation, server or default, got '{r.GetValueOrDefault<string>()}'");
            });
            var exporterEnv = new Option<string[]>("--exporter-env")
            {
                Description = "An environment variable for the exporter only, KEY=VALUE (repeatable), e.g. DOTNET_GCHeapHardLimit=0x1E000000.",
                HelpName = "KEY=VALUE",
                CustomParser = r =>
                {
                    foreach (var t in r.Tokens)
                        if (!t.Value.Contains('=', StringComparison.Ordinal) || t.Value.StartsWith('='))
                            r.AddError($"--exporter-env takes KEY=VALUE, got '{t.Value}'");
                    return r.Tokens.Select(t => t.Value).ToArray();
                },
            };
            var consumers = Int("--consumers", "R3 durable consumers per stream, 0 to 3.", defaults.Consumers, 0);
            consumers.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int>() > 3) r.AddError($"--consumers must be 0 to 3, got {r.GetValueOrDefault<int>()}");
            });
            var version = new Option<string>("--server-version")
            {
                Description = "The nats-server version the fake servers' /varz report: 2.10+ makes the exporter also ask /raftz (the meta group); 2.9.10 gives the figures before it.",
                HelpName = "X.Y.Z",
                DefaultValueFactory = _ => defaults.ServerVersion,
            };
            version.Validators.Add(r =>
            {
                if (NatsJsExporter.Sources.ServerVersion.Parse(r.GetValueOrDefault<string>()) is null)
                    r.AddError($"--server-version takes a version such as 2.10.27, got '{r.GetValueOrDefault<string>()}'");
            });
            var command = new Command("cycle",
                "Whole-process benchmark: serves the synthetic servers' /jsz, /varz, /healthz and /raftz on 127.0.0.1, runs the real exporter against them, prints poll time, CPU per poll vs System.Text.Json, RSS, exposition size and /metrics latency.")
            {
                streams, accounts, cycles, interval, scrapeSeconds, scrapers, exporter, gc, exporterEnv, version, consumers,
            };
            command.SetAction(p => cycle(new HarnessOptions
            {
                Streams = p.GetValue(streams),
                Accounts = p.GetValue(accounts),
                ServerVersion = p.GetValue(version)!,
                Consumers = p.GetValue(consumers),
                Cycles = p.GetValue(cycles),
                Interval = p.GetValue(interval) is { } i ? TimeSpan.FromSeconds(i) : null,
                ScrapeTime = TimeSpan.FromSeconds(p.GetValue(scrapeSeconds) ?? defaults.ScrapeTime.TotalSeconds),
                Scrapers = p.GetValue(scrapers),
                Exporter = p.GetValue(exporter),
                Gc = p.GetValue(gc)!,
                ExporterEnvironment = (p.GetValue(exporterEnv) ?? []).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]),
            }));
            root.Add(command);
        }
        {
            var (streams, accounts) = Workload();
            var reps = new Option<int?>("--reps") { Description = "Repetitions (default: 20, 5 from 10,000 streams).", HelpName = "N", CustomParser = r => IntValue(r, 1) };
            var command = new Command("steps", "Quick in-process parse / merge / render CPU timings of the synthetic workload.") { streams, accounts, reps };
            command.SetAction(p => steps(p.GetValue(streams), p.GetValue(accounts), p.GetValue(reps)));
            root.Add(command);
        }
        {
            var (streams, accounts) = Workload();
            var dir = new Argument<string>("DIR") { Description = "Folder to write n1.json, n2.json, n3.json into.", DefaultValueFactory = _ => "." };
            var command = new Command("jsz", "Writes the generated /jsz answers (one file per server) to DIR.") { streams, accounts, dir };
            command.SetAction(p => jsz(p.GetValue(streams), p.GetValue(accounts), p.GetValue(dir)!));
            root.Add(command);
        }
        if (oversize is not null)
        {
            var d = new OversizeOptions();
            var size = Int("--size-mb", "Size of the misbehaving /jsz answer, MiB.", d.SizeMiB, 1);
            var cap = Int("--cap-mb", "The exporter's --max-response-size, MiB.", d.CapMiB, 1);
            var polls = Int("--polls", "Polls against the oversized answer.", d.Polls, 1);
            var gzip = new Option<bool>("--gzip") { Description = "Send the answer gzip-encoded (small on the wire, inflating past the cap)." };
            var exporter = new Option<string?>("--exporter") { Description = "The exporter's natsjs-exporter.dll (default: the Release build).", HelpName = "PATH" };
            var command = new Command("oversize",
                "A misbehaving target: a /jsz answer far beyond --max-response-size (chunked, no length); prints the exporter's idle and peak RSS against idle + 2 x cap.")
            {
                size, cap, polls, gzip, exporter,
            };
            command.SetAction(p => oversize(new OversizeOptions
            {
                SizeMiB = p.GetValue(size), CapMiB = p.GetValue(cap), Polls = p.GetValue(polls), Gzip = p.GetValue(gzip), Exporter = p.GetValue(exporter),
            }));
            root.Add(command);
        }
        return root;
    }

    /// <summary>Parses and runs; a usage mistake is one line per error on stderr and exit code 2.</summary>
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) Console.Error.WriteLine($"bench: {error.Message}");
            Console.Error.WriteLine("Run with --help (or 'cycle --help', 'steps --help', 'jsz --help') for usage.");
            return 2;
        }
        return await parsed.InvokeAsync();
    }

    private static (Option<int> Streams, Option<int> Accounts) Workload() =>
        (Int("--streams", "Streams in the synthetic cluster (3 servers, R3, 3 consumers each).", 1000, 1),
         Int("--accounts", "Accounts the streams are spread over.", 1, 1));

    private static Option<int> Int(string name, string description, int defaultValue, int min) => new(name)
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r => IntValue(r, min) ?? defaultValue,
    };

    private static Option<double?> Seconds(string name, string description, double? defaultValue) => new(name)
    {
        Description = description,
        HelpName = "SECONDS",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            if (r.Tokens.Count == 0) return defaultValue;
            var text = r.Tokens[^1].Value;
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0) return s;
            r.AddError($"{name} takes a positive number of seconds, got '{text}'");
            return defaultValue;
        },
    };

    private static int? IntValue(ArgumentResult r, int min)
    {
        if (r.Tokens.Count == 0) return null;
        var text = r.Tokens[^1].Value;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min) return n;
        r.AddError($"{(r.Parent as OptionResult)?.Option.Name ?? "value"} must be an integer of at least {min}, got '{text}'");
        return null;
    }
}
