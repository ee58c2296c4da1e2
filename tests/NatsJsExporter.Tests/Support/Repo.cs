namespace NatsJsExporter.Tests.Support;

/// <summary>Paths inside the repository checkout (found by walking up to NatsJsExporter.sln).</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string TestData => Path.Combine(Root, "tests", "NatsJsExporter.Tests", "testdata");

    public static string Path_(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NatsJsExporter.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("NatsJsExporter.sln not found above " + AppContext.BaseDirectory);
    }
}
