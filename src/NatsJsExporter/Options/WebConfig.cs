using System.Security.Authentication;
using System.Text.Json;

namespace NatsJsExporter.Options;

/// <summary>
/// TLS and HTTP basic auth for the exporter's own endpoints, read from <c>--web-config-file</c>: the
/// format of the Prometheus exporter-toolkit web configuration (the subset below), as JSON or as
/// simple YAML (nested "key: value" maps, comments, quoted or plain scalars; no lists or anchors):
/// <code>
/// tls_server_config:
///   cert_file: /etc/natsjs/tls.crt
///   key_file: /etc/natsjs/tls.key
///   min_version: TLS12
/// basic_auth_users:
///   prometheus: $2y$10$...   # bcrypt hash, e.g. htpasswd -nBC 10 "" | tr -d ':\n'
/// </code>
/// Files are checked at start; the file is read once (restart to change it).
/// </summary>
public sealed record WebConfig
{
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
    public SslProtocols MinVersion { get; init; } = SslProtocols.Tls12;
    /// <summary>user → bcrypt hash.</summary>
    public IReadOnlyDictionary<string, string> BasicAuthUsers { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
    public bool Tls => CertFile is not null;
    public bool BasicAuth => BasicAuthUsers.Count > 0;

    private static readonly string[] TopLevel = ["tls_server_config", "basic_auth_users", "http_server_config"];
    private static readonly string[] TlsKeys = ["cert_file", "key_file", "min_version"];

    /// <summary>Loads and validates; each problem is one message naming the file, the key and what is expected.</summary>
    public static WebConfig? Load(string path, string setting, List<string> errors)
    {
        int before = errors.Count;
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            errors.Add($"invalid {setting}: cannot read \"{path}\" ({ex.GetType().Name})");
            return null;
        }
        Dictionary<string, object> root;
        try
        {
            root = text.TrimStart().StartsWith('{') ? FromJson(text) : MiniYaml.Parse(text);
        }
        catch (FormatException ex)
        {
            errors.Add($"invalid {setting}: \"{path}\" is not a web config ({ex.Message})");
            return null;
        }
        catch (JsonException ex)
        {
            errors.Add($"invalid {setting}: \"{path}\" is not valid JSON ({ex.Message})");
            return null;
        }

        string prefix = $"invalid {setting}: \"{path}\":";
        foreach (var key in root.Keys.Where(k => !TopLevel.Contains(k)))
            errors.Add($"{prefix} unknown key \"{key}\" (known: {string.Join(", ", TopLevel)})");

        Dictionary<string, object> Map(string key)
        {
            if (!root.TryGetValue(key, out var v) || v is "" ) return new Dictionary<string, object>(StringComparer.Ordinal);
            if (v is Dictionary<string, object> d) return d;
            errors.Add($"{prefix} \"{key}\" must be a map of keys to values");
            return new Dictionary<string, object>(StringComparer.Ordinal);
        }

        var tls = Map("tls_server_config");
        foreach (var key in tls.Keys.Where(k => !TlsKeys.Contains(k)))
            errors.Add($"{prefix} tls_server_config.{key} is not supported (supported: {string.Join(", ", TlsKeys)})");
        string? Scalar(Dictionary<string, object> map, string section, string key)
        {
            if (!map.TryGetValue(key, out var v)) return null;
            if (v is string s && s.Length > 0) return s;
            errors.Add($"{prefix} {section}.{key} must be a non-empty string");
            return null;
        }
        var cert = Scalar(tls, "tls_server_config", "cert_file");
        var keyFile = Scalar(tls, "tls_server_config", "key_file");
        if ((cert is null) != (keyFile is null) && tls.Count > 0)
            errors.Add($"{prefix} tls_server_config needs both cert_file and key_file");
        var baseDir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string? Resolve(string? file, string key)
        {
            if (file is null) return null;
            var full = Path.IsPathRooted(file) ? file : Path.Combine(baseDir, file); // relative to the config file, like exporter-toolkit
            if (!File.Exists(full)) errors.Add($"{prefix} tls_server_config.{key} \"{full}\" does not exist");
            return full;
        }
        cert = Resolve(cert, "cert_file");
        keyFile = Resolve(keyFile, "key_file");
        var min = SslProtocols.Tls12;
        switch (Scalar(tls, "tls_server_config", "min_version"))
        {
            case null or "TLS12": break;
            case "TLS13": min = SslProtocols.Tls13; break;
            case var other: errors.Add($"{prefix} tls_server_config.min_version \"{other}\" is not TLS12 or TLS13"); break;
        }

        var users = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (user, value) in Map("basic_auth_users"))
        {
            if (value is string hash && IsBcrypt(hash)) users[user] = hash;
            else errors.Add($"{prefix} basic_auth_users.{user} is not a bcrypt hash ($2a$, $2b$ or $2y$...); create one with: htpasswd -nBC 10 \"\" | tr -d ':\\n'");
        }
        if (root.ContainsKey("http_server_config") && Map("http_server_config").Count > 0)
            errors.Add($"{prefix} http_server_config is not supported");

