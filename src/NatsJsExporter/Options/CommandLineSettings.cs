using System.CommandLine;
using System.CommandLine.Parsing;

namespace NatsJsExporter.Options;

/// <summary>
/// The settings as System.CommandLine options: a value option per setting (its text goes to the
/// configuration, validated there like any other source), a switch for each boolean
/// (<c>--consumers</c>, <c>--consumers=false</c>). Parse errors become one line each.
/// </summary>
public static class CommandLineSettings
{
    /// <summary>Options for these settings; <paramref name="hidden"/> ones are accepted but not listed by --help.</summary>
    public static IEnumerable<Option> Create(IEnumerable<OptionSpec> specs, Func<OptionSpec, bool>? hidden = null) =>
        specs.Select(spec => Create(spec, hidden?.Invoke(spec) ?? false));

    private static Option Create(OptionSpec spec, bool hidden)
    {
        var description = $"{spec.Help} [env: {spec.Env}]{(spec.Default is null ? "" : $" [default: {spec.Default}]")} [mode: {spec.ModeText}]";
        if (spec.IsSwitch)
        {
            return new Option<bool>(spec.Name)
            {
                Description = description,
                Arity = ArgumentArity.ZeroOrOne,
                Hidden = hidden,
            };
        }
        return new Option<string>(spec.Name)
        {
            Description = description,
            HelpName = spec.Flag switch { "interval" or "timeout" or "server-drop-after" => "duration", "monitor-urls" or "nats-url" => "urls", "listen" => "host:port", _ => "value" },
            Hidden = hidden,
        };
    }

    /// <summary>The settings given on this command line, by flag name without dashes; a switch given alone is "true".</summary>
    public static Dictionary<string, string> Given(ParseResult result)
    {
        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var option in result.CommandResult.Children.OfType<OptionResult>())
        {
            if (option.Implicit || OptionCatalog.All.FirstOrDefault(s => s.Name == option.Option.Name) is not { } spec) continue;
            given[spec.Flag] = spec.IsSwitch
                ? (option.Tokens.Count == 0 ? "true" : option.Tokens[0].Value)
                : option.Tokens.Count > 0 ? option.Tokens[^1].Value : "";
        }
        return given;
    }

    /// <summary>One line per parse error: unknown flags, stray arguments, flags without a value.</summary>
    public static List<string> Errors(ParseResult result)
    {
        var lines = new List<string>();
        var unmatched = result.UnmatchedTokens.ToHashSet(StringComparer.Ordinal);
        Token? previous = null;
        bool previousUnknown = false;
        foreach (var token in result.Tokens)
        {
            bool isUnmatched = unmatched.Contains(token.Value);
            if (isUnmatched)
            {
                if (token.Value.StartsWith('-'))
                {
                    lines.Add($"unknown flag {token.Value.Split('=')[0]} (see --help)");
                    previousUnknown = true;
                    previous = token;
                    continue;
                }
                if (previous is { Type: TokenType.Option } && OptionCatalog.All.FirstOrDefault(s => s.Name == previous.Value) is { IsSwitch: true } sw)
                    lines.Add($"invalid {sw.Name}: \"{token.Value}\" is not true or false");
                else if (!previousUnknown)
                    lines.Add($"unexpected argument \"{token.Value}\"; settings are given as --name value (see --help)");
            }
            previousUnknown = false;
            previous = token;
        }
        foreach (var error in result.Errors)
        {
            if (error.SymbolResult is OptionResult { Tokens.Count: 0 } option && !option.Implicit && option.Option is Option<string>)
                lines.Add($"{option.Option.Name} needs a value (see --help)");
            else if (!error.Message.StartsWith("Unrecognized command or argument", StringComparison.Ordinal) || lines.Count == 0)
                lines.Add(error.Message.ReplaceLineEndings(" ").Replace("\t", "", StringComparison.Ordinal));
        }
        return lines.Distinct().ToList();
    }
}
