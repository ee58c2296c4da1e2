using System.Diagnostics;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

/// <summary>
/// The server generations every cluster scenario runs on, all Debian packages: 2.9.10
/// (bookworm, installed by scripts/install-deps.sh), 2.10.27 (trixie) and 2.15.1 (sid), the
/// latter two unpacked into .cache/nats-server/ by scripts/fetch-nats-servers.sh.
/// A missing or wrong binary fails the test with what to run; it is never skipped.
/// </summary>
public static class NatsVersions
{
    public static TheoryData<string> All => new("2.9.10", "2.10.27", "2.15.1");

    private static readonly Dictionary<string, string> Checked = new();

    public static string Binary(string version)
    {
        lock (Checked)
        {
            if (Checked.TryGetValue(version, out var known)) return known;
            string path = version switch
            {
                "2.9.10" => NatsServerBinary.Path,
                "2.10.27" => CachePath("trixie"),
                "2.15.1" => CachePath("sid"),
                _ => throw new ArgumentOutOfRangeException(nameof(version)),
            };
            if (!File.Exists(path))
                throw new InvalidOperationException($"nats-server {version} not found at {path}: run scripts/fetch-nats-servers.sh (scripts/test.sh does)");
            var psi = new ProcessStartInfo(path, "--version") { RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            if (!output.Contains("v" + version, StringComparison.Ordinal))
                throw new InvalidOperationException($"{path} is \"{output}\", expected v{version}");
            Checked[version] = path;
            return path;
        }
    }

    private static string CachePath(string suite)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NatsJsExporter.sln"))) dir = dir.Parent;
        var root = dir?.FullName ?? throw new InvalidOperationException("repository root not found");
        return Path.Combine(root, ".cache", "nats-server", suite, "usr", "sbin", "nats-server");
    }
}
