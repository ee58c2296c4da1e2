using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>Per-account JetStream usage (already cluster-wide in the server's report) and limits.</summary>
internal static class AccountMetrics
{
    public static void Write(ExpositionWriter w, ClusterSnapshot s)
    {
        Gauge(w, s, "natsjs_account_memory_bytes", "Memory storage used by the account, over all replicas cluster-wide.", a => a.MemoryBytes);
        Gauge(w, s, "natsjs_account_storage_bytes", "File storage used by the account, over all replicas cluster-wide.", a => a.StorageBytes);
        Gauge(w, s, "natsjs_account_max_memory_bytes", "Memory storage limit of the account (absent when unlimited).", a => a.MaxMemoryBytes);
        Gauge(w, s, "natsjs_account_max_storage_bytes", "File storage limit of the account (absent when unlimited).", a => a.MaxStorageBytes);
        Gauge(w, s, "natsjs_account_streams", "Streams in the account (each counted once).", a => a.Streams);
        Gauge(w, s, "natsjs_account_consumers", "Consumers in the account (each counted once).", a => a.Consumers);
    }

    /// <summary>account, and domain only when the account's JetStream domain is set.</summary>
    private static Label[] Labels(AccountView a) =>
        a.Domain.Length == 0 ? [new("account", a.Name)] : [new("domain", a.Domain), new("account", a.Name)];

    private static void Gauge(ExpositionWriter w, ClusterSnapshot s, string name, string help, Func<AccountView, double?> value)
    {
        w.Family(name, MetricType.Gauge, help);
        foreach (var a in s.Accounts)
            if (value(a) is { } v) w.Sample(v, Labels(a));
    }
}
