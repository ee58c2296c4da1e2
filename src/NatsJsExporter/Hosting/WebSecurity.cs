using System.Net.Security;
using System.Runtime.Versioning;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using NatsJsExporter.Options;

namespace NatsJsExporter.Hosting;

/// <summary>
/// The web config (<c>--web-config-file</c>) applied to the exporter's own endpoints: TLS and client
/// certificates in the Kestrel listener (a refused certificate ends the TLS handshake, as in the
/// exporter-toolkit), extra response headers, and basic auth as an authentication scheme that the
/// fallback authorization policy demands of every request.
/// </summary>
public static class WebSecurity
{
    public const string Realm = "natsjs-exporter";
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    /// <summary>The listener (with TLS and client certificates when configured) and the basic-auth services.</summary>
    public static WebApplicationBuilder AddWebSecurity(this WebApplicationBuilder builder, ExporterOptions options)
    {
        builder.WebHost.ConfigureKestrel(kestrel => Listen(kestrel, options));
        if (options.Web is { BasicAuth: true } web)
        {
            builder.Services.AddSingleton(new BasicAuthChecker(web.BasicAuthUsers));
            builder.Services.AddAuthentication(BasicAuthenticationHandler.SchemeName)
                .AddScheme<BasicAuthenticationOptions, BasicAuthenticationHandler>(BasicAuthenticationHandler.SchemeName, o => o.Realm = Realm);
            // No endpoint says otherwise, so every one of them (and an unknown path) needs a user.
            builder.Services.AddAuthorizationBuilder().SetFallbackPolicy(
                new AuthorizationPolicyBuilder(BasicAuthenticationHandler.SchemeName).RequireAuthenticatedUser().Build());
        }
        return builder;
    }

    /// <summary>The configured response headers, then basic auth, in front of every endpoint.</summary>
    public static WebApplication UseWebSecurity(this WebApplication app, ExporterOptions options)
    {
        if (options.Web is not { } web) return app;
        if (web.Headers.Count > 0)
        {
            app.Use((ctx, next) =>
            {
                foreach (var (name, value) in web.Headers) ctx.Response.Headers[name] = value;
                return next(ctx);
            });
        }
        if (web.BasicAuth)
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }
        return app;
    }

    /// <summary>Listens on the configured address, with TLS when the web config has a certificate.</summary>
    public static void Listen(KestrelServerOptions kestrel, ExporterOptions options)
    {
        var https = options.Web is { Tls: true } web ? Https(web) : null;
        Action<ListenOptions> configure = listen =>
        {
            if (https is null) return;
            listen.Protocols = options.Web!.Http2 ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1;
            listen.UseHttps(https);
        };
        if (options.ListenHost == "localhost") kestrel.ListenLocalhost(options.ListenPort, configure);
        else kestrel.Listen(options.ListenAddress!, options.ListenPort, configure);
    }

    /// <summary>The toolkit's tls_server_config as Kestrel's HTTPS options.</summary>
    public static HttpsConnectionAdapterOptions Https(WebConfig web)
    {
        var https = new HttpsConnectionAdapterOptions
        {
            ServerCertificate = LoadCertificate(web.CertFile!, web.KeyFile!),
            SslProtocols = web.MinVersion == web.MaxVersion ? web.MinVersion : SslProtocols.Tls12 | SslProtocols.Tls13,
            CheckCertificateRevocation = false,
            ClientCertificateMode = web.ClientAuth switch
            {
                ClientAuthType.RequestClientCert or ClientAuthType.VerifyClientCertIfGiven => ClientCertificateMode.AllowCertificate,
                ClientAuthType.RequireAnyClientCert or ClientAuthType.RequireAndVerifyClientCert => ClientCertificateMode.RequireCertificate,
                _ => ClientCertificateMode.NoCertificate,
            },
        };
        if (web.ClientAuth is ClientAuthType.RequestClientCert or ClientAuthType.RequireAnyClientCert)
        {
            https.AllowAnyClientCertificate(); // asked for, not checked: the toolkit's meaning of these two
        }
        else if (web.ClientAuth is ClientAuthType.VerifyClientCertIfGiven or ClientAuthType.RequireAndVerifyClientCert)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(web.ClientCaFile!);
            https.ClientCertificateValidation = (certificate, presented, _) => IssuedBy(roots, certificate, presented);
        }
        if (web.CipherSuites.Count > 0 && (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()))
        {
            var policy = CipherPolicy(web.CipherSuites);
            https.OnAuthenticate = (_, ssl) => ssl.CipherSuitesPolicy = policy;
        }
        return https;
    }

    /// <summary>
    /// A client certificate is good when it chains to client_ca_file (and nothing else: not the
    /// system's CAs) and, when it lists extended key usages, allows client authentication.
    /// Intermediates the client sent are used to build the chain, never trusted as roots.
    /// </summary>
    public static bool IssuedBy(X509Certificate2Collection roots, X509Certificate2 certificate, X509Chain? presented)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        if (presented is not null)
            foreach (var element in presented.ChainElements.Skip(1))
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        return chain.Build(certificate);
    }

    /// <summary>The listed TLS 1.2 suites; TLS 1.3 keeps its own suites, which Go does not let a config change either.</summary>
    [UnsupportedOSPlatform("windows")]
    private static CipherSuitesPolicy CipherPolicy(IReadOnlyList<TlsCipherSuite> suites) =>
        new(suites.Concat([TlsCipherSuite.TLS_AES_128_GCM_SHA256, TlsCipherSuite.TLS_AES_256_GCM_SHA384, TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256]).Distinct());

    /// <summary>A PEM certificate and key; re-exported so the key is usable by SslStream on every platform.</summary>
    public static X509Certificate2 LoadCertificate(string certFile, string keyFile)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }
}
