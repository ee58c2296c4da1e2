using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace NatsJsExporter.Options;

/// <summary>The toolkit's <c>client_auth_type</c>: whether a client certificate is asked for, required, and checked against <c>client_ca_file</c>.</summary>
public enum ClientAuthType
{
    NoClientCert,
    RequestClientCert,
    RequireAnyClientCert,
    VerifyClientCertIfGiven,
    RequireAndVerifyClientCert,
}

/// <summary>
/// TLS, client certificates, response headers and HTTP basic auth for the exporter's own endpoints,
/// read from <c>--web-config-file</c> in the Prometheus exporter-toolkit format (YAML; JSON is YAML too):
/// <code>
/// tls_server_config:
///   cert_file: /etc/natsjs/tls.crt        # relative paths are relative to this file
///   key_file: /etc/natsjs/tls.key
///   client_auth_type: RequireAndVerifyClientCert
///   client_ca_file: /etc/natsjs/clients-ca.crt
///   min_version: TLS12
/// http_server_config:
///   headers: { X-Frame-Options: deny }
/// basic_auth_users:
///   prometheus: $2y$10$...   # bcrypt hash, e.g. htpasswd -nBC 10 "" | tr -d ':\n'
/// </code>
/// Keys of the toolkit the exporter cannot honour are an error naming them, as are unknown keys.
/// Files are checked at start; the file is read once (restart to change it).
/// </summary>
public sealed record WebConfig
{
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
    public SslProtocols MinVersion { get; init; } = SslProtocols.Tls12;
    public SslProtocols MaxVersion { get; init; } = SslProtocols.Tls13;
    /// <summary>TLS 1.2 cipher suites (TLS 1.3 suites stay the defaults, as in Go); empty = the platform's defaults.</summary>
    public IReadOnlyList<TlsCipherSuite> CipherSuites { get; init; } = [];
    public ClientAuthType ClientAuth { get; init; } = ClientAuthType.NoClientCert;
    /// <summary>The only CA client certificates are verified against (VerifyClientCertIfGiven, RequireAndVerifyClientCert).</summary>
    public string? ClientCaFile { get; init; }
    public bool Http2 { get; init; } = true;
    /// <summary>Extra response headers (the toolkit's allowed set), on every response.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
    /// <summary>user → bcrypt hash.</summary>
    public IReadOnlyDictionary<string, string> BasicAuthUsers { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
    public bool Tls => CertFile is not null;
    public bool BasicAuth => BasicAuthUsers.Count > 0;
    /// <summary>A connection without a client certificate is refused during the TLS handshake.</summary>
    public bool RequiresClientCertificate => ClientAuth is ClientAuthType.RequireAnyClientCert or ClientAuthType.RequireAndVerifyClientCert;

    private static readonly string[] TopLevel = ["tls_server_config", "basic_auth_users", "http_server_config"];
    private static readonly string[] TlsKeys = ["cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version", "max_version", "cipher_suites"];
    private static readonly string[] HttpKeys = ["http2", "headers"];
    /// <summary>Keys of the toolkit that the exporter does not honour, and what to do instead.</summary>
    private static readonly Dictionary<string, string> Unsupported = new(StringComparer.Ordinal)
    {
        ["rate_limit"] = "limit the request rate in a reverse proxy",
        ["tls_server_config.cert"] = "put the PEM in a file and use cert_file",
        ["tls_server_config.key"] = "put the PEM in a file and use key_file",
        ["tls_server_config.client_ca"] = "put the PEM in a file and use client_ca_file",
        ["tls_server_config.client_allowed_sans"] = "give these clients certificates from their own CA in client_ca_file",
        ["tls_server_config.curve_preferences"] = "remove it; the platform's curves are used",
        ["tls_server_config.prefer_server_cipher_suites"] = "remove it; Go ignores it too since 1.18",
    };
    /// <summary>The headers the toolkit lets a web config set, and their allowed values (none listed = any).</summary>
    private static readonly Dictionary<string, string[]> AllowedHeaders = new(StringComparer.Ordinal)
    {
        ["Content-Security-Policy"] = [],
        ["Strict-Transport-Security"] = [],
        ["X-Content-Type-Options"] = ["nosniff"],
        ["X-Frame-Options"] = ["deny", "sameorigin"],
        ["X-XSS-Protection"] = [],
    };

    // The file's shape, as YamlDotNet binds it; keys were checked against the lists above first.
    private sealed class FileModel
    {
        public TlsModel? TlsServerConfig { get; set; }
        public HttpModel? HttpServerConfig { get; set; }
        public Dictionary<string, string?>? BasicAuthUsers { get; set; }
    }

    private sealed class TlsModel
    {
        public string? CertFile { get; set; }
        public string? KeyFile { get; set; }
        public string? ClientAuthType { get; set; }
        public string? ClientCaFile { get; set; }
        public string? MinVersion { get; set; }
        public string? MaxVersion { get; set; }
        public List<string>? CipherSuites { get; set; }
    }

    private sealed class HttpModel
    {
        public bool? Http2 { get; set; }
        public Dictionary<string, string?>? Headers { get; set; }
    }

    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .WithDuplicateKeyChecking()
        .Build();

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
        string prefix = $"invalid {setting}: \"{path}\":";
        FileModel file;
        try
        {
            if (!CheckKeys(text, prefix, errors)) return null;
            file = Yaml.Deserialize<FileModel?>(text) ?? new FileModel();
        }
        catch (YamlException ex)
        {
            errors.Add($"invalid {setting}: \"{path}\" is not a web config (line {ex.Start.Line}: {Describe(ex)})");
            return null;
        }

        var baseDir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string? Resolve(string? name, string key)
        {
            if (name is null) return null;
            var full = Path.IsPathRooted(name) ? name : Path.Combine(baseDir, name); // relative to the config file, like exporter-toolkit
            if (!File.Exists(full)) errors.Add($"{prefix} tls_server_config.{key} \"{full}\" does not exist");
            return full;
        }

        var tls = file.TlsServerConfig ?? new TlsModel();
        bool tlsGiven = file.TlsServerConfig is not null;
        var cert = Resolve(NonEmpty(tls.CertFile), "cert_file");
        var keyFile = Resolve(NonEmpty(tls.KeyFile), "key_file");

        var min = Version(tls.MinVersion, "min_version", SslProtocols.Tls12);
        var max = Version(tls.MaxVersion, "max_version", SslProtocols.Tls13);
        if (min > max) errors.Add($"{prefix} tls_server_config.max_version {tls.MaxVersion} is lower than min_version {tls.MinVersion ?? "TLS12"}");
        SslProtocols Version(string? value, string key, SslProtocols fallback)
        {
            switch (value)
            {
                case null: return fallback;
                case "TLS12": return SslProtocols.Tls12;
                case "TLS13": return SslProtocols.Tls13;
                default:
                    errors.Add($"{prefix} tls_server_config.{key} \"{value}\" is not TLS12 or TLS13");
                    return fallback;
            }
        }

        var suites = new List<TlsCipherSuite>();
        foreach (var name in tls.CipherSuites ?? [])
        {
            if (name is not null && name.StartsWith("TLS_", StringComparison.Ordinal) && Enum.TryParse<TlsCipherSuite>(name, ignoreCase: false, out var suite) && Enum.IsDefined(suite))
                suites.Add(suite);
            else
                errors.Add($"{prefix} tls_server_config.cipher_suites: \"{name}\" is not a cipher suite name, e.g. TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
        }
        if (suites.Count > 0 && OperatingSystem.IsWindows())
            errors.Add($"{prefix} tls_server_config.cipher_suites cannot be set on Windows (the platform picks them); remove it");

        var clientAuth = tls.ClientAuthType switch
        {
            null or "NoClientCert" => ClientAuthType.NoClientCert,
            "RequestClientCert" => ClientAuthType.RequestClientCert,
            "RequireAnyClientCert" or "RequireClientCert" => ClientAuthType.RequireAnyClientCert, // the toolkit keeps the old name too
            "VerifyClientCertIfGiven" => ClientAuthType.VerifyClientCertIfGiven,
            "RequireAndVerifyClientCert" => ClientAuthType.RequireAndVerifyClientCert,
            var other => Invalid(other),
        };
        ClientAuthType Invalid(string value)
        {
            errors.Add($"{prefix} tls_server_config.client_auth_type \"{value}\" is not one of {string.Join(", ", Enum.GetNames<ClientAuthType>())}");
            return ClientAuthType.NoClientCert;
        }
        var clientCa = Resolve(NonEmpty(tls.ClientCaFile), "client_ca_file");
        bool verifies = clientAuth is ClientAuthType.VerifyClientCertIfGiven or ClientAuthType.RequireAndVerifyClientCert;
        if (clientCa is not null && clientAuth == ClientAuthType.NoClientCert && tls.ClientAuthType is null or "NoClientCert")
            errors.Add($"{prefix} tls_server_config.client_ca_file is set but client_auth_type is NoClientCert; set client_auth_type: RequireAndVerifyClientCert to check client certificates");
        else if (verifies && clientCa is null)
            errors.Add($"{prefix} tls_server_config.client_auth_type {tls.ClientAuthType} needs client_ca_file (the CA that signs the client certificates; no other CA is trusted)");
        else if (clientCa is not null && File.Exists(clientCa) && CountCertificates(clientCa) == 0)
            errors.Add($"{prefix} tls_server_config.client_ca_file \"{clientCa}\" holds no PEM certificate");
        if (tlsGiven && (cert is null || keyFile is null))
            errors.Add($"{prefix} tls_server_config needs both cert_file and key_file");
        else if (errors.Count == before && cert is not null && keyFile is not null && CertificateProblem(cert, keyFile) is { } problem)
            errors.Add($"{prefix} tls_server_config: cert_file \"{cert}\" and key_file \"{keyFile}\" are not a PEM certificate and its private key ({problem})");

        var http = file.HttpServerConfig ?? new HttpModel();
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in http.Headers ?? [])
        {
            if (!AllowedHeaders.TryGetValue(name, out var allowed))
                errors.Add($"{prefix} http_server_config.headers.{name} cannot be set (allowed: {string.Join(", ", AllowedHeaders.Keys)})");
            else if (string.IsNullOrEmpty(value))
                continue; // blank = unset, as in the toolkit
            else if (allowed.Length > 0 && !allowed.Contains(value))
                errors.Add($"{prefix} http_server_config.headers.{name} \"{value}\" is not {string.Join(" or ", allowed)}");
            else
                headers[name] = value;
        }

        var users = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (user, value) in file.BasicAuthUsers ?? [])
        {
            if (value is not null && IsBcrypt(value)) users[user] = value;
            else errors.Add($"{prefix} basic_auth_users.{user} is not a bcrypt hash ($2a$, $2b$ or $2y$...); create one with: htpasswd -nBC 10 \"\" | tr -d ':\\n'");
        }

