using System.Text.RegularExpressions;

namespace NatsJsExporter.Options;

/// <summary>Which accounts, streams and consumers make it into the snapshot (cardinality control).</summary>
public sealed record SnapshotFilter
{
    public static readonly SnapshotFilter None = new();

    public Regex? IncludeAccounts { get; init; }
    public Regex? ExcludeAccounts { get; init; }
    public Regex? IncludeStreams { get; init; }
    public Regex? ExcludeStreams { get; init; }
    public Regex? IncludeConsumersPattern { get; init; }
    public Regex? ExcludeConsumers { get; init; }
    /// <summary>Consumer metrics at all.</summary>
    public bool Consumers { get; init; } = true;
    /// <summary>Consumers without a durable name.</summary>
    public bool Ephemeral { get; init; }
    /// <summary>Compare each replica's own copy with the leader's (needs every server's report of every replica).</summary>
    public bool ReplicaComparison { get; init; } = true;

    /// <summary>
    /// A name filter anchored like a Prometheus relabel regex: <c>ORDERS</c> matches the stream ORDERS
    /// only, not ORDERS_OLD; write <c>ORDERS.*</c> for a prefix. Invalid patterns throw ArgumentException.
    /// </summary>
    public static Regex Anchored(string pattern) =>
        new($"^(?:{pattern})$", RegexOptions.CultureInvariant | RegexOptions.Compiled, TimeSpan.FromMilliseconds(100));

    public bool IncludeAccount(string name) => Matches(name, IncludeAccounts, ExcludeAccounts);

    public bool IncludeStream(string name) => Matches(name, IncludeStreams, ExcludeStreams);

    public bool IncludeConsumer(string name, bool durable) =>
        Consumers && (durable || Ephemeral) && Matches(name, IncludeConsumersPattern, ExcludeConsumers);

    private static bool Matches(string name, Regex? include, Regex? exclude) =>
        (include is null || include.IsMatch(name)) && (exclude is null || !exclude.IsMatch(name));
}
