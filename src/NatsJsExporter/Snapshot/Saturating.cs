namespace NatsJsExporter.Snapshot;

/// <summary>
/// Sums of counts that come from servers' answers. Enumerable.Sum throws on overflow, and a damaged
/// or hostile answer can carry any 64-bit value: a sum saturates at long.MaxValue/MinValue instead.
/// </summary>
public static class Saturating
{
    public static long Sum<T>(IEnumerable<T> items, Func<T, long> value)
    {
        long total = 0;
        foreach (var item in items)
        {
            long v = value(item);
            long next = unchecked(total + v);
            // Overflow: both operands had the same sign and the result has the other one.
            if (((total ^ next) & (v ^ next)) < 0) return v > 0 ? long.MaxValue : long.MinValue;
            total = next;
        }
        return total;
    }
}
