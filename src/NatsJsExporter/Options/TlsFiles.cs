using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace NatsJsExporter.Options;

/// <summary>Reads PEM CA bundles named by options (checked at start, used again by the sources).</summary>
public static class TlsFiles
{
    public static bool TryLoadCa(string path, out X509Certificate2Collection certificates, out string error)
    {
        certificates = [];
        error = "";
        if (!File.Exists(path))
        {
            error = $"file \"{path}\" does not exist";
            return false;
        }
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            error = $"cannot read a PEM certificate from \"{path}\" ({ex.GetType().Name})";
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
