using System.Diagnostics;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

/// <summary>
/// CPU duty-cycling of one process: SIGCONT, run for <c>running</c>, SIGSTOP, pause for
/// <c>period - running</c>, until disposed (which leaves the process running). With a period of
/// 100 ms the process never stops for long (heartbeats, /jsz and Raft replies still come back
/// within a fraction of a second, far inside election timeouts and the exporter's --timeout),
/// but it only gets <c>running/period</c> of the wall clock: a slow server on a fast loopback,
/// e.g. to stretch a replica's catch-up after a restart. A dedicated thread (not the thread
/// pool) keeps the rhythm under load.
/// </summary>
public sealed class Throttle : IDisposable
{
    private readonly int _pid;
    private readonly TimeSpan _running;
    private readonly TimeSpan _stopped;
    private readonly Thread _thread;
    private volatile bool _stop;

    /// <summary>Cycles completed (SIGSTOP sent and the process resumed).</summary>
    public long Cycles { get; private set; }

    /// <summary>How long it ran, from the first SIGSTOP to dispose.</summary>
    public TimeSpan Elapsed => _watch.Elapsed;
    private readonly Stopwatch _watch = new();

    public Throttle(int pid, TimeSpan period, double runningShare)
    {
        if (runningShare is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(runningShare));
        _pid = pid;
        _running = period * runningShare;
        _stopped = period - _running;
        _thread = new Thread(Loop) { IsBackground = true, Name = $"throttle {pid}" };
        _watch.Start();
        _thread.Start();
    }

    private void Loop()
    {
        try
        {
            while (!_stop)
            {
                Thread.Sleep(_running);
                if (_stop) break;
                Signals.Send(_pid, Signals.SIGSTOP);
                Thread.Sleep(_stopped);
                Signals.Send(_pid, Signals.SIGCONT);
                Cycles++;
            }
        }
        catch (InvalidOperationException) { } // the process exited
        finally
        {
            try { Signals.Send(_pid, Signals.SIGCONT); } catch (InvalidOperationException) { }
        }
    }

    /// <summary>Stops cycling and leaves the process running (SIGCONT).</summary>
    public void Dispose()
    {
        _stop = true;
        _thread.Join();
        _watch.Stop();
    }
}
