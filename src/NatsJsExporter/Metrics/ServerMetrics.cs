using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Metrics;

/// <summary>One set per server, from its own /jsz: the `nats server report jetstream` columns.</summary>
internal static class ServerMetrics
{
    public static void Write(ExpositionWriter w, ClusterSnapshot s)
    {
        var servers = s.Servers;
        w.Family("natsjs_server_info", MetricType.Gauge, "Server metadata; always 1.");
        foreach (var v in servers)
            w.Sample(1L, new("server", v.Name), new("cluster", v.Cluster), new("domain", v.Domain), new("version", v.Version));

        Gauge(w, servers, "natsjs_server_jetstream_enabled", "1 if JetStream is enabled on the server.", v => v.JetStreamEnabled ? 1 : 0);
        Gauge(w, servers, "natsjs_server_streams", "Stream replicas hosted on the server (an R3 stream counts on three servers).", v => v.Streams);
        Gauge(w, servers, "natsjs_server_consumers", "Consumer replicas hosted on the server.", v => v.Consumers);
        Gauge(w, servers, "natsjs_server_messages", "Messages stored on the server, over all hosted stream replicas.", v => v.Messages);
        Gauge(w, servers, "natsjs_server_bytes", "Bytes of messages stored on the server, over all hosted stream replicas.", v => v.Bytes);
        Gauge(w, servers, "natsjs_server_memory_bytes", "Memory storage used by JetStream on the server.", v => v.MemoryBytes);
        Gauge(w, servers, "natsjs_server_storage_bytes", "File storage used by JetStream on the server.", v => v.StorageBytes);
        Gauge(w, servers, "natsjs_server_max_memory_bytes", "JetStream memory storage limit of the server.", v => v.MaxMemoryBytes);
        Gauge(w, servers, "natsjs_server_max_storage_bytes", "JetStream file storage limit of the server.", v => v.MaxStorageBytes);
        Gauge(w, servers, "natsjs_server_ha_assets", "Replicated (HA) assets on the server.", v => v.HaAssets);
        Gauge(w, servers, "natsjs_server_stream_leaders", "Streams this server leads (2.11.11/2.12.1+).", v => v.StreamLeaders);
        Gauge(w, servers, "natsjs_server_consumer_leaders", "Consumers this server leads (2.11.11/2.12.1+).", v => v.ConsumerLeaders);
        Gauge(w, servers, "natsjs_server_api_level", "JetStream API level the server supports (2.11+).", v => v.ApiLevel);
        Gauge(w, servers, "natsjs_server_api_inflight_requests", "JetStream API requests in flight (2.10+).", v => v.ApiInflight);

        w.Family("natsjs_server_api_requests_total", MetricType.Counter, "JetStream API requests the server handled since it started.");
        foreach (var v in servers) w.Sample(v.ApiRequests, new("server", v.Name), new("cluster", v.Cluster));
        w.Family("natsjs_server_api_errors_total", MetricType.Counter, "JetStream API requests that returned an error since the server started.");
        foreach (var v in servers) w.Sample(v.ApiErrors, new("server", v.Name), new("cluster", v.Cluster));
    }

    private static void Gauge(ExpositionWriter w, IReadOnlyList<ServerView> servers, string name, string help, Func<ServerView, double?> value)
    {
        w.Family(name, MetricType.Gauge, help);
        foreach (var v in servers)
            if (value(v) is { } x) w.Sample(x, new("server", v.Name), new("cluster", v.Cluster));
    }
}
