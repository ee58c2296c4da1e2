using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NatsJsExporter.Options;
using NatsJsExporter.Sources;

namespace NatsJsExporter.Hosting;

public static class ServiceCollectionExtensions
{
    /// <summary>
    /// The settings: <see cref="ExporterSettings"/> bound from the configuration (file, environment, flags),
    /// validated by <see cref="ExporterSettingsValidator"/> when the host starts, and the
    /// <see cref="ExporterOptions"/> built from them.
    /// </summary>
    public static IServiceCollection AddExporterOptions(this IServiceCollection services, ExporterConfiguration configuration)
    {
        services.AddSingleton(configuration);
        services.TryAddSingleton<ExporterSettingsValidator>();
        services.AddSingleton<IValidateOptions<ExporterSettings>>(sp => sp.GetRequiredService<ExporterSettingsValidator>());
        services.AddOptions<ExporterSettings>().Bind(configuration.Settings).ValidateOnStart();
        services.TryAddSingleton(sp => sp.GetRequiredService<ExporterSettingsValidator>().OptionsFor(sp.GetRequiredService<IOptions<ExporterSettings>>().Value));
        return services;
    }

    /// <summary>The configured source (HTTP monitor ports or the system account), the poller and the snapshot store.</summary>
    public static IServiceCollection AddJszPolling(this IServiceCollection services, ExporterOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<ExpositionCache>();
        services.AddSingleton<SnapshotStore>();
        services.AddSingleton<IJszSource>(_ => CreateSource(options));
        services.AddSingleton(sp => new Poller(
            sp.GetRequiredService<IJszSource>(), sp.GetRequiredService<SnapshotStore>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("NatsJsExporter.Poller"), options.Interval, options.Filter));
        services.AddHostedService(sp => new PollerService(sp.GetRequiredService<Poller>(), options.Interval, sp.GetRequiredService<ILogger<PollerService>>()));
        return services;
    }

    public static IJszSource CreateSource(ExporterOptions options) => options.SystemAccount is { } system
        ? new SystemAccountSource(system, options.Timeout, options.AccountPageSize, options.Filter.Consumers, raftz: Raftz(options))
        : new HttpMonitorSource(HttpMonitorSource.CreateHttpClient(options.Timeout, options.MonitorTlsCaFile, options.MonitorTlsInsecure), options.MonitorUrls, options.Timeout,
            options.AccountPageSize, options.MaxResponseBytes, options.Filter.Consumers, Raftz(options)) { EveryReplica = options.Filter.ReplicaComparison };

    private static RaftzGroups Raftz(ExporterOptions options) => options.RaftzGroups switch
    {
        "all" => RaftzGroups.All,
        "off" => RaftzGroups.Off,
        _ => RaftzGroups.Meta,
    };

    /// <summary>Where the exporter gets its data, safe to log (no credentials).</summary>
    public static string DescribeSource(ExporterOptions options) => options.SystemAccount is { } system
        ? $"the system account at {system.SafeUrl} ({system.Origin})"
        : $"{options.MonitorUrls.Count} monitor ports: {string.Join(", ", options.MonitorUrls.Select(HttpMonitorSource.TargetLabel))}";
}
