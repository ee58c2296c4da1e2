using System.Runtime.InteropServices;

namespace NatsJsExporter.Snapshot;

/// <summary>
/// One merge's pool of values that repeat across thousands of assets (server and cluster names,
/// storage, retention, ack and deliver policies) and of the leader's own peer entry, identical in
/// every group a server leads. Every server's parsed answer carries its own copy of each such
/// string; the snapshot keeps one instance, so the copies die with the parsed answers. The pool
/// is not kept: it lives for one <see cref="SnapshotBuilder.Build"/>.
/// </summary>
internal sealed class MergeStrings
{
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PeerView> _leaders = new(StringComparer.Ordinal);

    /// <summary>The pooled instance equal to <paramref name="value"/>.</summary>
    public string Get(string value)
    {
        ref var pooled = ref CollectionsMarshal.GetValueRefOrAddDefault(_strings, value, out _);
        return pooled ??= value;
    }

    /// <summary>The leader's own entry of a group's peers (records are immutable: one instance serves every group it leads).</summary>
    public PeerView Leader(string name)
    {
        ref var peer = ref CollectionsMarshal.GetValueRefOrAddDefault(_leaders, name, out _);
        return peer ??= new PeerView { Name = Get(name), IsLeader = true, Current = true, Offline = false, LastSeenSeconds = 0, Lag = 0 };
    }
}
