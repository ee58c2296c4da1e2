namespace NatsJsExporter.Hosting;

/// <summary>
/// Keeps the exporter's memory flat at scale. A large poll parses hundreds of megabytes of /jsz
/// into objects that are all dead once the snapshot is merged, just before the exposition (one
/// large array) is rendered. Left to itself the GC collects them a cycle or two later, so the peak
/// holds two or three polls' worth. One blocking full collection at that point, only after a poll
/// that allocated a lot, costs a few milliseconds (what survives is only the snapshots and the
/// served exposition) and bounds the peak to one poll.
/// </summary>
internal static class PollMemory
{
    /// <summary>Polls that allocated less than this (a few hundred streams) leave the GC alone.</summary>
    public const long Threshold = 64L * 1024 * 1024;

    /// <summary>Collects when the poll allocated past <see cref="Threshold"/>; returns how long the (blocking) collection took.</summary>
    public static TimeSpan ReleaseParsedDocuments(long allocatedAtPollStart)
    {
        if (GC.GetTotalAllocatedBytes() - allocatedAtPollStart < Threshold) return TimeSpan.Zero;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return System.Diagnostics.Stopwatch.GetElapsedTime(start);
    }
}
