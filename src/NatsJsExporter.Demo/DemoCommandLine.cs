using System.CommandLine;
using System.CommandLine.Parsing;

namespace NatsJsExporter.Demo;

/// <summary>What the demo was asked to do (one subcommand and its options).</summary>
internal sealed record Options(string Command, string Url, string? User, string? Password, int Rate, int DurationSeconds, int? Replicas);

/// <summary>
/// natsjs-demo's command line (System.CommandLine):
///   natsjs-demo setup   --url nats://127.0.0.1:4222 --user app --password app [--replicas N]
///   natsjs-demo publish --url nats://127.0.0.1:4222 --user app --password app [--rate 20] [--duration SECONDS]
/// </summary>
internal static class DemoCommandLine
{
    public static RootCommand Build(Func<Options, Task<int>> run)
    {
        var root = new RootCommand("Creates demo JetStream streams and consumers and publishes light traffic, so the exporter has something to report.");
        root.Add(Setup(run));
        root.Add(Publish(run));
        return root;
    }

    private static Command Setup(Func<Options, Task<int>> run)
    {
        var (url, user, password) = Connection();
        var replicas = new Option<int?>("--replicas")
        {
            Description = "Replicas of the replicated streams (default: R3 when the server reports >= 3 cluster nodes, else R1).",
            HelpName = "N",
            CustomParser = r => Integer(r, min: 1),
        };
        var command = new Command("setup",
            "Idempotently creates streams ORDERS, EVENTS, ORDERS_ARCHIVE, ORDERS_MIRROR and the durable pull consumers PROCESSOR and AUDIT on ORDERS.")
        {
            url, user, password, replicas,
        };
        command.Validators.Add(c => PasswordWithUser(c, user, password));
        command.SetAction(p => run(new Options("setup", p.GetValue(url)!, p.GetValue(user), p.GetValue(password), 0, 0, p.GetValue(replicas))));
        return command;
    }

    private static Command Publish(Func<Options, Task<int>> run)
    {
        var (url, user, password) = Connection();
        var rate = new Option<int>("--rate")
        {
            Description = "Messages per second over orders.new and events.click.", DefaultValueFactory = _ => 20, HelpName = "MSGS_PER_SEC",
            CustomParser = r => Integer(r, min: 1) ?? 20,
        };
        var duration = new Option<int>("--duration")
        {
            Description = "Stop after this many seconds (0: until Ctrl-C).", DefaultValueFactory = _ => 0, HelpName = "SECONDS",
            CustomParser = r => Integer(r, min: 0) ?? 0,
        };
        var command = new Command("publish",
            "Publishes to orders.new and events.click until Ctrl-C (or --duration); PROCESSOR fetches and acks part of the traffic, AUDIT is never read so it keeps pending messages.")
        {
            url, user, password, rate, duration,
        };
        command.Validators.Add(c => PasswordWithUser(c, user, password));
        command.SetAction(p => run(new Options("publish", p.GetValue(url)!, p.GetValue(user), p.GetValue(password), p.GetValue(rate), p.GetValue(duration), null)));
        return command;
    }

    private static (Option<string> Url, Option<string?> User, Option<string?> Password) Connection() =>
    (
        new Option<string>("--url") { Description = "NATS server URL(s), comma separated.", DefaultValueFactory = _ => "nats://127.0.0.1:4222", HelpName = "URL" },
        new Option<string?>("--user") { Description = "NATS user (needs --password).", HelpName = "U" },
        new Option<string?>("--password") { Description = "NATS password.", HelpName = "P" }
    );

    /// <summary>The option's value as an integer of at least <paramref name="min"/>; else one error naming the option.</summary>
    private static int? Integer(ArgumentResult r, int min)
    {
        if (r.Tokens.Count == 0) return null;
        var text = r.Tokens[^1].Value;
        if (int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= min) return n;
        var name = (r.Parent as OptionResult)?.Option.Name ?? "value";
        r.AddError($"{name} must be a {(min > 0 ? "positive" : "non-negative")} integer, got '{text}'");
        return null;
    }

    private static void PasswordWithUser(CommandResult c, Option<string?> user, Option<string?> password)
    {
        if (c.GetValue(user) is not null && c.GetValue(password) is null) c.AddError("--user needs --password");
    }
}
