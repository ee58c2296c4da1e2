using System.Net;
using NatsJsExporter.Options;

namespace NatsJsExporter.Commands;

/// <summary>
/// <c>natsjs-exporter --healthcheck</c>: asks the running exporter's /healthz (over TLS when the web
/// config has a certificate; the certificate is not checked, it is our own process on loopback) and
/// exits 0 when it answers (401 counts: the process answers, credentials are not needed for liveness).
/// When the web config requires client certificates (RequireAnyClientCert, RequireAndVerifyClientCert)
/// the healthcheck has none to present: the exporter then ends the TLS handshake after presenting its
/// own certificate, and that counts as alive too (a process that is down or hung presents nothing).
/// For a container HEALTHCHECK, where the runtime image has no curl.
/// </summary>
public static class HealthcheckCommand
{
    public static async Task<int> RunAsync(ExporterOptions options)
    {
        var host = options.ListenHost is "" or "*" or "0.0.0.0" or "localhost" ? "127.0.0.1"
            : options.ListenHost == "[::]" || options.ListenAddress?.Equals(IPAddress.IPv6Any) == true ? "[::1]"
            : options.ListenHost;
        var scheme = options.Web is { Tls: true } ? "https" : "http";
        bool serverCertificateSeen = false;
        using var http = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    serverCertificateSeen |= certificate is not null;
                    return true;
                },
            },
        })
        { Timeout = TimeSpan.FromSeconds(5) };
        var url = $"{scheme}://{host}:{options.ListenPort}/healthz";
        try
        {
            using var response = await http.GetAsync(url);
            if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.Unauthorized) return 0;
            await Console.Error.WriteLineAsync($"natsjs-exporter: healthcheck: /healthz answered HTTP {(int)response.StatusCode}");
            return 1;
        }
        catch (HttpRequestException) when (options.Web is { RequiresClientCertificate: true } && serverCertificateSeen)
        {
            await Console.Out.WriteLineAsync($"natsjs-exporter: healthcheck: {url}: alive (TLS handshake reached; the exporter requires a client certificate, so /healthz was not asked)");
            return 0;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"natsjs-exporter: healthcheck: {url}: {ex.Message}");
            return 1;
        }
    }
}
