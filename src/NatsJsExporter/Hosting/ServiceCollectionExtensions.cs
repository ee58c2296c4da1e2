using NatsJsExporter.Options;
using NatsJsExporter.Sources;

namespace NatsJsExporter.Hosting;

public static class ServiceCollectionExtensions
{
    /// <summary>The HTTP monitor source, the poller and the snapshot store.</summary>
    public static IServiceCollection AddJszPolling(this IServiceCollection services, ExporterOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<ExpositionCache>();
        services.AddSingleton<SnapshotStore>();
        services.AddSingleton<IJszSource>(_ => new HttpMonitorSource(
            HttpMonitorSource.CreateHttpClient(options.Timeout), options.MonitorUrls, options.Timeout, options.AccountPageSize, options.MaxResponseBytes));
        services.AddSingleton(sp => new Poller(
            sp.GetRequiredService<IJszSource>(), sp.GetRequiredService<SnapshotStore>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("NatsJsExporter.Poller"), options.Interval));
        services.AddHostedService(sp => new PollerService(sp.GetRequiredService<Poller>(), options.Interval, sp.GetRequiredService<ILogger<PollerService>>()));
        return services;
    }
}
