using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using NatsJsExporter.IntegrationTests.Infrastructure;
using NatsJsExporter.Tests.Support;
using Xunit.Abstractions;

namespace NatsJsExporter.IntegrationTests;

/// <summary>
/// The real exporter process: TLS and basic auth on every endpoint, the container healthcheck,
/// secrets kept out of every output, and shutdown on SIGTERM.
/// </summary>
[Collection("real processes")]
public sealed class SecurityTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("natsjs-security-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static HttpClient TrustingClient(string caFile, X509Certificate2? clientCert = null)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(caFile);
        return new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            SslOptions =
            {
                ClientCertificates = clientCert is null ? null : [clientCert],
                LocalCertificateSelectionCallback = clientCert is null ? null : (_, _, _, _, _) => clientCert,
                RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                {
                    if (cert is null || (errors & System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(new X509Certificate2(cert));
                },
            },
        })
        { Timeout = TimeSpan.FromSeconds(30) };
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private static async Task<HttpResponseMessage> GetAsync(HttpClient http, string url, AuthenticationHeaderValue? auth)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = auth;
        return await http.SendAsync(request);
    }

    private string WebConfig(string password, int cost, TestCerts? certs)
    {
        var path = Path.Combine(_dir, "web.yml");
        var tls = certs is null ? "" : $"tls_server_config:\n  cert_file: {certs.CertFile}\n  key_file: {certs.KeyFile}\n";
        File.WriteAllText(path, $"{tls}basic_auth_users:\n  prometheus: {BCrypt.Net.BCrypt.HashPassword(password, cost)}\n");
        return path;
    }

    /// <summary>A monitor URL nobody listens on: the exporter serves (natsjs_up 0) without a cluster.</summary>
    private static string DeadMonitor() => $"http://127.0.0.1:{Ports.Free()}";

    [Fact]
    public async Task Tls_and_basic_auth_protect_every_endpoint_and_the_healthcheck_still_works()
    {
        using var certs = new TestCerts();
        const string password = "Basic-Pass-Tls-5Rw";
        var env = new Dictionary<string, string>
        {
            ["NATSJS_MONITOR_URLS"] = DeadMonitor(),
            ["NATSJS_WEB_CONFIG_FILE"] = WebConfig(password, 10, certs),
            ["NATSJS_INTERVAL"] = "1s",
            ["NATSJS_TIMEOUT"] = "500ms",
            ["NATSJS_MONITOR_TLS_INSECURE"] = "true",
        };
        await using var run = ExporterRun.Start(env, []);
        using var https = TrustingClient(certs.CaFile);
        var baseUrl = $"https://127.0.0.1:{run.Port}";
        var good = Basic("prometheus", password);
        using (var ready = TrustingClient(certs.CaFile))
        {
            ready.DefaultRequestHeaders.Authorization = good;
            await run.WaitReadyAsync(ready, baseUrl + "/readyz", TimeSpan.FromSeconds(60));
        }

        foreach (var path in new[] { "/metrics", "/healthz", "/readyz", "/" })
        {
            using var none = await GetAsync(https, baseUrl + path, null);
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            Assert.Contains("Basic realm=\"natsjs-exporter\"", none.Headers.WwwAuthenticate.ToString());
            using var wrong = await GetAsync(https, baseUrl + path, Basic("prometheus", "wrong"));
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            using var otherUser = await GetAsync(https, baseUrl + path, Basic("admin", password));
            Assert.Equal(HttpStatusCode.Unauthorized, otherUser.StatusCode);
            using var ok = await GetAsync(https, baseUrl + path, good);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            output.WriteLine($"{path}: 401 without, with wrong password, with another user; 200 with credentials");
        }
        using (var metrics = await GetAsync(https, baseUrl + "/metrics", good))
            Assert.Contains("natsjs_up{server=", await metrics.Content.ReadAsStringAsync());

        // Plain HTTP on the TLS port gets nothing useful.
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var plainOk = false;
        try { plainOk = (await plain.GetAsync($"http://127.0.0.1:{run.Port}/metrics")).IsSuccessStatusCode; }
        catch (HttpRequestException) { }
        Assert.False(plainOk);

        // The healthcheck mode reads the same environment and talks TLS; 401 means alive.
        var check = await RunHealthcheckAsync(env, run.Port);
        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Contains(run.Output, l => l.Contains("serving https://", StringComparison.Ordinal) && l.Contains("basic auth, 1 users", StringComparison.Ordinal));
        Assert.Contains(run.Output, l => l.Contains("INSECURE: --monitor-tls-insecure", StringComparison.Ordinal));

        await run.DisposeAsync();
        var dead = await RunHealthcheckAsync(env, run.Port);
        Assert.Equal(1, dead.ExitCode);
    }

    /// <summary>Status of GET /metrics, or null when the TLS handshake was refused.</summary>
    private static async Task<HttpStatusCode?> StatusAsync(string caFile, string url, X509Certificate2? clientCert)
    {
        using var http = TrustingClient(caFile, clientCert);
        try
        {
            using var response = await http.GetAsync(url);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    [Theory]
    [InlineData("RequireAndVerifyClientCert")]
    [InlineData("VerifyClientCertIfGiven")]
    public async Task Client_certificates_are_checked_against_client_ca_file_only(string clientAuth)
    {
        using var certs = new TestCerts();
        using var clients = new TestCerts("clients CA");
        using var good = clients.IssueClient("prometheus");
        using var foreign = certs.IssueClient("prometheus"); // signed by the CA the server certificate comes from, not by client_ca_file
        var web = Path.Combine(_dir, "web.yml");
        File.WriteAllText(web, $"""
            tls_server_config:
              cert_file: {certs.CertFile}
              key_file: {certs.KeyFile}
              client_auth_type: {clientAuth}
              client_ca_file: {clients.CaFile}
            """);
        var env = new Dictionary<string, string>
        {
            ["NATSJS_MONITOR_URLS"] = DeadMonitor(),
            ["NATSJS_WEB_CONFIG_FILE"] = web,
            ["NATSJS_INTERVAL"] = "1s",
            ["NATSJS_TIMEOUT"] = "500ms",
        };
        await using var run = ExporterRun.Start(env, []);
        var url = $"https://127.0.0.1:{run.Port}/metrics";
        using (var ready = TrustingClient(certs.CaFile, good))
            await run.WaitReadyAsync(ready, $"https://127.0.0.1:{run.Port}/readyz", TimeSpan.FromSeconds(60));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(certs.CaFile, url, good));
        Assert.Null(await StatusAsync(certs.CaFile, url, foreign));
        var none = await StatusAsync(certs.CaFile, url, null);
        Assert.Equal(clientAuth == "VerifyClientCertIfGiven" ? HttpStatusCode.OK : null, none);
        output.WriteLine($"{clientAuth}: right CA 200, other CA refused in the handshake, none {(none is null ? "refused" : "200")}");

        // The healthcheck has no client certificate: a handshake the exporter ends still proves it is up.
        var check = await RunHealthcheckAsync(env, run.Port);
        Assert.True(check.ExitCode == 0, check.Output);
        await run.DisposeAsync();
        Assert.Equal(1, (await RunHealthcheckAsync(env, run.Port)).ExitCode);
    }

    private static async Task<(int ExitCode, string Output)> RunHealthcheckAsync(Dictionary<string, string> env, int port)
    {
        var e = new Dictionary<string, string>(env) { ["NATSJS_LISTEN"] = $"127.0.0.1:{port}" };
        await using var check = ExporterRun.Start(e, ["--healthcheck"]);
        Assert.True(await check.WaitExitAsync(TimeSpan.FromSeconds(60)), "healthcheck did not end");
        return (check.ExitCode, check.AllOutput);
    }

    [Fact]
    public async Task Known_secrets_never_appear_in_logs_metrics_pages_or_error_messages()
    {
        const string natsPassword = "Nats-Secret-9QxZv";
        const string wrongPassword = "Wrong-Secret-7Hv1k";
        const string basicPassword = "Basic-Secret-4Kp2m";
        string[] secrets = [natsPassword, wrongPassword, basicPassword,
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"prometheus:{basicPassword}")),
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"sysmon:{natsPassword}"))];

        // A server whose system-account password is unique, so any leak is unmistakable.
        int clientPort = Ports.Free(), monitorPort = Ports.Free();
        var conf = Path.Combine(_dir, "nats.conf");
        File.WriteAllText(conf, $$"""
            server_name: s1
            listen: 127.0.0.1:{{clientPort}}
            http: 127.0.0.1:{{monitorPort}}
            jetstream { store_dir: "{{Path.Combine(_dir, "js")}}" }
            accounts {
              SYS { users = [{ user: sysmon, password: "{{natsPassword}}" }] }
              APP { jetstream: enabled, users = [{ user: app, password: app }] }
            }
            system_account: SYS
            """);
        using var nats = Process.Start(new ProcessStartInfo(NatsServerBinary.Path, $"-c {conf}") { RedirectStandardError = true, RedirectStandardOutput = true })!;
        nats.BeginErrorReadLine();
        nats.BeginOutputReadLine();
        try
        {
            var web = WebConfig(basicPassword, 4, null);
            var outputs = new List<(string What, string Text)>();
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var auth = Basic("prometheus", basicPassword);

            async Task Exercise(string name, Dictionary<string, string> env, string[] args, bool expectReady)
            {
                env["NATSJS_WEB_CONFIG_FILE"] = web;
                env["NATSJS_LOG_LEVEL"] = "debug";
                env["NATSJS_INTERVAL"] = "1s";
                env["NATSJS_TIMEOUT"] = "800ms";
                await using var run = ExporterRun.Start(env, args);
                var baseUrl = $"http://127.0.0.1:{run.Port}";
                if (expectReady)
                {
                    using var ready = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
                    ready.DefaultRequestHeaders.Authorization = auth;
                    await run.WaitReadyAsync(ready, baseUrl + "/readyz", TimeSpan.FromSeconds(60));
                    await Task.Delay(2500); // a few polls, reconnect attempts, repeated errors
                    foreach (var path in new[] { "/metrics", "/", "/readyz", "/healthz", "/api/v1/snapshot" })
                    {
                        using var withAuth = await GetAsync(http, baseUrl + path, auth);
                        var withText = $"{(int)withAuth.StatusCode} {withAuth.Headers} {await withAuth.Content.ReadAsStringAsync()}";
                        lock (outputs) outputs.Add(($"{name} {path}", withText));
                        using var without = await GetAsync(http, baseUrl + path, Basic("prometheus", "nope"));
                        var withoutText = $"{(int)without.StatusCode} {without.Headers} {await without.Content.ReadAsStringAsync()}";
                        lock (outputs) outputs.Add(($"{name} {path} (401)", withoutText));
                    }
                    run.Signal(Signals.SIGTERM);
                }
                await run.WaitExitAsync(TimeSpan.FromSeconds(30));
                lock (outputs) outputs.Add(($"{name} log", run.AllOutput));
            }

            var url = $"nats://127.0.0.1:{clientPort}";
            var pwFile = Path.Combine(_dir, "pw");
            File.WriteAllText(pwFile, natsPassword + "\n");
            // Six independent exporter processes (each its own port and output): run side by side.
            await Task.WhenAll(
                Exercise("right password", new() { ["NATSJS_NATS_PASSWORD"] = natsPassword }, ["--nats-url", url, "--nats-user", "sysmon"], true),
                Exercise("wrong password", new() { ["NATSJS_NATS_PASSWORD"] = wrongPassword }, ["--nats-url", url, "--nats-user", "sysmon"], true),
                Exercise("password in the URL", new(), ["--nats-url", $"nats://sysmon:{natsPassword}@127.0.0.1:{clientPort}"], true),
                Exercise("password in a wrong URL", new(), ["--nats-url", $"http://sysmon:{wrongPassword}@127.0.0.1:{clientPort}"], false),
                // A setting error beside a password file: the message names the file, never its content.
                Exercise("password file, bad interval", new(), ["--nats-url", url, "--nats-user", "sysmon", "--nats-password-file", pwFile, "--interval", "soon"], false),
                Exercise("basic-auth password as a flag value", new(), ["--monitor-urls", $"http://prometheus:{basicPassword}@127.0.0.1:{monitorPort}"], true));

            Assert.Contains(outputs, o => o.What == "right password /metrics" && o.Text.Contains("natsjs_up{server=\"s1\"} 1", StringComparison.Ordinal));
            Assert.Contains(outputs, o => o.What == "wrong password log" && o.Text.Contains("refused the credentials", StringComparison.Ordinal));
            foreach (var (what, text) in outputs)
                foreach (var secret in secrets)
                    Assert.False(text.Contains(secret, StringComparison.Ordinal), $"secret {secret[..4]}… leaked in {what}:\n{text}");
            output.WriteLine($"{outputs.Count} outputs searched for {secrets.Length} secrets, {outputs.Sum(o => o.Text.Length)} characters: none found");
        }
        finally
        {
            nats.Kill();
            await nats.WaitForExitAsync();
        }
    }

    /// <summary>
    /// A request held in flight by a slow bcrypt check (cost 15: seconds) keeps a graceful stop
    /// busy, so the test can see the stop's bound and the second signal's effect.
    /// </summary>
    private async Task<(ExporterRun Run, Task Pending)> StartBusyAsync(string hashFile)
    {
        var env = new Dictionary<string, string>
        {
            ["NATSJS_MONITOR_URLS"] = DeadMonitor(),
            ["NATSJS_WEB_CONFIG_FILE"] = hashFile,
        };
        var run = ExporterRun.Start(env, []);
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                var status = (await probe.GetAsync($"http://127.0.0.1:{run.Port}/healthz")).StatusCode; // 401 fast: no credentials
                if (status == HttpStatusCode.Unauthorized) break;
            }
            catch (Exception) when (DateTime.UtcNow < deadline && !run.HasExited) { }
            await Task.Delay(200);
        }
        var slow = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var pending = GetAsync(slow, $"http://127.0.0.1:{run.Port}/metrics", Basic("prometheus", "wrong-but-slow-to-check"))
            .ContinueWith(_ => slow.Dispose(), TaskScheduler.Default);
        await Task.Delay(300);
        return (run, pending);
    }

    [Fact]
    public async Task Sigterm_stops_within_5_seconds_and_a_second_sigterm_at_once()
    {
        var hashFile = WebConfig("irrelevant", 15, null);

        var (first, pending1) = await StartBusyAsync(hashFile);
        await using (first)
        {
            var sw = Stopwatch.StartNew();
            first.Signal(Signals.SIGTERM);
            Assert.True(await first.WaitExitAsync(TimeSpan.FromSeconds(5)), "not stopped within 5 s after SIGTERM:\n" + first.AllOutput);
            output.WriteLine($"one SIGTERM: exited after {sw.ElapsedMilliseconds} ms with code {first.ExitCode}");
            Assert.Equal(0, first.ExitCode);
            Assert.Contains(first.Output, l => l.Contains("SIGTERM received: stopping", StringComparison.Ordinal));
        }
        await pending1;

        var (second, pending2) = await StartBusyAsync(hashFile);
        await using (second)
        {
            var sw = Stopwatch.StartNew();
            second.Signal(Signals.SIGTERM);
            await Task.Delay(200);
            second.Signal(Signals.SIGTERM);
            Assert.True(await second.WaitExitAsync(TimeSpan.FromSeconds(5)), "not stopped after two SIGTERMs:\n" + second.AllOutput);
            output.WriteLine($"two SIGTERMs: exited after {sw.ElapsedMilliseconds} ms with code {second.ExitCode}");
            Assert.Equal(143, second.ExitCode);
            Assert.Contains(second.Output, l => l.Contains("SIGTERM received again: exiting now", StringComparison.Ordinal));
        }
        await pending2;
    }
}
