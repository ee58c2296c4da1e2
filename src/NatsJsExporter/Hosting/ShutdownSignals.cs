using System.Runtime.InteropServices;

namespace NatsJsExporter.Hosting;

/// <summary>
/// The first SIGTERM/SIGINT starts a graceful stop (the host's own handler: the poll in flight is
/// cancelled, requests end, logs are flushed; bounded by <see cref="GracePeriod"/>). A second one
/// ends the process at once, with exit code 128+signal.
/// </summary>
public sealed class ShutdownSignals : IDisposable
{
    public static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(3);
    private readonly PosixSignalRegistration[] _registrations;
    private int _count;

    private ShutdownSignals(Action<string> log)
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => OnSignal(ctx, 143, log)),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => OnSignal(ctx, 130, log)),
        ];
    }

    public static ShutdownSignals Register(Action<string> log) => new(log);

    private void OnSignal(PosixSignalContext ctx, int exitCode, Action<string> log)
    {
        if (Interlocked.Increment(ref _count) == 1)
        {
            log($"{ctx.Signal} received: stopping (at most {GracePeriod.TotalSeconds:0}s; send it again to stop at once)");
            return; // the host's handler does the graceful part
        }
        log($"{ctx.Signal} received again: exiting now");
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) Exit(exitCode);
        Environment.Exit(exitCode);
    }

    // _exit(2): no managed shutdown, no waiting on the host (which is what the first signal does).
    [DllImport("libc", EntryPoint = "_exit")]
    private static extern void Exit(int status);

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
    }
}
