namespace NatsJsExporter.Hosting;

/// <summary>
/// Keeps the exporter's memory flat at scale. A large poll parses hundreds of megabytes of /jsz
/// into objects that are all dead once the snapshot is merged. Left to itself the GC collects them a
/// cycle or two later, so the peak holds two or three polls' worth. After a poll that allocated a
/// lot, a full collection is started in the background (concurrent marking: requests keep being
/// served; a blocking, compacting one paused every /metrics request in flight for 0.3-0.5 s at
/// 10,000 streams). After a poll in which an answer was aborted at --max-response-size, the
/// collection blocks and compacts: the objects parsed from it are garbage at once, and a target
/// that keeps sending too much must not stack one aborted answer's objects on the last one's.
/// </summary>
internal static class PollMemory
{
    /// <summary>Polls that allocated less than this (a few hundred streams) leave the GC alone.</summary>
    public const long Threshold = 64L * 1024 * 1024;

    private static TimeSpan _pausedBefore;

    /// <summary>How long the GC paused the process (all threads) since the previous call.</summary>
    public static TimeSpan PausedSinceLastCall()
    {
        var total = GC.GetTotalPauseDuration();
        var since = total - _pausedBefore;
        _pausedBefore = total;
        return since;
    }

    /// <summary>Starts a full collection when the poll allocated past <see cref="Threshold"/> (blocking after an aborted answer); returns how long the call took.</summary>
    public static TimeSpan ReleaseParsedDocuments(long allocatedAtPollStart, bool answerAborted = false)
    {
        if (GC.GetTotalAllocatedBytes() - allocatedAtPollStart < Threshold) return TimeSpan.Zero;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        if (answerAborted) GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        else GC.Collect(2, GCCollectionMode.Forced, blocking: false);
        return System.Diagnostics.Stopwatch.GetElapsedTime(start);
    }
}
