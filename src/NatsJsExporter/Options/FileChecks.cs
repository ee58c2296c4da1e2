namespace NatsJsExporter.Options;

/// <summary>Why a file named by a setting cannot be used, in words ("permission denied", "is a directory"), never an exception's type name.</summary>
public static class FileChecks
{
    /// <summary>null when the file can be opened for reading; otherwise what is wrong, naming the file.</summary>
    public static string? Problem(string path)
    {
        try
        {
            using var _ = Open(path);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Describe(path, ex);
        }
    }

    public static bool TryReadAllText(string path, out string text, out string error)
    {
        text = error = "";
        try
        {
            using var reader = new StreamReader(Open(path));
            text = reader.ReadToEnd();
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = Describe(path, ex);
            return false;
        }
    }

    public static bool TryReadAllBytes(string path, out byte[] bytes, out string error)
    {
        bytes = [];
        error = "";
        try
        {
            using var stream = Open(path);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            bytes = copy.ToArray();
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = Describe(path, ex);
            return false;
        }
    }

    private static FileStream Open(string path) =>
        Directory.Exists(path) ? throw new IOException("is a directory") : File.OpenRead(path);

    private static string Describe(string path, Exception ex) => ex switch
    {
        FileNotFoundException or DirectoryNotFoundException => $"file \"{path}\" does not exist",
        UnauthorizedAccessException => $"cannot read \"{path}\": permission denied",
        IOException { Message: "is a directory" } => $"\"{path}\" is a directory, not a file",
        PathTooLongException => $"cannot read \"{path}\": the path is too long",
        _ => $"cannot read \"{path}\": {ex.Message.TrimEnd('.')}",
    };
}
