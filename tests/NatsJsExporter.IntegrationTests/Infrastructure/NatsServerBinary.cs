namespace NatsJsExporter.IntegrationTests.Infrastructure;

/// <summary>
/// Finds nats-server: $NATS_SERVER_BIN, then Debian's /usr/sbin/nats-server, then PATH.
/// A missing binary fails the test (never a skip) with what to do.
/// </summary>
public static class NatsServerBinary
{
    public static string Path
    {
        get
        {
            if (Environment.GetEnvironmentVariable("NATS_SERVER_BIN") is { Length: > 0 } env)
            {
                if (!File.Exists(env)) throw new InvalidOperationException($"NATS_SERVER_BIN={env} does not exist");
                return env;
            }
            var candidates = new[] { "/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server" }
                .Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => System.IO.Path.Combine(d, "nats-server")));
            return candidates.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException("nats-server not found: run scripts/install-deps.sh (Debian package nats-server) or set NATS_SERVER_BIN");
        }
    }
}
