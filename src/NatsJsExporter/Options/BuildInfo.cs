using System.Reflection;
using System.Runtime.InteropServices;

namespace NatsJsExporter.Options;

/// <summary>The one place that knows this build: version, commit and runtime (--version, the page footer, natsjs_exporter_build_info).</summary>
public static class BuildInfo
{
    private static readonly Assembly Assembly = typeof(BuildInfo).Assembly;

    /// <summary>Major.minor.patch of the exporter, e.g. 0.1.0.</summary>
    public static string Version { get; } =
        Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "0.0.0";

    /// <summary>The git commit the binary was built from ("unknown" when built outside a git checkout).</summary>
    public static string Commit { get; } =
        Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion is { } info
        && info.IndexOf('+') is var plus and >= 0 && plus + 1 < info.Length
            ? info[(plus + 1)..]
            : "unknown";

    /// <summary>e.g. ".NET 10.0.0".</summary>
    public static string Runtime { get; } = RuntimeInformation.FrameworkDescription;
}
