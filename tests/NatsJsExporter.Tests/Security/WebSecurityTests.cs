using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using NatsJsExporter.Commands;
using NatsJsExporter.Hosting;
using NatsJsExporter.Options;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Security;

/// <summary>
/// The web config on a real Kestrel listener on loopback: client certificates checked in the TLS
/// handshake as the exporter-toolkit does, basic auth as an authentication scheme on every path,
/// extra headers, HTTP/2 off, cipher suites.
/// </summary>
public sealed class WebSecurityTests : IAsyncLifetime
{
    private readonly TestCerts _certs = new();
    private readonly TestCerts _otherCa = new("another CA");
    private readonly string _dir = Directory.CreateTempSubdirectory("natsjs-websec-").FullName;
    private WebApplication? _app;
    private ExporterOptions? _options;
    private int _port;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        _certs.Dispose();
        _otherCa.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Starts a listener configured by this web config (YAML), serving /whoami and /metrics.</summary>
    private async Task StartAsync(string yaml)
    {
        var path = Path.Combine(_dir, "web.yml");
        File.WriteAllText(path, yaml);
        var errors = new List<string>();
        var web = WebConfig.Load(path, "--web-config-file", errors);
        Assert.Empty(errors);
        _port = FreePort();
        var options = _options = new ExporterOptions { MonitorUrls = [], ListenHost = "127.0.0.1", ListenPort = _port, Web = web };
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.AddWebSecurity(options);
        _app = builder.Build();
        _app.UseWebSecurity(options);
        _app.MapGet("/whoami", (HttpContext ctx) => $"user={ctx.User.Identity?.Name} cert={ctx.Connection.ClientCertificate?.Subject} protocol={ctx.Request.Protocol}");
        _app.MapGet("/metrics", () => "natsjs_up 1\n");
        _app.MapGet("/healthz", () => "ok\n");
        await _app.StartAsync();
    }

    private string Tls(string clientAuth = "", string extra = "") =>
        $"tls_server_config:\n  cert_file: {_certs.CertFile}\n  key_file: {_certs.KeyFile}\n{clientAuth}{extra}";

    private HttpClient Client(X509Certificate2? clientCert = null, Action<SslClientAuthenticationOptions>? tweak = null, Version? version = null)
    {
        var handler = new SocketsHttpHandler { UseProxy = false };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == _certs.Server.GetCertHashString();
        if (clientCert is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCert];
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCert;
        }
        tweak?.Invoke(handler.SslOptions);
        return new HttpClient(handler)
        {
            Timeout = TimeSpan.FromSeconds(30), // a loaded 2-core machine; refusals come at once
            DefaultRequestVersion = version ?? HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
    }

    /// <summary>The body of /whoami, or null when the TLS connection was refused.</summary>
    private async Task<string?> WhoAmI(X509Certificate2? clientCert)
    {
        using var http = Client(clientCert);
        try
        {
            using var response = await http.GetAsync($"https://127.0.0.1:{_port}/whoami");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private string CaLine => $"  client_ca_file: {_certs.CaFile}\n";

    [Fact]
    public async Task RequireAndVerifyClientCert_accepts_only_a_certificate_from_client_ca_file()
    {
        await StartAsync(Tls("  client_auth_type: RequireAndVerifyClientCert\n" + CaLine));
        using var good = _certs.IssueClient("prometheus");
        using var foreign = _otherCa.IssueClient("prometheus");
        using var serverOnly = _certs.IssueClient("web server", usage: "1.3.6.1.5.5.7.3.1");

        Assert.Null(await WhoAmI(null));
        Assert.Null(await WhoAmI(foreign));
        Assert.Null(await WhoAmI(serverOnly)); // right CA, but not allowed for client authentication
        Assert.Equal("user= cert=CN=prometheus protocol=HTTP/1.1", await WhoAmI(good));
    }

    [Fact]
    public async Task VerifyClientCertIfGiven_accepts_none_and_rejects_a_bad_one()
    {
        await StartAsync(Tls("  client_auth_type: VerifyClientCertIfGiven\n" + CaLine));
        using var good = _certs.IssueClient("prometheus");
        using var foreign = _otherCa.IssueClient("prometheus");

        Assert.Equal("user= cert= protocol=HTTP/1.1", await WhoAmI(null));
        Assert.Null(await WhoAmI(foreign));
        Assert.Equal("user= cert=CN=prometheus protocol=HTTP/1.1", await WhoAmI(good));
    }

    [Fact]
    public async Task RequireAnyClientCert_needs_a_certificate_but_does_not_check_it()
    {
        await StartAsync(Tls("  client_auth_type: RequireAnyClientCert\n"));
        using var foreign = _otherCa.IssueClient("anyone");
        Assert.Null(await WhoAmI(null));
        Assert.Equal("user= cert=CN=anyone protocol=HTTP/1.1", await WhoAmI(foreign));
    }

    [Fact]
    public async Task RequestClientCert_takes_any_certificate_or_none()
    {
        await StartAsync(Tls("  client_auth_type: RequestClientCert\n"));
        using var foreign = _otherCa.IssueClient("anyone");
        Assert.Equal("user= cert= protocol=HTTP/1.1", await WhoAmI(null));
        Assert.Equal("user= cert=CN=anyone protocol=HTTP/1.1", await WhoAmI(foreign));
    }

    [Fact]
    public async Task NoClientCert_ignores_a_certificate_offered()
    {
        await StartAsync(Tls());
        using var good = _certs.IssueClient("prometheus");
        Assert.Equal("user= cert= protocol=HTTP/1.1", await WhoAmI(good));
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    [Fact]
    public async Task Basic_auth_guards_every_path_with_a_challenge_and_names_the_user_inside()
    {
        var hash = BCrypt.Net.BCrypt.HashPassword("s3cret-pass", 4);
        await StartAsync($"basic_auth_users:\n  prometheus: {hash}\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n    X-Content-Type-Options: nosniff\n");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        foreach (var path in new[] { "/whoami", "/metrics", "/no-such-page" })
        {
            foreach (var auth in new AuthenticationHeaderValue?[] { null, Basic("prometheus", "wrong"), Basic("admin", "s3cret-pass"), new("Bearer", "abc"), new("Basic", "!!!") })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{_port}{path}") { Headers = { Authorization = auth } };
                using var denied = await http.SendAsync(request);
                Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
                Assert.Equal("Basic realm=\"natsjs-exporter\", charset=\"UTF-8\"", denied.Headers.WwwAuthenticate.ToString());
                Assert.Equal("Unauthorized\n", await denied.Content.ReadAsStringAsync());
                Assert.Equal("deny", denied.Headers.GetValues("X-Frame-Options").Single()); // headers on refusals too
            }
        }
        using var ok = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{_port}/whoami") { Headers = { Authorization = Basic("prometheus", "s3cret-pass") } };
        using var response = await http.SendAsync(ok);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("user=prometheus cert= protocol=HTTP/1.1", await response.Content.ReadAsStringAsync());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        using var missing = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{_port}/no-such-page") { Headers = { Authorization = Basic("prometheus", "s3cret-pass") } };
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(missing)).StatusCode);
    }

