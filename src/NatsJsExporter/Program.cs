using System.Net.Sockets;
using NatsJsExporter.Hosting;
using NatsJsExporter.Options;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
    .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);
if (args is ["report", ..]) return await NatsJsExporter.Views.ReportCommand.RunAsync(args[1..], env, Directory.GetCurrentDirectory());
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
    var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
    builder.Host.UseSerilog();
    builder.WebHost.ConfigureKestrel(k =>
    {
        if (options.ListenHost == "localhost") k.ListenLocalhost(options.ListenPort);
        else k.Listen(options.ListenAddress!, options.ListenPort);
    });
    builder.Services.AddJszPolling(options);

    var app = builder.Build();
    app.MapExporterEndpoints();
    await app.StartAsync();
    Log.Information("NatsJsExporter {Version} serving http://{Listen}:{Port}/metrics, polling {Source} every {Interval}s",
        NatsJsExporter.Hosting.Poller.Version, options.ListenHost, options.ListenPort, ServiceCollectionExtensions.DescribeSource(options), options.Interval.TotalSeconds);
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
