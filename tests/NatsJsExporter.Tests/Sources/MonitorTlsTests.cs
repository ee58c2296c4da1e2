using NatsJsExporter.Options;
using NatsJsExporter.Sources;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Sources;

/// <summary>https:// monitor URLs: the system trust store, a custom CA, or (only when asked) no check.</summary>
public sealed class MonitorTlsTests : IAsyncDisposable
{
    private static readonly string Jsz = File.ReadAllText(Path.Combine(Fixtures.Dir("2.9.10-single"), "n1.json"));
    // Generous: a TLS handshake on a loaded 2-core machine; no test here waits for the timeout.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly TestCerts _certs = new();
    private readonly RawHttpServer _server;

    public MonitorTlsTests()
    {
        var id = Fixtures.Parse(Path.Combine(Fixtures.Dir("2.9.10-single"), "n1.json")).ServerId;
        _server = new RawHttpServer((path, s, ct) => RawHttpServer.RespondAsync(s, System.Text.Encoding.UTF8.GetBytes(path == "/varz"
            ? $$"""{"server_id":"{{id}}","server_name":"tls1","version":"2.9.10"}""" : Jsz), ct), _certs.Server);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _certs.Dispose();
    }

    private async Task<ServerReport> PollAsync(string? ca, bool insecure)
    {
        var source = new HttpMonitorSource(HttpMonitorSource.CreateHttpClient(Timeout, ca, insecure), [new Uri(_server.Url)], Timeout);
        return Assert.Single(await source.CollectAsync(default));
    }

    [Fact]
    public async Task A_server_signed_by_the_given_ca_is_trusted()
    {
        var r = await PollAsync(_certs.CaFile, insecure: false);
        Assert.True(r.Succeeded, r.ErrorMessage);
        Assert.Equal("tls1", r.ServerName);
    }

    [Fact]
    public async Task Without_the_ca_the_certificate_is_rejected_as_a_tls_error()
    {
        var r = await PollAsync(null, insecure: false);
        Assert.Equal("tls", r.ErrorReason);
        Assert.Contains("--monitor-tls-ca", r.ErrorMessage);
    }

    [Fact]
    public async Task Another_ca_is_not_enough()
    {
        using var other = new TestCerts("another CA");
        var r = await PollAsync(other.CaFile, insecure: false);
        Assert.Equal("tls", r.ErrorReason);
    }

    [Fact]
    public async Task Insecure_skips_the_check()
    {
        var r = await PollAsync(null, insecure: true);
        Assert.True(r.Succeeded, r.ErrorMessage);
    }

    [Fact]
    public void The_ca_option_is_validated_at_start()
    {
        var noPem = Path.Combine(_certs.Dir, "empty.pem");
        File.WriteAllText(noPem, "not a certificate\n");
        var env = new Dictionary<string, string?>();
        var bad = OptionsLoader.Load(["--monitor-urls", "https://127.0.0.1:8222", "--monitor-tls-ca", noPem], env, _certs.Dir);
        Assert.Equal($"invalid --monitor-tls-ca: \"{noPem}\" holds no PEM certificate (-----BEGIN CERTIFICATE-----)", Assert.Single(bad.Errors));
        var missing = OptionsLoader.Load(["--monitor-urls", "https://127.0.0.1:8222", "--monitor-tls-ca", "/nonexistent/ca.pem"], env, _certs.Dir);
        Assert.Equal("invalid --monitor-tls-ca: file \"/nonexistent/ca.pem\" does not exist", Assert.Single(missing.Errors));
        var ok = OptionsLoader.Load(["--monitor-urls", "https://127.0.0.1:8222", "--monitor-tls-ca", _certs.CaFile, "--monitor-tls-insecure", "false"], env, _certs.Dir);
        Assert.Equal(_certs.CaFile, ok.Options!.MonitorTlsCaFile);
    }
}