    [Theory]
    [InlineData("", "HTTP/2")]
    [InlineData("http_server_config:\n  http2: false\n", "HTTP/1.1")]
    public async Task Http2_is_offered_over_tls_unless_turned_off(string http, string expected)
    {
        await StartAsync(Tls() + http);
        using var client = Client(version: HttpVersion.Version20);
        var body = await client.GetStringAsync($"https://127.0.0.1:{_port}/whoami");
        Assert.EndsWith($"protocol={expected}", body);
    }

    [Fact]
    public async Task Cipher_suites_limit_tls12_and_leave_tls13_alone()
    {
        if (!OperatingSystem.IsLinux()) return; // the cipher policy is set through OpenSSL
        await StartAsync(Tls(extra: "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n"));
        async Task<bool> Connects(SslProtocols protocol, TlsCipherSuite suite)
        {
            using var http = Client(tweak: ssl =>
            {
                ssl.EnabledSslProtocols = protocol;
                if (OperatingSystem.IsLinux()) ssl.CipherSuitesPolicy = new CipherSuitesPolicy([suite]);
            });
            try
            {
                return (await http.GetAsync($"https://127.0.0.1:{_port}/whoami")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }
        Assert.True(await Connects(SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384));
        Assert.False(await Connects(SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256));
        Assert.True(await Connects(SslProtocols.Tls13, TlsCipherSuite.TLS_AES_128_GCM_SHA256));
    }

    [Fact]
    public async Task Min_and_max_version_bound_the_protocol()
    {
        await StartAsync(Tls(extra: "  min_version: TLS13\n"));
        async Task<bool> Connects(SslProtocols protocol)
        {
            using var http = Client(tweak: ssl => ssl.EnabledSslProtocols = protocol);
            try { return (await http.GetAsync($"https://127.0.0.1:{_port}/whoami")).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
        }
        Assert.False(await Connects(SslProtocols.Tls12));
        Assert.True(await Connects(SslProtocols.Tls13));
    }

    [Theory]
    [InlineData("RequireAndVerifyClientCert", "")]
    [InlineData("RequireAndVerifyClientCert", "  max_version: TLS12\n")]
    [InlineData("RequireAnyClientCert", "")]
    [InlineData("VerifyClientCertIfGiven", "")]
    public async Task The_healthcheck_counts_a_refused_handshake_as_alive_when_client_certificates_are_required(string clientAuth, string extra)
    {
        var ca = clientAuth.Contains("Verify", StringComparison.Ordinal) ? CaLine : "";
        await StartAsync(Tls($"  client_auth_type: {clientAuth}\n{ca}", extra));
        Assert.Equal(0, await HealthcheckCommand.RunAsync(_options!));
        await _app!.StopAsync();
        Assert.Equal(1, await HealthcheckCommand.RunAsync(_options!));
    }

    [Fact]
    public async Task The_healthcheck_does_not_count_a_refused_handshake_when_no_client_certificate_is_required()
    {
        // A plain-HTTP listener where the web config says TLS: the handshake fails, and nothing requires a client certificate.
        await StartAsync("");
        var tls = Path.Combine(_dir, "tls.yml");
        File.WriteAllText(tls, Tls());
        var web = WebConfig.Load(tls, "--web-config-file", []);
        Assert.Equal(1, await HealthcheckCommand.RunAsync(_options! with { Web = web }));
        Assert.Equal(0, await HealthcheckCommand.RunAsync(_options!));
    }
}