        if (errors.Count > before) return null;
        return new WebConfig { CertFile = cert, KeyFile = keyFile, MinVersion = min, BasicAuthUsers = users };
    }

    private static bool IsBcrypt(string s) =>
        s.Length == 60 && s[0] == '$' && s[1] == '2' && s[2] is 'a' or 'b' or 'y' && s[3] == '$'
        && char.IsAsciiDigit(s[4]) && char.IsAsciiDigit(s[5]) && s[6] == '$';

    private static Dictionary<string, object> FromJson(string text)
    {
        using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new FormatException("the top level must be an object");
        return (Dictionary<string, object>)Convert(doc.RootElement);

        static object Convert(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => Convert(p.Value), StringComparer.Ordinal),
            JsonValueKind.String => e.GetString()!,
            JsonValueKind.Null => "",
            _ => e.GetRawText(),
        };
    }
}

/// <summary>
/// The YAML subset a web config needs: nested maps by indentation, "key: value" with plain,
/// 'single' or "double" quoted scalars, # comments, blank lines and a leading "---".
/// Anything else (lists, flow style, anchors, multi-line scalars) is rejected with its line number.
/// </summary>
public static class MiniYaml
{
    public static Dictionary<string, object> Parse(string text)
    {
        var root = new Dictionary<string, object>(StringComparer.Ordinal);
        var stack = new List<(int Indent, Dictionary<string, object> Map)> { (-1, root) };
        (int Indent, Dictionary<string, object> Parent, string Key)? open = null; // a "key:" awaiting a nested map
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int lineNo = i + 1;
            var raw = StripComment(lines[i], lineNo).TrimEnd();
            if (raw.Trim().Length == 0 || (raw == "---" && root.Count == 0)) continue;
            if (raw.Contains('\t')) throw new FormatException($"line {lineNo}: tabs are not allowed for indentation");
            int indent = raw.Length - raw.TrimStart().Length;
            var line = raw.Trim();
            if (line.StartsWith('-') || line.StartsWith('[') || line.StartsWith('{') || line.StartsWith('&') || line.StartsWith('*') || line.StartsWith('|') || line.StartsWith('>'))
                throw new FormatException($"line {lineNo}: only \"key: value\" maps are supported");

            if (open is { } o)
            {
                var child = new Dictionary<string, object>(StringComparer.Ordinal);
                if (indent > o.Indent)
                {
                    o.Parent[o.Key] = child;
                    stack.Add((indent, child));
                }
                else
                {
                    o.Parent[o.Key] = ""; // "key:" with nothing under it
                }
                open = null;
            }
            while (stack.Count > 1 && indent < stack[^1].Indent) stack.RemoveAt(stack.Count - 1);
            if (indent != stack[^1].Indent && !(stack.Count == 1 && indent == 0))
                throw new FormatException($"line {lineNo}: unexpected indentation");
            if (stack.Count == 1 && indent != 0) throw new FormatException($"line {lineNo}: unexpected indentation");
            var map = stack[^1].Map;

            int colon = FindColon(line);
            if (colon < 0) throw new FormatException($"line {lineNo}: expected \"key: value\"");
            var key = Unquote(line[..colon].Trim(), lineNo);
            var value = line[(colon + 1)..].Trim();
            if (map.ContainsKey(key)) throw new FormatException($"line {lineNo}: key \"{key}\" appears twice");
            if (value.Length == 0)
            {
                open = (indent, map, key);
                map[key] = "";
            }
            else
            {
                if (value[0] is '[' or '{' or '&' or '*' or '|' or '>') throw new FormatException($"line {lineNo}: only plain or quoted scalar values are supported");
                map[key] = Unquote(value, lineNo);
            }
        }
        return root;
    }

    private static int FindColon(string line)
    {
        char quote = '\0';
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quote != '\0') { if (c == quote) quote = '\0'; continue; }
            if (c is '"' or '\'') { quote = c; continue; }
            if (c == ':' && (i + 1 == line.Length || line[i + 1] == ' ')) return i;
        }
        return -1;
    }

    private static string StripComment(string line, int lineNo)
    {
        char quote = '\0';
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quote != '\0') { if (c == quote) quote = '\0'; continue; }
            if (c is '"' or '\'') { quote = c; continue; }
            if (c == '#' && (i == 0 || line[i - 1] == ' ')) return line[..i];
        }
        if (quote != '\0') throw new FormatException($"line {lineNo}: unterminated quote");
        return line;
    }

    private static string Unquote(string s, int lineNo)
    {
        if (s.Length >= 2 && s[0] == '\'' && s[^1] == '\'') return s[1..^1].Replace("''", "'", StringComparison.Ordinal);
        if (s.Length >= 2 && s[0] == '"' && s[^1] == '"')
        {
            var inner = s[1..^1];
            if (inner.Contains('\\')) throw new FormatException($"line {lineNo}: escapes in double-quoted strings are not supported; use single quotes");
            return inner;
        }
        if (s[0] is '"' or '\'') throw new FormatException($"line {lineNo}: unterminated quote");
        return s;
    }
}
