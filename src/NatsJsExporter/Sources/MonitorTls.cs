using System.Net.Security;
using NatsJsExporter.Options;
using System.Security.Cryptography.X509Certificates;

namespace NatsJsExporter.Sources;

/// <summary>
/// Certificate checks for https:// monitor URLs: the system's trust store by default, only the CA
/// bundle of --monitor-tls-ca when given, or none at all with --monitor-tls-insecure (logged at start).
/// </summary>
public static class MonitorTls
{
    /// <summary>The client TLS options for the monitor HTTP client.</summary>
    public static SslClientAuthenticationOptions ClientOptions(string? caFile, bool insecure)
    {
        var ssl = new SslClientAuthenticationOptions();
        if (insecure)
        {
            ssl.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        }
        else if (caFile is not null)
        {
            if (!TlsFiles.TryLoadCa(caFile, out var roots, out var error)) throw new InvalidOperationException(error);
            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                certificate is not null && ValidateWithRoots(new X509Certificate2(certificate), roots, errors);
        }
        return ssl;
    }

    /// <summary>Chain to one of the given roots only; the host name must still match.</summary>
    internal static bool ValidateWithRoots(X509Certificate2 certificate, X509Certificate2Collection roots, SslPolicyErrors errors)
    {
        if ((errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
