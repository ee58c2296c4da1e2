using System.Runtime.InteropServices;

namespace NatsJsExporter.Hosting;

/// <summary>
/// The first SIGTERM/SIGINT is logged, then starts a graceful stop (the poll in flight is cancelled,
/// requests end, logs are flushed; bounded by <see cref="GracePeriod"/>). A second one ends the
/// process at once, with exit code 128+signal. This is the host's only signal handler (see
/// <see cref="SignalHostLifetime"/>): with the host's own console handler as well, the two ran in
/// no fixed order, and the host could finish stopping before the "received" line was written.
/// </summary>
public sealed class ShutdownSignals : IDisposable
{
    public static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(3);
    private readonly PosixSignalRegistration[] _registrations;
    private readonly Action<string> _log;
    private readonly object _gate = new();
    private Action? _stop;
    private bool _stopRequested;
    private int _count;

    private ShutdownSignals(Action<string> log)
    {
        _log = log;
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => OnSignal(ctx, 143)),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => OnSignal(ctx, 130)),
        ];
    }

    public static ShutdownSignals Register(Action<string> log) => new(log);

    /// <summary>What a first signal calls to stop (the host's StopApplication); called at once if a signal came before.</summary>
    public void OnStop(Action stop)
    {
        lock (_gate)
        {
            _stop = stop;
            if (!_stopRequested) return;
        }
        stop();
    }

    private void OnSignal(PosixSignalContext ctx, int exitCode)
    {
        ctx.Cancel = true; // no default termination: the stop below is graceful
        if (Interlocked.Increment(ref _count) == 1)
        {
            _log($"{ctx.Signal} received: stopping (at most {GracePeriod.TotalSeconds:0}s; send it again to stop at once)");
            Action? stop;
            lock (_gate)
            {
                _stopRequested = true;
                stop = _stop;
            }
            stop?.Invoke();
            return;
        }
        _log($"{ctx.Signal} received again: exiting now");
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

/// <summary>A host lifetime that leaves signals to <see cref="ShutdownSignals"/> (the default console lifetime handles them too).</summary>
public sealed class SignalHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