        if (errors.Count > before) return null;
        return new WebConfig
        {
            CertFile = cert,
            KeyFile = keyFile,
            MinVersion = min,
            MaxVersion = max,
            CipherSuites = suites,
            ClientAuth = clientAuth,
            ClientCaFile = clientCa,
            Http2 = http.Http2 ?? true,
            Headers = headers,
            BasicAuthUsers = users,
        };
    }

    /// <summary>Every key is one the toolkit defines and the exporter honours; otherwise one message per key, with its line.</summary>
    private static bool CheckKeys(string text, string prefix, List<string> errors)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        if (stream.Documents.Count == 0) return true;
        if (stream.Documents.Count > 1)
            throw new YamlException(stream.Documents[1].RootNode.Start, stream.Documents[1].RootNode.End, "one YAML document expected, found more");
        var root = stream.Documents[0].RootNode;
        if (root is YamlScalarNode { Value: null or "" }) return true;
        if (root is not YamlMappingNode top)
            throw new YamlException(root.Start, root.End, "the top level must be a map of keys to values");

        int before = errors.Count;
        foreach (var (keyNode, value) in top.Children)
        {
            var key = KeyName(keyNode);
            long line = keyNode.Start.Line;
            if (Unsupported.TryGetValue(key, out var instead))
                errors.Add($"{prefix} {key} on line {line} is not supported ({instead})");
            else if (!TopLevel.Contains(key))
                errors.Add($"{prefix} unknown key \"{key}\" on line {line} (known: {string.Join(", ", TopLevel)})");
            else if (IsEmpty(value))
                continue; // "key:" with nothing under it
            else if (value is not YamlMappingNode map)
                errors.Add($"{prefix} \"{key}\" must be a map of keys to values");
            else if (key == "tls_server_config")
                CheckSection(map, key, TlsKeys);
            else if (key == "http_server_config")
                CheckSection(map, key, HttpKeys);
            else
                CheckValues(map, key); // basic_auth_users: user -> hash
        }
        return errors.Count == before;

        void CheckSection(YamlMappingNode map, string section, string[] known)
        {
            foreach (var (keyNode, value) in map.Children)
            {
                var key = KeyName(keyNode);
                if (Unsupported.TryGetValue($"{section}.{key}", out var instead))
                    errors.Add($"{prefix} {section}.{key} on line {keyNode.Start.Line} is not supported ({instead}; supported: {string.Join(", ", known)})");
                else if (!known.Contains(key))
                    errors.Add($"{prefix} unknown key \"{section}.{key}\" on line {keyNode.Start.Line} (known: {string.Join(", ", known)})");
                else if (IsEmpty(value))
                    continue;
                else if (key == "cipher_suites")
                {
                    if (value is not YamlSequenceNode list || list.Children.Any(item => item is not YamlScalarNode))
                        errors.Add($"{prefix} {section}.{key} on line {keyNode.Start.Line} must be a list of names");
                }
                else if (key == "headers")
                {
                    if (value is YamlMappingNode headers) CheckValues(headers, $"{section}.{key}");
                    else errors.Add($"{prefix} {section}.{key} on line {keyNode.Start.Line} must be a map of header names to values");
                }
                else if (value is not YamlScalarNode)
                    errors.Add($"{prefix} {section}.{key} on line {keyNode.Start.Line} must be a single value, not a list or map");
            }
        }

        void CheckValues(YamlMappingNode map, string section)
        {
            foreach (var (keyNode, value) in map.Children)
                if (value is not YamlScalarNode)
                    errors.Add($"{prefix} {section}.{KeyName(keyNode)} on line {keyNode.Start.Line} must be a single value, not a list or map");
        }
    }

    private static bool IsEmpty(YamlNode node) => node is YamlScalarNode { Value: null or "" };

    private static string KeyName(YamlNode key) =>
        key is YamlScalarNode scalar ? scalar.Value ?? "" : throw new YamlException(key.Start, key.End, "a key must be a plain string");

    /// <summary>YamlDotNet's message without its "(Line: .., Col: ..) - (..): " prefix; the innermost cause of a binding error.</summary>
    private static string Describe(YamlException ex)
    {
        Exception e = ex;
        while (e.InnerException is { } inner) e = inner;
        var message = e is YamlException y ? Regex.Replace(y.Message, @"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ", "") : e.Message;
        return message.TrimEnd('.');
    }

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>Why the pair cannot serve TLS (the same loading the listener does), or null.</summary>
    private static string? CertificateProblem(string certFile, string keyFile)
    {
        try
        {
            using var pair = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            return pair.HasPrivateKey ? null : "no private key";
        }
        catch (ArgumentException)
        {
            return "the key does not belong to the certificate";
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
        {
            return ex.Message.TrimEnd('.');
        }
    }

    private static int CountCertificates(string file)
    {
        try
        {
            var certs = new X509Certificate2Collection();
            certs.ImportFromPemFile(file);
            foreach (var c in certs) c.Dispose();
            return certs.Count;
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static bool IsBcrypt(string s) =>
        s.Length == 60 && s[0] == '$' && s[1] == '2' && s[2] is 'a' or 'b' or 'y' && s[3] == '$'
        && char.IsAsciiDigit(s[4]) && char.IsAsciiDigit(s[5]) && s[6] == '$';
}
