using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using NatsJsExporter.Options;

namespace NatsJsExporter.Hosting;

/// <summary>TLS on the listener and HTTP basic auth (bcrypt hashes) on every endpoint, from the web config.</summary>
public static class WebSecurity
{
    public const string Realm = "natsjs-exporter";

    /// <summary>Listens on the configured address, with TLS when the web config has a certificate.</summary>
    public static void Listen(KestrelServerOptions kestrel, ExporterOptions options)
    {
        Action<ListenOptions> configure = listen =>
        {
            if (options.Web is { Tls: true } web)
            {
                listen.UseHttps(new Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions
                {
                    ServerCertificate = LoadCertificate(web.CertFile!, web.KeyFile!),
                    SslProtocols = web.MinVersion == System.Security.Authentication.SslProtocols.Tls13
                        ? System.Security.Authentication.SslProtocols.Tls13
                        : System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
                });
            }
        };
        if (options.ListenHost == "localhost") kestrel.ListenLocalhost(options.ListenPort, configure);
        else kestrel.Listen(options.ListenAddress!, options.ListenPort, configure);
    }

    /// <summary>A PEM certificate and key; re-exported so the key is usable by SslStream on every platform.</summary>
    public static X509Certificate2 LoadCertificate(string certFile, string keyFile)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Every request needs a user and password from basic_auth_users, when any are configured.</summary>
    public static void UseBasicAuth(this IApplicationBuilder app, WebConfig? web)
    {
        if (web is not { BasicAuth: true }) return;
        var checker = new BasicAuthChecker(web.BasicAuthUsers);
        app.Use(async (ctx, next) =>
        {
            if (checker.Check(ctx.Request.Headers.Authorization.ToString()))
            {
                await next(ctx);
                return;
            }
            ctx.Response.StatusCode = StatusCodes.Status401Unauthorized;
            ctx.Response.Headers.WWWAuthenticate = $"Basic realm=\"{Realm}\", charset=\"UTF-8\"";
            ctx.Response.ContentType = "text/plain; charset=utf-8";
            await ctx.Response.WriteAsync("Unauthorized\n");
        });
    }
}

/// <summary>
/// Checks "Basic base64(user:password)" against bcrypt hashes. bcrypt is slow on purpose (tens of
/// milliseconds), so a successful check is remembered by a SHA-256 of the header (never the
/// password itself); an unknown user costs the same as a wrong password.
/// </summary>
public sealed class BasicAuthChecker(IReadOnlyDictionary<string, string> users)
{
    private const int MaxCached = 1024;
    // A valid hash of a random password, so unknown users take as long as known ones.
    private static readonly string Dummy = BCrypt.Net.BCrypt.HashPassword(Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)), 10);
    private readonly ConcurrentDictionary<string, byte> _good = new(StringComparer.Ordinal);

    public bool Check(string authorization)
    {
        if (!authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return false;
        var token = authorization[6..].Trim();
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        if (_good.ContainsKey(key)) return true;
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException)
        {
            return false;
        }
        int colon = decoded.IndexOf(':');
        if (colon < 0) return false;
        var user = decoded[..colon];
        var password = decoded[(colon + 1)..];
        bool known = users.TryGetValue(user, out var hash);
        bool ok;
        try
        {
            ok = BCrypt.Net.BCrypt.Verify(password, known ? hash : Dummy) && known;
        }
        catch (BCrypt.Net.SaltParseException)
        {
            ok = false;
        }
        if (ok)
        {
            if (_good.Count >= MaxCached) _good.Clear();
            _good[key] = 0;
        }
        return ok;
    }
}
