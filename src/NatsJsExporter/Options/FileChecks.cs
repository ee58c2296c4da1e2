namespace NatsJsExporter.Options;

/// <summary>Why a file named by a setting cannot be used, in words ("permission denied", "is a directory"), never an exception's type name.</summary>
public static class FileChecks
{
    /// <summary>null when the file can be read; otherwise what is wrong, naming the file.</summary>
    public static string? Problem(string path) => TryRead(path, File.ReadAllBytes, out _, out var error) ? null : error;

    public static bool TryReadAllText(string path, out string text, out string error) => TryRead(path, File.ReadAllText, out text, out error);

    public static bool TryReadAllBytes(string path, out byte[] bytes, out string error) => TryRead(path, File.ReadAllBytes, out bytes, out error);

    private static bool TryRead<T>(string path, Func<string, T> read, out T result, out string error)
    {
        result = default!;
        error = "";
        if (Directory.Exists(path))
        {
            error = $"\"{path}\" is a directory, not a file";
            return false;
        }
        try
        {
            result = read(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = ex switch
            {
                FileNotFoundException or DirectoryNotFoundException => $"file \"{path}\" does not exist",
                UnauthorizedAccessException => $"cannot read \"{path}\": permission denied",
                _ => $"cannot read \"{path}\": {ex.Message.TrimEnd('.')}",
            };
            return false;
        }
    }
}
