using NatsJsExporter.Commands;

// natsjs-exporter [options] | report [section] [--json] [options] | healthcheck [options] | --version | --help
return await ExporterCommandLine.RunAsync(args, CommandContext.FromProcess());
