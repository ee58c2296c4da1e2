using System.CommandLine;
using System.Net.Sockets;
using NatsJsExporter.Hosting;
using NatsJsExporter.Options;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace NatsJsExporter.Commands;

/// <summary>`natsjs-exporter [options]`: the exporter itself (poll, serve /metrics and the pages) until SIGTERM/SIGINT.</summary>
public static class ServeCommand
{
    public static async Task<int> RunAsync(ParseResult parsed, CommandContext context, CancellationToken cancellationToken)
    {
        var (resolved, configuration) = await context.ResolveAsync(parsed, ExporterCommandLine.Name);
        if (resolved is not { } options) return ExporterCommandLine.ExitBadSettings;
        Log.Logger = CreateLogger(options);

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
            builder.Services.AddSingleton<IHostLifetime, SignalHostLifetime>(); // signals: ShutdownSignals alone
            builder.Services.AddExporterOptions(configuration);
            builder.Services.AddJszPolling(options);
            using var signals = ShutdownSignals.Register(message => Log.Warning("{Message}", message));

            var app = builder.Build();
            app.UseWebSecurity(options); // response headers; basic auth on every endpoint when basic_auth_users are configured
            app.MapExporterEndpoints();
            signals.OnStop(app.Lifetime.StopApplication);
            await app.StartAsync(cancellationToken);
            Log.Information("NatsJsExporter {Version} serving {Scheme}://{Listen}:{Port}/metrics{Auth}, polling {Source} every {Interval}s",
                BuildInfo.Version, options.Web is { Tls: true } ? "https" : "http", options.ListenHost, options.ListenPort,
                options.Web is { BasicAuth: true } web ? $" (basic auth, {web.BasicAuthUsers.Count} users)" : "",
                ServiceCollectionExtensions.DescribeSource(options), options.Interval.TotalSeconds);
            if (options.MonitorTlsInsecure)
                Log.Warning("INSECURE: --monitor-tls-insecure is set: certificates of https:// monitor URLs are NOT verified; anyone on the path can impersonate the NATS servers. Use --monitor-tls-ca instead");
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        }
        catch (IOException ex) when (ListenProblem(ex) is { } problem)
        {
            await context.Error.WriteLineAsync(
                $"{ExporterCommandLine.Name}: cannot listen on {options.ListenHost}:{options.ListenPort}: {problem}");
            return ExporterCommandLine.ExitBadSettings;
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
    }

    private static Serilog.ILogger CreateLogger(ExporterOptions options)
    {
        var level = options.LogLevel switch
        {
            "debug" => LogEventLevel.Debug,
            "warning" => LogEventLevel.Warning,
            "error" => LogEventLevel.Error,
            _ => LogEventLevel.Information,
        };
        var config = new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("System", LogEventLevel.Warning)
            // A listen socket that cannot be bound is reported once, as one line, by RunAsync.
            .Filter.ByExcluding(e => e.Exception is IOException io && ListenProblem(io) is not null)
            .Enrich.FromLogContext();
        return (options.LogFormat == "json"
            ? config.WriteTo.Console(new CompactJsonFormatter())
            : config.WriteTo.Console(outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffZ} {Level:u3} {Message:lj}{NewLine}{Exception}", formatProvider: System.Globalization.CultureInfo.InvariantCulture))
            .CreateLogger();
    }

    /// <summary>What the user can do about a listen socket Kestrel could not bind (null: not a bind problem).</summary>
    private static string? ListenProblem(IOException ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.AddressAlreadyInUse => "the address is already in use (another exporter, e.g. a second scripts/demo.sh?); stop that process or choose another --listen address",
                    SocketError.AccessDenied => "permission denied (ports below 1024 need privileges); choose a port from 1024 up with --listen",
                    SocketError.AddressNotAvailable => "the address is not one of this machine's; choose one of its addresses or 0.0.0.0 with --listen",
                    _ => null,
                };
            }
        }
        return null;
    }
}
