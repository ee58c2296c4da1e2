using System.Net.Sockets;
using NatsJsExporter.Commands;
using NatsJsExporter.Hosting;
using NatsJsExporter.Options;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
    .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);
if (args is ["report", ..]) return await NatsJsExporter.Commands.ReportCommand.RunAsync(args[1..], env, Directory.GetCurrentDirectory());
// --healthcheck: ask the running exporter's /healthz and exit 0/1 (a container HEALTHCHECK; no curl needed).
bool healthcheck = args.Contains("--healthcheck");
if (healthcheck) args = args.Where(a => a != "--healthcheck").ToArray();
var load = OptionsLoader.Load(args, env, Directory.GetCurrentDirectory());
if (load.HelpRequested)
{
    Console.Out.Write(OptionsLoader.Usage());
    return 0;
}
if (load.Options is not { } options)
{
    foreach (var error in load.Errors) Console.Error.WriteLine($"natsjs-exporter: {error}");
    return 2;
}
if (healthcheck) return await HealthcheckCommand.RunAsync(options);

var level = options.LogLevel switch
{
    "debug" => LogEventLevel.Debug,
    "warning" => LogEventLevel.Warning,
    "error" => LogEventLevel.Error,
    _ => LogEventLevel.Information,
};
var logConfig = new LoggerConfiguration()
    .MinimumLevel.Is(level)
    .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
    .MinimumLevel.Override("System", LogEventLevel.Warning)
    .Enrich.FromLogContext();
Log.Logger = (options.LogFormat == "json"
    ? logConfig.WriteTo.Console(new CompactJsonFormatter())
    : logConfig.WriteTo.Console(outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffZ} {Level:u3} {Message:lj}{NewLine}{Exception}", formatProvider: System.Globalization.CultureInfo.InvariantCulture))
    .CreateLogger();

// Keep prometheus-net's process metrics (CPU, memory, threads); drop its EventCounter and Meter
// adapters, whose names break Prometheus naming rules (promtool check metrics).
Prometheus.Metrics.SuppressDefaultMetrics(new Prometheus.SuppressDefaultMetricOptions
{
    SuppressEventCounters = true,
    SuppressMeters = true,
    SuppressDebugMetrics = true,
});

try
{
    // The host wants a content root; the exporter reads no files through it. Started from a working
    // directory its user cannot enter (e.g. as nobody under a root-only folder), use its own folder.
    var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
    {
        Args = [],
        ContentRootPath = Directory.Exists(Directory.GetCurrentDirectory()) ? null : AppContext.BaseDirectory,
    });
    builder.Host.UseSerilog();
    builder.AddWebSecurity(options); // --web-config-file: TLS, client certificates, basic auth
    builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = ShutdownSignals.GracePeriod);
    builder.Services.AddJszPolling(options);
    using var signals = ShutdownSignals.Register(message => Log.Warning("{Message}", message));

    var app = builder.Build();
    app.UseWebSecurity(options); // response headers; basic auth on every endpoint when basic_auth_users are configured
    app.MapExporterEndpoints();
    await app.StartAsync();
    Log.Information("NatsJsExporter {Version} serving {Scheme}://{Listen}:{Port}/metrics{Auth}, polling {Source} every {Interval}s",
        BuildInfo.Version, options.Web is { Tls: true } ? "https" : "http", options.ListenHost, options.ListenPort,
        options.Web is { BasicAuth: true } web ? $" (basic auth, {web.BasicAuthUsers.Count} users)" : "",
        ServiceCollectionExtensions.DescribeSource(options), options.Interval.TotalSeconds);
    if (options.MonitorTlsInsecure)
        Log.Warning("INSECURE: --monitor-tls-insecure is set: certificates of https:// monitor URLs are NOT verified; anyone on the path can impersonate the NATS servers. Use --monitor-tls-ca instead");
    await app.WaitForShutdownAsync();
    return 0;
}
catch (IOException ex) when (ex.InnerException is SocketException or null && ex.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
{
    Log.Fatal("Cannot listen on {Host}:{Port}: {Message}; pick another --listen address", options.ListenHost, options.ListenPort, ex.Message);
    return 2;
}
catch (Exception ex)
{
    Log.Fatal(ex, "NatsJsExporter stopped unexpectedly");
    return 1;
}
finally
{
    await Log.CloseAndFlushAsync();
}
