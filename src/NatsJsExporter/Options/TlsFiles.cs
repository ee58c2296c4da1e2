using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace NatsJsExporter.Options;

/// <summary>Reads PEM CA bundles named by options (checked at start, used again by the sources).</summary>
public static class TlsFiles
{
    public static bool TryLoadCa(string path, out X509Certificate2Collection certificates, out string error)
    {
        certificates = [];
        if (!FileChecks.TryReadAllText(path, out var pem, out error)) return false;
        try
        {
            certificates.ImportFromPem(pem);
        }
        catch (CryptographicException)
        {
            error = $"\"{path}\" is not a PEM certificate bundle (the certificate inside cannot be decoded)";
            return false;
        }
        if (certificates.Count == 0)
        {
            error = $"\"{path}\" holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
            return false;
        }
        return true;
    }
}
