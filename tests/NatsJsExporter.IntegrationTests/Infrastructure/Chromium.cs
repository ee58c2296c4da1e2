using Microsoft.Playwright;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

/// <summary>
/// Headless Chromium from Debian's `chromium` package, driven by Playwright (no browser download).
/// Playwright needs the real binary, not Debian's /usr/bin/chromium wrapper script. A missing
/// browser fails the test (never a skip) with what to do.
/// </summary>
public static class Chromium
{
    public static string ExecutablePath
    {
        get
        {
            if (Environment.GetEnvironmentVariable("CHROMIUM_BIN") is { Length: > 0 } env)
                return File.Exists(env) ? env : throw new InvalidOperationException($"CHROMIUM_BIN={env} does not exist");
            return new[] { "/usr/lib/chromium/chromium", "/usr/lib/chromium-browser/chromium-browser" }.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException("chromium not found: run scripts/install-deps.sh (Debian package chromium) or set CHROMIUM_BIN to the browser binary");
        }
    }

    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        var path = ExecutablePath;
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = path,
                Headless = true,
                Timeout = 60_000,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
            });
            return (playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>Where screenshots go: TestResults/screenshots at the repository root (git-ignored).</summary>
    public static string ScreenshotDir
    {
        get
        {
            var dir = Path.Combine(RepoRoot, "TestResults", "screenshots");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NatsJsExporter.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("NatsJsExporter.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
