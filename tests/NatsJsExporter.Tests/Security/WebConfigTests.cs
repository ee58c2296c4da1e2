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
    [InlineData("tls_server_config:\n  cert_file: /nonexistent/tls.crt\n", "tls_server_config.cert_file \"/nonexistent/tls.crt\" does not exist")]
    [InlineData("tls_server_config:\n  curve_preferences: [X25519]\n", "tls_server_config.curve_preferences on line 2 is not supported (remove it; the platform's curves are used; supported: cert_file, key_file, client_auth_type, client_ca_file, min_version, max_version, cipher_suites)")]
    [InlineData("basic_auth_user:\n  a: b\n", "unknown key \"basic_auth_user\" on line 1 (known: tls_server_config, basic_auth_users, http_server_config)")]
    [InlineData("tls_server_config:\n  min_version: TLS10\n", "tls_server_config.min_version \"TLS10\" is not TLS12 or TLS13")]
    [InlineData("tls_server_config:\n  min_version: TLS13\n", "tls_server_config needs both cert_file and key_file")]
    public void Each_mistake_is_one_message_naming_file_and_key(string yaml, string expected)
    {
        var path = Write("web.yml", yaml);
        var (web, errors) = Load(path);
        Assert.Null(web);
        Assert.Equal($"invalid --web-config-file: \"{path}\": {expected}", errors.First());
    }

    [Fact]
    public void Full_yaml_is_read_lists_flow_maps_and_escapes()
    {
        using var certs = new TestCerts();
        var path = Write("web.yml", $$"""
            tls_server_config: {cert_file: "{{certs.CertFile}}", key_file: '{{certs.KeyFile}}'}
            http_server_config:
              http2: false
              headers:
                X-Frame-Options: deny
                Content-Security-Policy: "default-src 'self'"
                X-XSS-Protection: ""
                X-Content-Type-Options:
            basic_auth_users:
              "pro\u006Detheus": {{Hash}}
            """);
        var (web, errors) = Load(path);
        Assert.Empty(errors);
        Assert.False(web!.Http2);
        Assert.Equal(new Dictionary<string, string> { ["X-Frame-Options"] = "deny", ["Content-Security-Policy"] = "default-src 'self'" }, web.Headers);
        Assert.Equal(["prometheus"], web.BasicAuthUsers.Keys);
        Assert.Equal(ClientAuthType.NoClientCert, web.ClientAuth);
    }

    [Theory]
    [InlineData("NoClientCert", ClientAuthType.NoClientCert, false)]
    [InlineData("RequestClientCert", ClientAuthType.RequestClientCert, false)]
    [InlineData("RequireAnyClientCert", ClientAuthType.RequireAnyClientCert, false)]
    [InlineData("RequireClientCert", ClientAuthType.RequireAnyClientCert, false)]
    [InlineData("VerifyClientCertIfGiven", ClientAuthType.VerifyClientCertIfGiven, true)]
    [InlineData("RequireAndVerifyClientCert", ClientAuthType.RequireAndVerifyClientCert, true)]
    public void Client_auth_types_of_the_toolkit(string name, ClientAuthType expected, bool needsCa)
    {
        using var certs = new TestCerts();
        var ca = needsCa ? $"  client_ca_file: {certs.CaFile}\n" : "";
        var (web, errors) = Load(Write("web.yml", $"tls_server_config:\n  cert_file: {certs.CertFile}\n  key_file: {certs.KeyFile}\n  client_auth_type: {name}\n{ca}"));
        Assert.Empty(errors);
        Assert.Equal(expected, web!.ClientAuth);
        Assert.Equal(needsCa ? certs.CaFile : null, web.ClientCaFile);
        Assert.Equal(expected is ClientAuthType.RequireAnyClientCert or ClientAuthType.RequireAndVerifyClientCert, web.RequiresClientCertificate);
    }

    [Fact]
    public void An_empty_file_means_no_tls_and_no_auth()
    {
        var (web, errors) = Load(Write("web.yml", "# nothing yet\n"));
        Assert.Empty(errors);
        Assert.False(web!.Tls || web.BasicAuth);
    }

    // One testdata/web/invalid-*.yml per error, with its exact message ({0}: the file, {1}: its folder,
    // where the test also puts ca.pem, server.pem, server-key.pem and other-key.pem).
    [Theory]
    [InlineData("invalid-unknown-key.yml", "\"{0}\": unknown key \"basic_auth_user\" on line 3 (known: tls_server_config, basic_auth_users, http_server_config)")]
    [InlineData("invalid-unknown-tls-key.yml", "\"{0}\": unknown key \"tls_server_config.certfile\" on line 2 (known: cert_file, key_file, client_auth_type, client_ca_file, min_version, max_version, cipher_suites)")]
    [InlineData("invalid-unknown-http-key.yml", "\"{0}\": unknown key \"http_server_config.http3\" on line 2 (known: http2, headers)")]
    [InlineData("invalid-rate-limit.yml", "\"{0}\": rate_limit on line 1 is not supported (limit the request rate in a reverse proxy)")]
    [InlineData("invalid-inline-cert.yml", "\"{0}\": tls_server_config.cert on line 2 is not supported (put the PEM in a file and use cert_file; supported: cert_file, key_file, client_auth_type, client_ca_file, min_version, max_version, cipher_suites)")]
    [InlineData("invalid-inline-key.yml", "\"{0}\": tls_server_config.key on line 3 is not supported (put the PEM in a file and use key_file; supported: cert_file, key_file, client_auth_type, client_ca_file, min_version, max_version, cipher_suites)")]
    [InlineData("invalid-inline-client-ca.yml", "\"{0}\": tls_server_config.client_ca on line 5 is not supported (put the PEM in a file and use client_ca_file; supported: cert_file, key_file, client_auth_type, client_ca_file, min_version, max_version, cipher_suites)")]
    [InlineData("invalid-client-allowed-sans.yml", "\"{0}\": tls_server_config.client_allowed_sans on line 6 is not supported (give these clients certificates from their own CA in client_ca_file; supported: cert_file, key_file, client_auth_type, client_ca_file, min_version, max_version, cipher_suites)")]
    [InlineData("invalid-prefer-server-cipher-suites.yml", "\"{0}\": tls_server_config.prefer_server_cipher_suites on line 4 is not supported (remove it; Go ignores it too since 1.18; supported: cert_file, key_file, client_auth_type, client_ca_file, min_version, max_version, cipher_suites)")]
    [InlineData("invalid-client-auth-type.yml", "\"{0}\": tls_server_config.client_auth_type \"RequireAndVerify\" is not one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert")]
    [InlineData("invalid-client-ca-without-auth.yml", "\"{0}\": tls_server_config.client_ca_file is set but client_auth_type is NoClientCert; set client_auth_type: RequireAndVerifyClientCert to check client certificates")]
    [InlineData("invalid-verify-without-ca.yml", "\"{0}\": tls_server_config.client_auth_type VerifyClientCertIfGiven needs client_ca_file (the CA that signs the client certificates; no other CA is trusted)")]
    [InlineData("invalid-client-ca-missing.yml", "\"{0}\": tls_server_config.client_ca_file \"{1}/clients-ca.pem\" does not exist")]
    [InlineData("invalid-client-ca-not-pem.yml", "\"{0}\": tls_server_config.client_ca_file \"{1}/server-key.pem\" holds no PEM certificate")]
    [InlineData("invalid-max-version.yml", "\"{0}\": tls_server_config.max_version \"TLS11\" is not TLS12 or TLS13")]
    [InlineData("invalid-max-below-min.yml", "\"{0}\": tls_server_config.max_version TLS12 is lower than min_version TLS13")]
    [InlineData("invalid-cipher-suite.yml", "\"{0}\": tls_server_config.cipher_suites: \"TLS_ECDHE_ECDSA_WITH_AES_128_GCM\" is not a cipher suite name, e.g. TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")]
    [InlineData("invalid-key-mismatch.yml", "\"{0}\": tls_server_config: cert_file \"{1}/server.pem\" and key_file \"{1}/other-key.pem\" are not a PEM certificate and its private key (the key does not belong to the certificate)")]
    [InlineData("invalid-header-name.yml", "\"{0}\": http_server_config.headers.Server cannot be set (allowed: Content-Security-Policy, Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection)")]
    [InlineData("invalid-header-value.yml", "\"{0}\": http_server_config.headers.X-Frame-Options \"allow\" is not deny or sameorigin")]
    [InlineData("invalid-section-not-map.yml", "\"{0}\": \"basic_auth_users\" must be a map of keys to values")]
    [InlineData("invalid-value-not-scalar.yml", "\"{0}\": tls_server_config.cert_file on line 2 must be a single value, not a list or map")]
    [InlineData("invalid-cipher-suites-not-list.yml", "\"{0}\": tls_server_config.cipher_suites on line 4 must be a list of names")]
    [InlineData("invalid-headers-not-map.yml", "\"{0}\": http_server_config.headers on line 2 must be a map of header names to values")]
    [InlineData("invalid-http2-not-bool.yml", "\"{0}\" is not a web config (line 2: The value \"sometimes\" is not a valid YAML Boolean)")]
    [InlineData("invalid-duplicate-key.yml", "\"{0}\" is not a web config (line 3: Duplicate key prometheus)")]
    [InlineData("invalid-two-documents.yml", "\"{0}\" is not a web config (line 4: one YAML document expected, found more)")]
    [InlineData("invalid-top-level-list.yml", "\"{0}\" is not a web config (line 1: the top level must be a map of keys to values)")]
    public void Invalid_web_config_gives_one_clear_message(string file, string expected)
    {
        using var certs = new TestCerts();
        using var other = new TestCerts("another CA");
        var dir = Directory.CreateDirectory(Path.Combine(_dir, "testdata")).FullName;
        File.Copy(Path.Combine(Repo.TestData, "web", file), Path.Combine(dir, file));
        foreach (var name in new[] { "ca.pem", "server.pem", "server-key.pem" }) File.Copy(Path.Combine(certs.Dir, name), Path.Combine(dir, name));
        File.Copy(other.KeyFile, Path.Combine(dir, "other-key.pem"));
        var path = Path.Combine(dir, file);
        var (web, errors) = Load(path);
        Assert.Null(web);
        Assert.Equal($"invalid --web-config-file: {string.Format(expected, path, dir)}", Assert.Single(errors));
    }

    [Fact]
    public void Broken_yaml_is_reported_with_its_line()
    {
        // Not a testdata file: yamllint (scripts/lint.sh) rejects broken YAML in the repository.
        var path = Write("web.yml", "tls_server_config:\n  cert_file: \"server.pem\n  key_file: server-key.pem\n");
        var (web, errors) = Load(path);
        Assert.Null(web);
        Assert.Equal($"invalid --web-config-file: \"{path}\" is not a web config (line 2: While scanning a multi-line double-quoted scalar, found wrong indentation)", Assert.Single(errors));
    }

    [Theory]
    [InlineData("? [a, b]\n: c\n")]
    [InlineData("tls_server_config:\n  ? {x: y}\n  : z\n")]
    [InlineData("basic_auth_users:\n  prometheus: {hash: x}\n")]
    [InlineData("basic_auth_users:\n  prometheus: [a]\n")]
    [InlineData("tls_server_config:\n  cipher_suites: TLS_AES_128_GCM_SHA256\n")]
    [InlineData("tls_server_config:\n  cert_file: [a]\n")]
    [InlineData("http_server_config:\n  headers: [a]\n")]
    [InlineData("http_server_config: 3\n")]
    [InlineData("a: &x 1\nb: *y\n")]
    [InlineData("!!binary abc")]
    [InlineData("tls_server_config: !custom {cert_file: a}\n")]
    [InlineData("\"unterminated")]
    public void Odd_yaml_is_one_message_never_an_exception(string yaml)
    {
        var path = Write("web.yml", yaml);
        var (web, errors) = Load(path);
        Assert.Null(web);
        Assert.StartsWith($"invalid --web-config-file: \"{path}\"", Assert.Single(errors));
    }

    [Fact]
    public void Every_invalid_web_config_has_a_test()
    {
        var files = Directory.GetFiles(Path.Combine(Repo.TestData, "web"), "invalid-*.yml").Select(Path.GetFileName).Order().ToArray();
        var tested = typeof(WebConfigTests).GetMethod(nameof(Invalid_web_config_gives_one_clear_message))!
            .GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>()
            .Select(a => (string)a.GetData(null!).First()[0]).Order().ToArray();
        Assert.Equal(files, tested);
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
