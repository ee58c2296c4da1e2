using System.Text;
using NatsJsExporter.Hosting;
using NatsJsExporter.Options;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Security;

/// <summary>The web config file (exporter-toolkit format) and the basic-auth check.</summary>
public sealed class WebConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("natsjs-web-").FullName;
    private static readonly string Hash = BCrypt.Net.BCrypt.HashPassword("s3cret-pass", 4);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static (WebConfig? Config, List<string> Errors) Load(string path)
    {
        var errors = new List<string>();
        return (WebConfig.Load(path, "--web-config-file", errors), errors);
    }

    [Fact]
    public void Yaml_like_the_exporter_toolkit_is_read_with_paths_relative_to_the_file()
    {
        using var certs = new TestCerts();
        File.Copy(certs.CertFile, Path.Combine(_dir, "tls.crt"));
        File.Copy(certs.KeyFile, Path.Combine(_dir, "tls.key"));
        var path = Write("web.yml", $"""
            ---
            # comment
            tls_server_config:
              cert_file: tls.crt   # relative to this file
              key_file: "tls.key"
              min_version: TLS13
            basic_auth_users:
              prometheus: {Hash}
              'other': '{Hash}'
            """);
        var (web, errors) = Load(path);
        Assert.Empty(errors);
        Assert.Equal(Path.Combine(_dir, "tls.crt"), web!.CertFile);
        Assert.Equal(Path.Combine(_dir, "tls.key"), web.KeyFile);
        Assert.Equal(System.Security.Authentication.SslProtocols.Tls13, web.MinVersion);
        Assert.Equal(["other", "prometheus"], web.BasicAuthUsers.Keys.Order());
        Assert.True(web.Tls && web.BasicAuth);
    }

    [Fact]
    public void Json_is_read_too()
    {
        var (web, errors) = Load(Write("web.json", $$"""{ "basic_auth_users": { "prometheus": "{{Hash}}" } }"""));
        Assert.Empty(errors);
        Assert.False(web!.Tls);
        Assert.Equal(Hash, web.BasicAuthUsers["prometheus"]);
    }

    [Theory]
    [InlineData("basic_auth_users:\n  prometheus: plaintext\n", "basic_auth_users.prometheus is not a bcrypt hash ($2a$, $2b$ or $2y$...); create one with: htpasswd -nBC 10 \"\" | tr -d ':\\n'")]
    [InlineData("tls_server_config:\n  cert_file: /nonexistent/tls.crt\n  key_file: /nonexistent/tls.key\n", "tls_server_config.cert_file \"/nonexistent/tls.crt\" does not exist")]
    [InlineData("tls_server_config:\n  cert_file: /nonexistent/tls.crt\n", "tls_server_config needs both cert_file and key_file")]
    [InlineData("tls_server_config:\n  client_ca_file: ca.pem\n", "tls_server_config.client_ca_file is not supported (supported: cert_file, key_file, min_version)")]
    [InlineData("basic_auth_user:\n  a: b\n", "unknown key \"basic_auth_user\" (known: tls_server_config, basic_auth_users, http_server_config)")]
    [InlineData("tls_server_config:\n  min_version: TLS10\n", "tls_server_config.min_version \"TLS10\" is not TLS12 or TLS13")]
    public void Each_mistake_is_one_message_naming_file_and_key(string yaml, string expected)
    {
        var path = Write("web.yml", yaml);
        var (web, errors) = Load(path);
        Assert.Null(web);
        Assert.Equal($"invalid --web-config-file: \"{path}\": {expected}", errors.First());
    }

    [Theory]
    [InlineData("basic_auth_users:\n  - a\n", "line 2: only \"key: value\" maps are supported")]
    [InlineData("basic_auth_users:\n\ta: b\n", "line 2: tabs are not allowed for indentation")]
    [InlineData("a: 'open\n", "line 1: unterminated quote")]
    [InlineData("basic_auth_users:\n  a: x\n    b: y\n", "line 3: unexpected indentation")]
    [InlineData("basic_auth_users:\n  a: x\n  a: y\n", "line 3: key \"a\" appears twice")]
    public void Yaml_outside_the_subset_is_rejected_with_its_line(string yaml, string expected)
    {
        var path = Write("web.yml", yaml);
        var (_, errors) = Load(path);
        Assert.Equal($"invalid --web-config-file: \"{path}\" is not a web config ({expected})", Assert.Single(errors));
    }

    [Fact]
    public void The_options_loader_reads_it_from_flag_or_environment()
    {
        var path = Write("web.yml", $"basic_auth_users:\n  prometheus: {Hash}\n");
        var env = new Dictionary<string, string?> { ["NATSJS_WEB_CONFIG_FILE"] = path };
        var o = OptionsLoader.Load(["--monitor-urls", "http://127.0.0.1:8222"], env, _dir).Options!;
        Assert.True(o.Web!.BasicAuth);
        var missing = OptionsLoader.Load(["--monitor-urls", "http://127.0.0.1:8222", "--web-config-file", "/nonexistent/web.yml"], new Dictionary<string, string?>(), _dir);
        Assert.Equal("invalid --web-config-file: file \"/nonexistent/web.yml\" does not exist", Assert.Single(missing.Errors));
    }

    private static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    [Fact]
    public void Basic_auth_accepts_only_the_right_user_and_password()
    {
        var checker = new BasicAuthChecker(new Dictionary<string, string> { ["prometheus"] = Hash });
        Assert.True(checker.Check(Basic("prometheus", "s3cret-pass")));
        Assert.True(checker.Check(Basic("prometheus", "s3cret-pass"))); // cached
        Assert.False(checker.Check(Basic("prometheus", "wrong")));
        Assert.False(checker.Check(Basic("nobody", "s3cret-pass")));
        Assert.False(checker.Check(Basic("prometheus", "")));
        Assert.False(checker.Check(""));
        Assert.False(checker.Check("Bearer abc"));
        Assert.False(checker.Check("Basic !!!not-base64"));
        Assert.False(checker.Check("Basic " + Convert.ToBase64String("no-colon"u8.ToArray())));
    }
}
