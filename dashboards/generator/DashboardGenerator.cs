// Generates the Grafana dashboards in dashboards/*.json. The checked-in JSON is the product;
// this file is its source. After a change run scripts/update-dashboards.sh (it runs the test
// DashboardGeneratorTests with NATSJS_UPDATE_DASHBOARDS=1) and commit the JSON diff with it.
//
// Rules the generator keeps (and tests/NatsJsExporter.Tests/Dashboards checks on the JSON):
// every panel and target uses the `${datasource}` variable; every selector carries the template
// variables that apply to its metric; counters only inside rate()/increase(); stream numbers
// only from the one-series-per-stream natsjs_stream_* metrics (never summed server metrics).
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NatsJsExporter.Dashboards;

public static class DashboardGenerator
{
    public const string Tag = "natsjs";

    // Label filters. Grafana expands a multi-value variable to (a|b) and "All" to .*
    private const string K = "cluster=~\"$cluster\"";
    private const string A = "account=~\"$account\"";
    private const string S = K + "," + A + ",stream=~\"$stream\"";
    private const string C = S + ",consumer=~\"$consumer\"";
    private const string StreamKey = "cluster, account, stream";

    /// <summary>File name (under dashboards/) to dashboard JSON.</summary>
    public static IReadOnlyDictionary<string, JsonObject> All() => new SortedDictionary<string, JsonObject>(StringComparer.Ordinal)
    {
        ["natsjs-cluster-overview.json"] = ClusterOverview(),
        ["natsjs-streams.json"] = Streams(),
        ["natsjs-replica-health.json"] = ReplicaHealth(),
        ["natsjs-consumers.json"] = Consumers(),
    };

    public static string Serialize(JsonObject dashboard) => dashboard.ToJsonString(new JsonSerializerOptions
    {
        WriteIndented = true,
        IndentSize = 2,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    }) + "\n";

    // ------------------------------------------------------------------ cluster overview

    private static JsonObject ClusterOverview()
    {
        var d = new Builder("natsjs-cluster-overview", "NATS JetStream / Cluster overview",
            "The `nats server report jetstream` and RAFT meta group views of a JetStream cluster, storage and API load per server, and the exporter's own health.",
            ["cluster", "account", "stream"]);

        d.Row("Cluster at a glance");
        d.Stat("Servers answering", "Servers that answered the exporter's last poll, of those it is configured to poll.", "short", 4, 4,
            Q("natsjs_servers_responded", "answering"), Q("natsjs_servers_expected", "expected"));
        d.Stat("Data age", "Time since the snapshot the exporter serves was collected. More than two poll intervals means polls are slow or stuck.", "s", 4, 4,
            Q("time() - natsjs_poll_timestamp_seconds", "age")).Thresholds((null, "green"), (30, "orange"), (60, "red"));
        d.Stat("Meta leader", "1 if the Raft meta group has a leader. Without one no stream or consumer can be created, changed or deleted.", "short", 4, 4,
            Q($"natsjs_meta_has_leader{{{K}}}", "{{cluster}}")).Mappings((1, "elected", "green"), (0, "NONE", "red"));
        d.Stat("Meta leader changes", "Meta leader changes seen by the exporter in the selected time range.", "short", 4, 4,
            Q($"increase(natsjs_meta_leader_changes_total{{{K}}}[$__range])", "{{cluster}}")).Thresholds((null, "green"), (1, "orange"));
        d.Stat("Streams", "Streams, each counted once (not once per replica).", "short", 2, 4,
            Q($"count(natsjs_stream_info{{{S}}}) or vector(0)", "streams"));
        d.Stat("Consumers", "Durable consumers, each counted once.", "short", 2, 4,
            Q($"count(natsjs_consumer_info{{{S}}}) or vector(0)", "consumers"));
        d.Stat("Messages", "Messages over the selected streams, each stream counted once.", "short", 2, 4,
            Q($"sum(natsjs_stream_messages{{{S}}}) or vector(0)", "messages"));
        d.Stat("Bytes", "Bytes over the selected streams, one replica's worth each.", "bytes", 2, 4,
            Q($"sum(natsjs_stream_bytes{{{S}}}) or vector(0)", "bytes"));

        d.Row("JetStream servers (nats server report jetstream)");
        d.Table("JetStream summary",
            "One row per server, as `nats server report jetstream` prints it. Server numbers count every replica the server hosts (an R3 stream counts on three servers). API columns are requests and errors within the selected time range. ★ marks the meta leader.",
            24, 9,
            [
                T($"natsjs_server_info{{{K}}}"),
                T($"natsjs_server_streams{{{K}}}"),
                T($"natsjs_server_consumers{{{K}}}"),
                T($"natsjs_server_messages{{{K}}}"),
                T($"natsjs_server_bytes{{{K}}}"),
                T($"natsjs_server_memory_bytes{{{K}}}"),
                T($"natsjs_server_storage_bytes{{{K}}}"),
                T($"increase(natsjs_server_api_requests_total{{{K}}}[$__range])"),
                T($"increase(natsjs_server_api_errors_total{{{K}}}[$__range])"),
                T($"natsjs_meta_is_leader{{{K}}}"),
            ],
            columns: ["", "Streams", "Consumers", "Messages", "Bytes", "Memory", "File", "API req", "API err", "Meta leader"],
            order: ["server", "Meta leader", "cluster", "version", "domain", "Streams", "Consumers", "Messages", "Bytes", "Memory", "File", "API req", "API err"],
            units: new() { ["Bytes"] = "bytes", ["Memory"] = "bytes", ["File"] = "bytes", ["API req"] = "short", ["API err"] = "short" },
            mappings: new() { ["Meta leader"] = [(1, "★ leader", "green"), (0, "", "transparent")] },
            footerSum: ["Streams", "Consumers", "Messages", "Bytes", "Memory", "File", "API req", "API err"]);

        d.Row("Storage and memory against limits");
        d.BarGauge("File storage used of limit", "File storage used by JetStream on each server, as a fraction of its `max_file_store`.", "percentunit", 6, 8,
            Q($"natsjs_server_storage_bytes{{{K}}} / natsjs_server_max_storage_bytes{{{K}}}", "{{server}}", instant: true)).MinMax(0, 1).Thresholds((null, "green"), (0.75, "orange"), (0.9, "red"));
        d.BarGauge("Memory used of limit", "Memory storage used by JetStream on each server, as a fraction of its `max_memory_store`.", "percentunit", 6, 8,
            Q($"natsjs_server_memory_bytes{{{K}}} / natsjs_server_max_memory_bytes{{{K}}}", "{{server}}", instant: true)).MinMax(0, 1).Thresholds((null, "green"), (0.75, "orange"), (0.9, "red"));
        d.TimeSeries("File storage per server", "Used and limit, per server.", "bytes", 6, 8,
            Q($"natsjs_server_storage_bytes{{{K}}}", "{{server}} used"), Q($"natsjs_server_max_storage_bytes{{{K}}}", "{{server}} limit"));
        d.TimeSeries("Memory storage per server", "Used and limit, per server.", "bytes", 6, 8,
            Q($"natsjs_server_memory_bytes{{{K}}}", "{{server}} used"), Q($"natsjs_server_max_memory_bytes{{{K}}}", "{{server}} limit"));

        d.Row("JetStream API");
        d.TimeSeries("API requests /s", "JetStream API requests handled per second, per server.", "reqps", 12, 8,
            Q($"sum by (cluster, server) (rate(natsjs_server_api_requests_total{{{K}}}[$__rate_interval]))", "{{server}}"));
        d.TimeSeries("API errors /s", "JetStream API requests answered with an error, per second and server.", "reqps", 12, 8,
            Q($"sum by (cluster, server) (rate(natsjs_server_api_errors_total{{{K}}}[$__rate_interval]))", "{{server}}"));

        d.Row("RAFT meta group");
        d.Table("Meta group peers",
            "The `RAFT Meta Group Information` table, from the meta leader (the leader is current, seen 0 s ago, lag 0).",
            12, 8,
            [
                T($"max by (cluster, peer) (label_replace(natsjs_meta_is_leader{{{K}}}, \"peer\", \"$1\", \"server\", \"(.*)\"))"),
                T($"natsjs_meta_peer_current{{{K}}}"),
                T($"natsjs_meta_peer_offline{{{K}}}"),
                T($"natsjs_meta_peer_last_seen_seconds{{{K}}}"),
                T($"natsjs_meta_peer_lag{{{K}}}"),
            ],
            columns: ["Leader", "Current", "Offline", "Last seen", "Lag"],
            order: ["peer", "cluster", "Leader", "Current", "Offline", "Last seen", "Lag"],
            units: new() { ["Last seen"] = "s", ["Lag"] = "short" },
            mappings: new()
            {
                ["Leader"] = [(1, "yes", "green"), (0, "", "transparent")],
                ["Current"] = [(1, "true", "green"), (0, "false", "red")],
                ["Offline"] = [(0, "false", "green"), (1, "true", "red")],
            });
        d.TimeSeries("Meta peer lag", "Raft entries each meta group peer is behind the leader.", "short", 6, 8,
            Q($"natsjs_meta_peer_lag{{{K}}}", "{{peer}}"));
        d.TimeSeries("Meta peer last seen", "Seconds since the meta leader last heard from each peer.", "s", 6, 8,
            Q($"natsjs_meta_peer_last_seen_seconds{{{K}}}", "{{peer}}"));

        d.Row("Exporter health");
        d.Stat("Targets up", "1 if the exporter's last poll of the server succeeded.", "short", 6, 6,
            Q("natsjs_up", "{{server}}")).Mappings((1, "UP", "green"), (0, "DOWN", "red"));
        d.TimeSeries("Servers expected vs answering", "Configured monitor URLs and the servers that answered each poll.", "short", 6, 6,
            Q("natsjs_servers_expected", "expected"), Q("natsjs_servers_responded", "answering"));
        d.TimeSeries("Data age", "Age of the served snapshot, and time since each server last answered.", "s", 6, 6,
            Q("time() - natsjs_poll_timestamp_seconds", "snapshot"), Q("time() - natsjs_last_success_timestamp_seconds", "{{server}}"));
        d.TimeSeries("Poll duration and errors", "Time each server's last poll took, and failed polls per second (0 when none failed).", "s", 6, 6,
            Q("natsjs_scrape_duration_seconds", "{{server}} duration"),
            Q("sum by (server) (rate(natsjs_scrape_errors_total[$__rate_interval])) or (natsjs_up * 0)", "{{server}} errors/s"));

        d.Row("Accounts");
        d.TimeSeries("Account storage", "JetStream usage per account, over all replicas cluster-wide (what account limits are checked against).", "bytes", 12, 8,
            Q($"natsjs_account_storage_bytes{{{A}}}", "{{account}} file"), Q($"natsjs_account_memory_bytes{{{A}}}", "{{account}} memory"));
        d.TimeSeries("Account streams and consumers", "Streams and consumers per account, each counted once.", "short", 12, 8,
            Q($"natsjs_account_streams{{{A}}}", "{{account}} streams"), Q($"natsjs_account_consumers{{{A}}}", "{{account}} consumers"));
        return d.Build();
    }

    // ------------------------------------------------------------------ streams

    private static JsonObject Streams()
    {
        var d = new Builder("natsjs-streams", "NATS JetStream / Streams",
            "The `nats stream report` view: one row per stream (never multiplied by its replicas), placement with the leader marked, rates and usage against limits, sources and mirrors.",
            ["cluster", "account", "stream"]);

        d.Row("Stream report (nats stream report)");
        d.Table("Streams",
            "One row per stream, from the stream leader. Messages and bytes are one replica's worth; the footer sums streams, not replicas.",
            24, 9,
            [
                T($"natsjs_stream_info{{{S}}}"),
                T($"max by ({StreamKey}, leader) (label_replace(natsjs_stream_peer_is_leader{{{S}}} == 1, \"leader\", \"$1\", \"peer\", \"(.*)\"))"),
                T($"natsjs_stream_replicas_configured{{{S}}}"),
                T($"natsjs_stream_consumers{{{S}}}"),
                T($"natsjs_stream_messages{{{S}}}"),
                T($"natsjs_stream_bytes{{{S}}}"),
                T($"natsjs_stream_lost_messages{{{S}}}"),
                T($"natsjs_stream_deleted_messages{{{S}}}"),
                T($"natsjs_stream_subjects{{{S}}}"),
                T($"natsjs_stream_first_seq{{{S}}}"),
                T($"natsjs_stream_last_seq{{{S}}}"),
            ],
            columns: ["", "", "Replicas", "Consumers", "Messages", "Bytes", "Lost", "Deleted", "Subjects", "First seq", "Last seq"],
            order: ["stream", "account", "cluster", "storage", "retention", "Replicas", "leader", "Consumers", "Messages", "Bytes", "Lost", "Deleted", "Subjects", "First seq", "Last seq"],
            units: new() { ["Bytes"] = "bytes" },
            footerSum: ["Consumers", "Messages", "Bytes", "Lost", "Deleted"],
            links: new()
            {
                ["stream"] = ("Replica health of ${__data.fields.stream}",
                    "/d/natsjs-replica-health/natsjs-replica-health?${cluster:queryparam}&${account:queryparam}&var-stream=${__data.fields.stream}&${__url_time_range}"),
                ["Consumers"] = ("Consumers of ${__data.fields.stream}",
                    "/d/natsjs-consumers/natsjs-consumers?${cluster:queryparam}&${account:queryparam}&var-stream=${__data.fields.stream}&${__url_time_range}"),
            });
        d.Table("Placement (★ = leader)",
            "Which servers hold a replica of each stream (rows account/stream, columns servers), the leader marked, as the Cluster column of `nats stream report`.",
            24, 7,
            [T($"label_join(natsjs_stream_peer_is_leader{{{S}}}, \"asset\", \"/\", \"account\", \"stream\")")],
            matrix: ("asset", "peer"),
            mappings: new() { ["*"] = [(1, "★ leader", "green"), (0, "replica", "blue")] });

        d.Row("Rates");
        d.TimeSeries("Messages stored /s", "Messages appended per second (rate of the last sequence).", "ops", 12, 8,
            Q($"rate(natsjs_stream_last_seq{{{S}}}[$__rate_interval])", "{{stream}}"));
        d.TimeSeries("Stored bytes change /s", "Change of the bytes each stream stores, per second (negative when limits or acks remove more than arrives).", "Bps", 12, 8,
            Q($"deriv(natsjs_stream_bytes{{{S}}}[$__rate_interval])", "{{stream}}"));
        d.TimeSeries("Messages", "Messages stored per stream (one replica's worth).", "short", 12, 8,
            Q($"natsjs_stream_messages{{{S}}}", "{{stream}}"));
        d.TimeSeries("Bytes", "Bytes stored per stream (one replica's worth).", "bytes", 12, 8,
            Q($"natsjs_stream_bytes{{{S}}}", "{{stream}}"));

        d.Row("Usage against limits");
        // natsjs_stream_max_messages exists too, but no golden fixture has a stream with max_msgs
        // yet (the contract test only admits metrics the golden output shows): add it with one.
        d.BarGauge("Bytes of max_bytes", "Bytes stored as a fraction of the stream's `max_bytes` (streams without the limit are not shown).", "percentunit", 10, 8,
            Q($"natsjs_stream_bytes{{{S}}} / natsjs_stream_max_bytes{{{S}}}", "{{stream}}", instant: true)).MinMax(0, 1).Thresholds((null, "green"), (0.8, "orange"), (0.95, "red"));
        d.TimeSeries("Bytes of max_bytes over time", "Fraction of `max_bytes` used. With limits retention a full stream discards its oldest messages; with discard new it refuses writes.", "percentunit", 14, 8,
            Q($"natsjs_stream_bytes{{{S}}} / natsjs_stream_max_bytes{{{S}}}", "{{stream}}")).MinMax(0, 1);

        d.Row("Sources and mirrors");
        d.TimeSeries("Source lag", "Messages each sourcing stream is behind its source.", "short", 8, 8,
            Q($"natsjs_stream_source_lag{{{S}}}", "{{stream}} ← {{source}}"));
        d.TimeSeries("Mirror lag", "Messages each mirror is behind its origin.", "short", 8, 8,
            Q($"natsjs_stream_mirror_lag{{{S}}}", "{{stream}} ← {{source}}"));
        d.TimeSeries("Source and mirror last seen", "Seconds since the stream last heard from its source or origin.", "s", 8, 8,
            Q($"natsjs_stream_source_last_seen_seconds{{{S}}}", "{{stream}} ← {{source}}"),
            Q($"natsjs_stream_mirror_last_seen_seconds{{{S}}}", "{{stream}} ← {{source}} (mirror)"));
        d.Stat("Sources and mirrors in error", "Sources and mirrors for which the server reports an error.", "short", 8, 4,
            Q($"(sum(natsjs_stream_source_error{{{S}}}) or vector(0)) + (sum(natsjs_stream_mirror_error{{{S}}}) or vector(0))", "in error"))
            .Thresholds((null, "green"), (1, "red"));
        d.TimeSeries("Lost and deleted messages", "Lost messages (data loss reported by the store) and interior deletes per stream.", "short", 16, 4,
            Q($"natsjs_stream_lost_messages{{{S}}}", "{{stream}} lost"), Q($"natsjs_stream_deleted_messages{{{S}}}", "{{stream}} deleted"));
        return d.Build();
    }

    // ------------------------------------------------------------------ replica health

    private static JsonObject ReplicaHealth()
    {
        var d = new Builder("natsjs-replica-health", "NATS JetStream / Replica health",
            "Raft health of every stream replica, as the stream leader reports it (`Cluster Information` of `nats stream info`): current / outdated / offline per peer, lag, last seen, leader changes, and streams without a leader or with fewer replicas than configured.",
            ["cluster", "account", "stream"]);

        d.Row("Problems");
        d.Stat("Streams without a leader", "Streams whose Raft group has no leader: they accept no writes.", "short", 5, 4,
            Q($"count(natsjs_stream_has_leader{{{S}}} == 0) or vector(0)", "leaderless")).Thresholds((null, "green"), (1, "red"));
        d.Stat("Under-replicated streams", "Streams whose leader reports fewer peers than the configured replicas.", "short", 5, 4,
            Q($"count(count by ({StreamKey}) (natsjs_stream_peer_is_leader{{{S}}}) < natsjs_stream_replicas_configured{{{S}}}) or vector(0)", "under-replicated"))
            .Thresholds((null, "green"), (1, "red"));
        d.Stat("Replicas not current", "Stream replicas the leader reports as outdated.", "short", 5, 4,
            Q($"count(natsjs_stream_peer_current{{{S}}} == 0) or vector(0)", "outdated")).Thresholds((null, "green"), (1, "orange"));
        d.Stat("Replicas offline", "Stream replicas the leader reports as offline.", "short", 5, 4,
            Q($"count(natsjs_stream_peer_offline{{{S}}} == 1) or vector(0)", "offline")).Thresholds((null, "green"), (1, "red"));
        d.Stat("Leader changes", "Stream leader changes within the selected time range.", "short", 4, 4,
            Q($"sum(increase(natsjs_stream_leader_changes_total{{{S}}}[$__range])) or vector(0)", "changes")).Thresholds((null, "green"), (1, "orange"));

        d.Table("Streams without a leader or under-replicated",
            "Every stream with its configured replicas, the peers its leader reports, those current and online, and how many are missing. Problem streams sort first.",
            24, 8,
            [
                T($"natsjs_stream_replicas_configured{{{S}}} - (sum by ({StreamKey}) (natsjs_stream_peer_current{{{S}}} * (1 - natsjs_stream_peer_offline{{{S}}})) or natsjs_stream_replicas_configured{{{S}}} * 0)"),
                T($"natsjs_stream_has_leader{{{S}}}"),
                T($"natsjs_stream_replicas_configured{{{S}}}"),
                T($"count by ({StreamKey}) (natsjs_stream_peer_is_leader{{{S}}})"),
                T($"sum by ({StreamKey}) (natsjs_stream_peer_current{{{S}}})"),
            ],
            columns: ["Missing", "Has leader", "Replicas", "Peers reported", "Peers current"],
            order: ["stream", "account", "cluster", "Missing", "Has leader", "Replicas", "Peers reported", "Peers current"],
            units: new() { ["Missing"] = "short" },
            mappings: new() { ["Has leader"] = [(1, "yes", "green"), (0, "NO", "red")] },
            thresholds: new() { ["Missing"] = [(null, "green"), (1, "red")] },
            sortBy: "Missing");

        d.Row("Replica grid");
        d.Table("Replica state (stream × peer)",
            "Rows account/stream, columns servers: leader, current, outdated or offline, as the stream leader reports each peer. Streams without a leader have no row (their peers' state is unknown).",
            24, 8,
            [T($"label_join((natsjs_stream_peer_current{{{S}}} + natsjs_stream_peer_is_leader{{{S}}}) * (1 - natsjs_stream_peer_offline{{{S}}}) - natsjs_stream_peer_offline{{{S}}}, \"asset\", \"/\", \"account\", \"stream\")")],
            matrix: ("asset", "peer"),
            mappings: new() { ["*"] = [(2, "leader", "green"), (1, "current", "green"), (0, "outdated", "orange"), (-1, "offline", "red")] });

        d.Row("Each server's own copy (replica comparison)");
        d.Stat("Diverged stream replicas", "Replicas whose own copy, at the leader's last sequence, held other messages, first sequence or bytes in two consecutive polls (the leader may still call them current).", "short", 6, 4,
            Q($"count(natsjs_stream_replica_diverged{{{S}}} == 1) or vector(0)", "diverged")).Thresholds((null, "green"), (1, "red"));
        d.Stat("Diverged consumer replicas", "Consumer replicas whose own delivered or ack floor state, at the leader's delivered stream sequence, differed in two consecutive polls.", "short", 6, 4,
            Q($"count(natsjs_consumer_replica_diverged{{{S}}} == 1) or vector(0)", "diverged")).Thresholds((null, "green"), (1, "red"));
        d.Stat("Most behind (own copy)", "The largest number of messages any replica's own last sequence is behind its stream leader's.", "short", 6, 4,
            Q($"max(natsjs_stream_replica_behind_messages{{{S}}}) or vector(0)", "behind")).Thresholds((null, "green"), (1000, "orange"));
        d.Stat("Replicas compared", "Stream replicas whose own copy is compared with the leader's (R1 streams have none; absent with --replica-comparison=false).", "short", 6, 4,
            Q($"count(natsjs_stream_replica_diverged{{{S}}}) or vector(0)", "compared"));
        d.Table("Own last sequence (stream × peer)",
            "Rows account/stream, columns servers: the last sequence of each server's own copy (the leader's last sequence minus how far the replica is behind). A replica polled a moment after its leader can be level while the leader is already further.",
            12, 8,
            [T($"label_join(natsjs_stream_last_seq{{{S}}} - on ({StreamKey}) group_right natsjs_stream_replica_behind_messages{{{S}}}, \"asset\", \"/\", \"account\", \"stream\")")],
            matrix: ("asset", "peer"));
        d.Table("Diverged (stream × peer)",
            "Rows account/stream, columns servers: 1 where the replica's own copy diverged from the leader's. The status page and `report` say what differs.",
            12, 8,
            [T($"label_join(natsjs_stream_replica_diverged{{{S}}}, \"asset\", \"/\", \"account\", \"stream\")")],
            matrix: ("asset", "peer"),
            mappings: new() { ["*"] = [(0, "agrees", "green"), (1, "DIVERGED", "red")] });
        d.TimeSeries("Replica behind leader (own copy)", "Messages each replica's own last sequence is behind the stream leader's, from each server's own report (0 on the leader).", "short", 24, 8,
            Q($"natsjs_stream_replica_behind_messages{{{S}}}", "{{stream}} @ {{peer}}"));

        d.Row("Over time");
        d.TimeSeries("Replica lag", "Raft entries each replica is behind the stream leader (entries, not messages).", "short", 12, 8,
            Q($"natsjs_stream_peer_lag{{{S}}}", "{{stream}} @ {{peer}}"));
        d.TimeSeries("Replica last seen", "Seconds since the stream leader last heard from each replica.", "s", 12, 8,
            Q($"natsjs_stream_peer_last_seen_seconds{{{S}}}", "{{stream}} @ {{peer}}"));
        d.TimeSeries("Leader changes", "Stream leader changes per interval.", "short", 12, 8,
            Q($"increase(natsjs_stream_leader_changes_total{{{S}}}[$__rate_interval])", "{{stream}}")).Bars();
        d.TimeSeries("Current replicas vs configured", "Replicas the leader reports current and online, against the configured replica count.", "short", 12, 8,
            Q($"sum by ({StreamKey}) (natsjs_stream_peer_current{{{S}}} * (1 - natsjs_stream_peer_offline{{{S}}}))", "{{stream}} current"),
            Q($"natsjs_stream_replicas_configured{{{S}}}", "{{stream}} configured"));
        d.StateTimeline("Stream leader", "Whether each stream's Raft group had a leader.", 24, 6,
            Q($"natsjs_stream_has_leader{{{S}}}", "{{stream}}")).Mappings((1, "leader", "green"), (0, "NO LEADER", "red"));
        return d.Build();
    }

    // ------------------------------------------------------------------ consumers

    private static JsonObject Consumers()
    {
        var d = new Builder("natsjs-consumers", "NATS JetStream / Consumers",
            "Durable consumers: backlog (pending), unacknowledged and redelivered messages, waiting pulls, delivery rate and replica health (from the consumer leader).",
            ["cluster", "account", "stream", "consumer"]);

        d.Row("Consumers");
        d.Stat("Consumers", "Durable consumers, each counted once.", "short", 4, 4,
            Q($"count(natsjs_consumer_info{{{C}}}) or vector(0)", "consumers"));
        d.Stat("Pending", "Messages not yet delivered, over the selected consumers.", "short", 5, 4,
            Q($"sum(natsjs_consumer_pending_messages{{{C}}}) or vector(0)", "pending"));
        d.Stat("Ack pending", "Delivered, not yet acknowledged, over the selected consumers.", "short", 5, 4,
            Q($"sum(natsjs_consumer_ack_pending_messages{{{C}}}) or vector(0)", "ack pending"));
        d.Stat("Redelivered", "Redelivered and not yet acknowledged, over the selected consumers.", "short", 5, 4,
            Q($"sum(natsjs_consumer_redelivered_messages{{{C}}}) or vector(0)", "redelivered")).Thresholds((null, "green"), (1, "orange"));
        d.Stat("Consumers without a leader", "Consumers whose Raft group has no leader: they deliver nothing.", "short", 5, 4,
            Q($"count(natsjs_consumer_has_leader{{{C}}} == 0) or vector(0)", "leaderless")).Thresholds((null, "green"), (1, "red"));

        d.Table("Consumers",
            "One row per durable consumer, from the consumer leader.",
            24, 8,
            [
                T($"natsjs_consumer_info{{{C}}}"),
                T($"max by ({StreamKey}, consumer, leader) (label_replace(natsjs_consumer_peer_is_leader{{{C}}} == 1, \"leader\", \"$1\", \"peer\", \"(.*)\"))"),
                T($"natsjs_consumer_pending_messages{{{C}}}"),
                T($"natsjs_consumer_ack_pending_messages{{{C}}}"),
                T($"natsjs_consumer_redelivered_messages{{{C}}}"),
                T($"natsjs_consumer_waiting_pulls{{{C}}}"),
                T($"natsjs_consumer_delivered_stream_seq{{{C}}}"),
                T($"natsjs_consumer_ack_floor_stream_seq{{{C}}}"),
                T($"natsjs_consumer_max_ack_pending{{{C}}}"),
                T($"natsjs_consumer_has_leader{{{C}}}"),
            ],
            columns: ["", "", "Pending", "Ack pending", "Redelivered", "Waiting pulls", "Delivered seq", "Ack floor seq", "Max ack pending", "Has leader"],
            order: ["stream", "consumer", "account", "cluster", "durable", "ack_policy", "deliver_policy", "leader", "Pending", "Ack pending", "Redelivered", "Waiting pulls", "Delivered seq", "Ack floor seq", "Max ack pending", "Has leader"],
            units: new() { ["Pending"] = "short" },
            mappings: new() { ["Has leader"] = [(1, "yes", "green"), (0, "NO", "red")] });

        d.Row("Backlog");
        d.TimeSeries("Pending messages", "Messages not yet delivered to the consumer (`num_pending`).", "short", 12, 8,
            Q($"natsjs_consumer_pending_messages{{{C}}}", "{{stream}}/{{consumer}}"));
        d.TimeSeries("Ack pending of max_ack_pending", "Unacknowledged messages as a fraction of `max_ack_pending`; at 100% the consumer stops delivering.", "percentunit", 12, 8,
            Q($"natsjs_consumer_ack_pending_messages{{{C}}} / natsjs_consumer_max_ack_pending{{{C}}}", "{{stream}}/{{consumer}}")).MinMax(0, 1);
        d.TimeSeries("Redelivered messages", "Messages redelivered and still not acknowledged.", "short", 8, 8,
            Q($"natsjs_consumer_redelivered_messages{{{C}}}", "{{stream}}/{{consumer}}"));
        d.TimeSeries("Ack pending messages", "Delivered, not yet acknowledged.", "short", 8, 8,
            Q($"natsjs_consumer_ack_pending_messages{{{C}}}", "{{stream}}/{{consumer}}"));
        d.TimeSeries("Waiting pulls", "Pull requests waiting at the consumer (clients ready for more).", "short", 8, 8,
            Q($"natsjs_consumer_waiting_pulls{{{C}}}", "{{stream}}/{{consumer}}"));

        d.Row("Throughput");
        d.TimeSeries("Delivery rate", "Stream sequences delivered per second (rate of the last delivered stream sequence).", "ops", 12, 8,
            Q($"rate(natsjs_consumer_delivered_stream_seq{{{C}}}[$__rate_interval])", "{{stream}}/{{consumer}}"));
        d.TimeSeries("Acknowledgement rate", "Stream sequences per second passing the ack floor.", "ops", 12, 8,
            Q($"rate(natsjs_consumer_ack_floor_stream_seq{{{C}}}[$__rate_interval])", "{{stream}}/{{consumer}}"));

        d.Row("Consumer replica health");
        d.Stat("Consumer replicas not current", "Consumer replicas the consumer leader reports outdated or offline.", "short", 6, 8,
            Q($"count(natsjs_consumer_peer_current{{{C}}} == 0 or natsjs_consumer_peer_offline{{{C}}} == 1) or vector(0)", "not current"))
            .Thresholds((null, "green"), (1, "orange"));
        d.Table("Consumer replica state (consumer × peer)",
            "Rows account/stream/consumer, columns servers: leader, current, outdated or offline, as the consumer leader reports each peer.",
            18, 8,
            [T($"label_join((natsjs_consumer_peer_current{{{C}}} + natsjs_consumer_peer_is_leader{{{C}}}) * (1 - natsjs_consumer_peer_offline{{{C}}}) - natsjs_consumer_peer_offline{{{C}}}, \"asset\", \"/\", \"account\", \"stream\", \"consumer\")")],
            matrix: ("asset", "peer"),
            mappings: new() { ["*"] = [(2, "leader", "green"), (1, "current", "green"), (0, "outdated", "orange"), (-1, "offline", "red")] });
        d.TimeSeries("Consumer replica lag", "Raft entries each consumer replica is behind its leader.", "short", 12, 8,
            Q($"natsjs_consumer_peer_lag{{{C}}}", "{{stream}}/{{consumer}} @ {{peer}}"));
        d.TimeSeries("Consumer replica behind (own state)", "Stream sequences each consumer replica's own delivered sequence is behind the consumer leader's (what a new leader on it would deliver again); 2.10+ servers.", "short", 12, 8,
            Q($"natsjs_consumer_replica_behind_messages{{{C}}}", "{{stream}}/{{consumer}} @ {{peer}}"));
        d.Stat("Consumer replicas diverged", "Consumer replicas whose own state differed from the leader's at the same delivered stream sequence in two consecutive polls.", "short", 12, 8,
            Q($"count(natsjs_consumer_replica_diverged{{{C}}} == 1) or vector(0)", "diverged")).Thresholds((null, "green"), (1, "red"));
        d.TimeSeries("Consumer replica last seen", "Seconds since the consumer leader last heard from each replica.", "s", 12, 8,
            Q($"natsjs_consumer_peer_last_seen_seconds{{{C}}}", "{{stream}}/{{consumer}} @ {{peer}}"));
        return d.Build();
    }

    // ------------------------------------------------------------------ building blocks

    private sealed record Query(string Expr, string Legend, bool Instant, bool Table);

    private static Query Q(string expr, string legend, bool instant = false) => new(expr, legend, instant, false);

    private static Query T(string expr) => new(expr, "", true, true);

    private static JsonObject Ds() => new() { ["type"] = "prometheus", ["uid"] = "${datasource}" };

    private static JsonArray Arr(params JsonNode?[] items) => new(items);

    private static JsonObject Steps(params (double? Value, string Color)[] steps) => new()
    {
        ["mode"] = "absolute",
        ["steps"] = new JsonArray(steps.Select(s => (JsonNode)new JsonObject { ["color"] = s.Color, ["value"] = s.Value }).ToArray()),
    };

    private static JsonArray ValueMappings(params (double Value, string Text, string Color)[] maps)
    {
        var options = new JsonObject();
        int i = 0;
        foreach (var (value, text, color) in maps)
            options[value.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject { ["color"] = color, ["index"] = i++, ["text"] = text };
        return Arr(new JsonObject { ["type"] = "value", ["options"] = options });
    }

    private sealed class Panel(JsonObject json)
    {
        public JsonObject Json { get; } = json;
        private JsonObject Defaults => Json["fieldConfig"]!["defaults"]!.AsObject();

        public Panel Thresholds(params (double? Value, string Color)[] steps)
        {
            Defaults["thresholds"] = Steps(steps);
            if (Json["type"]!.GetValue<string>() == "stat") Json["options"]!["colorMode"] = "value";
            return this;
        }

        public Panel Mappings(params (double Value, string Text, string Color)[] maps)
        {
            Defaults["mappings"] = ValueMappings(maps);
            Defaults["color"] = new JsonObject { ["mode"] = "thresholds" };
            return this;
        }

        public Panel MinMax(double min, double max)
        {
            Defaults["min"] = min;
            Defaults["max"] = max;
            return this;
        }

        public Panel Bars()
        {
            Defaults["custom"]!["drawStyle"] = "bars";
            Defaults["custom"]!["fillOpacity"] = 80;
            return this;
        }
    }

    private sealed class Builder(string uid, string title, string description, string[] variables)
    {
        private readonly List<JsonObject> _panels = [];
        private int _x, _y, _rowHeight;
        private int _nextId = 1;
        private readonly SortedSet<string> _panelTypes = new(StringComparer.Ordinal);

        private void Place(JsonObject panel, int w, int h)
        {
            if (_x + w > 24)
            {
                _x = 0;
                _y += _rowHeight;
                _rowHeight = 0;
            }
            panel["gridPos"] = new JsonObject { ["h"] = h, ["w"] = w, ["x"] = _x, ["y"] = _y };
            _x += w;
            _rowHeight = Math.Max(_rowHeight, h);
        }

        public void Row(string rowTitle)
        {
            if (_x > 0) { _x = 0; _y += _rowHeight; _rowHeight = 0; }
            var row = new JsonObject { ["collapsed"] = false, ["id"] = _nextId++, ["panels"] = new JsonArray(), ["title"] = rowTitle, ["type"] = "row" };
            row["gridPos"] = new JsonObject { ["h"] = 1, ["w"] = 24, ["x"] = 0, ["y"] = _y };
            _y += 1;
            _panels.Add(row);
        }

        private JsonObject NewPanel(string type, string panelTitle, string desc, string unit, int w, int h, IEnumerable<Query> queries)
        {
            _panelTypes.Add(type);
            var p = new JsonObject
            {
                ["datasource"] = Ds(),
                ["description"] = desc,
                ["fieldConfig"] = new JsonObject
                {
                    ["defaults"] = new JsonObject
                    {
                        ["color"] = new JsonObject { ["mode"] = type is "timeseries" ? "palette-classic" : "thresholds" },
                        ["mappings"] = new JsonArray(),
                        ["thresholds"] = Steps((null, "green")),
                        ["unit"] = unit,
                    },
                    ["overrides"] = new JsonArray(),
                },
                ["id"] = _nextId++,
                ["targets"] = Targets(queries),
                ["title"] = panelTitle,
                ["type"] = type,
            };
            Place(p, w, h);
            _panels.Add(p);
            return p;
        }

        private static JsonArray Targets(IEnumerable<Query> queries)
        {
            var arr = new JsonArray();
            int i = 0;
            foreach (var q in queries)
            {
                var t = new JsonObject
                {
                    ["datasource"] = Ds(),
                    ["editorMode"] = "code",
                    ["expr"] = q.Expr,
                    ["format"] = q.Table ? "table" : "time_series",
                    ["instant"] = q.Instant,
                    ["legendFormat"] = q.Table ? "__auto" : q.Legend,
                    ["range"] = !q.Instant,
                    ["refId"] = ((char)('A' + i++)).ToString(),
                };
                arr.Add(t);
            }
            return arr;
        }

        public Panel TimeSeries(string t, string desc, string unit, int w, int h, params Query[] queries)
        {
            var p = NewPanel("timeseries", t, desc, unit, w, h, queries);
            p["fieldConfig"]!["defaults"]!["custom"] = new JsonObject
            {
                ["drawStyle"] = "line", ["fillOpacity"] = 10, ["lineWidth"] = 1, ["showPoints"] = "never", ["spanNulls"] = false,
            };
            p["options"] = new JsonObject
            {
                ["legend"] = new JsonObject { ["calcs"] = Arr("lastNotNull", "max"), ["displayMode"] = "table", ["placement"] = "bottom", ["showLegend"] = true },
                ["tooltip"] = new JsonObject { ["mode"] = "multi", ["sort"] = "desc" },
            };
            return new Panel(p);
        }

        public Panel Stat(string t, string desc, string unit, int w, int h, params Query[] queries)
        {
            var p = NewPanel("stat", t, desc, unit, w, h, queries.Select(q => q with { Instant = true }));
            p["options"] = new JsonObject
            {
                ["colorMode"] = "none",
                ["graphMode"] = "none",
                ["justifyMode"] = "auto",
                ["orientation"] = "auto",
                ["reduceOptions"] = new JsonObject { ["calcs"] = Arr("lastNotNull"), ["fields"] = "", ["values"] = false },
                ["textMode"] = "auto",
            };
            return new Panel(p);
        }

        public Panel BarGauge(string t, string desc, string unit, int w, int h, params Query[] queries)
        {
            var p = NewPanel("bargauge", t, desc, unit, w, h, queries);
            p["options"] = new JsonObject
            {
                ["displayMode"] = "gradient",
                ["orientation"] = "horizontal",
                ["reduceOptions"] = new JsonObject { ["calcs"] = Arr("lastNotNull"), ["fields"] = "", ["values"] = false },
                ["showUnfilled"] = true,
            };
            return new Panel(p);
        }

        public Panel StateTimeline(string t, string desc, int w, int h, params Query[] queries)
        {
            var p = NewPanel("state-timeline", t, desc, "short", w, h, queries);
            p["fieldConfig"]!["defaults"]!["custom"] = new JsonObject { ["fillOpacity"] = 80, ["lineWidth"] = 0 };
            p["options"] = new JsonObject
            {
                ["alignValue"] = "left",
                ["legend"] = new JsonObject { ["displayMode"] = "list", ["placement"] = "bottom", ["showLegend"] = false },
                ["mergeValues"] = true,
                ["rowHeight"] = 0.9,
                ["showValue"] = "auto",
                ["tooltip"] = new JsonObject { ["mode"] = "single", ["sort"] = "none" },
            };
            return new Panel(p);
        }

        /// <summary>
        /// A table of instant queries merged on their labels. <paramref name="columns"/> names the
        /// value column of each query in order ("" hides it: the query contributes label columns).
        /// With <paramref name="matrix"/> the single query is pivoted: rows by one label, columns by another.
        /// </summary>
        public Panel Table(string t, string desc, int w, int h, Query[] queries,
            string[]? columns = null, string[]? order = null,
            Dictionary<string, string>? units = null,
            Dictionary<string, (double, string, string)[]>? mappings = null,
            Dictionary<string, (double?, string)[]>? thresholds = null,
            (string Row, string Column)? matrix = null,
            string[]? footerSum = null, string? sortBy = null,
            Dictionary<string, (string Title, string Url)>? links = null)
        {
            var p = NewPanel("table", t, desc, "short", w, h, queries);
            p["fieldConfig"]!["defaults"]!["custom"] = new JsonObject
            {
                ["align"] = "auto", ["cellOptions"] = new JsonObject { ["type"] = "auto" }, ["inspect"] = false,
            };
            var options = new JsonObject
            {
                ["cellHeight"] = "sm",
                ["footer"] = new JsonObject
                {
                    ["countRows"] = false,
                    ["fields"] = footerSum is null ? "" : new JsonArray(footerSum.Select(f => (JsonNode)f).ToArray()),
                    ["reducer"] = Arr("sum"),
                    ["show"] = footerSum is not null,
                },
                ["showHeader"] = true,
            };
            if (sortBy is not null) options["sortBy"] = Arr(new JsonObject { ["desc"] = true, ["displayName"] = sortBy });
            p["options"] = options;

            var transformations = new JsonArray();
            var overrides = p["fieldConfig"]!["overrides"]!.AsArray();
            if (matrix is { } m)
            {
                transformations.Add(new JsonObject
                {
                    ["id"] = "groupingToMatrix",
                    ["options"] = new JsonObject { ["columnField"] = m.Column, ["rowField"] = m.Row, ["valueField"] = "Value", ["emptyValue"] = "empty" },
                });
                var all = mappings?["*"] ?? [];
                p["fieldConfig"]!["defaults"]!["mappings"] = ValueMappings(all);
                p["fieldConfig"]!["defaults"]!["custom"]!["cellOptions"] = new JsonObject { ["type"] = "color-background", ["mode"] = "basic" };
            }
            else
            {
                var exclude = new JsonObject { ["Time"] = true, ["__name__"] = true, ["job"] = true, ["instance"] = true };
                var rename = new JsonObject();
                for (int i = 0; i < queries.Length; i++)
                {
                    var valueField = queries.Length == 1 ? "Value" : $"Value #{(char)('A' + i)}";
                    var name = columns is not null && i < columns.Length ? columns[i] : "";
                    if (name == "") exclude[valueField] = true;
                    else rename[valueField] = name;
                }
                var index = new JsonObject();
                int pos = 0;
                foreach (var col in order ?? []) index[col] = pos++;
                transformations.Add(new JsonObject { ["id"] = "merge", ["options"] = new JsonObject() });
                transformations.Add(new JsonObject
                {
                    ["id"] = "organize",
                    ["options"] = new JsonObject { ["excludeByName"] = exclude, ["indexByName"] = index, ["renameByName"] = rename },
                });
                foreach (var (field, unit) in units ?? [])
                    overrides.Add(Override(field, new JsonObject { ["id"] = "unit", ["value"] = unit }));
                foreach (var (field, maps) in mappings ?? [])
                {
                    overrides.Add(Override(field,
                        new JsonObject { ["id"] = "mappings", ["value"] = ValueMappings(maps) },
                        new JsonObject { ["id"] = "custom.cellOptions", ["value"] = new JsonObject { ["type"] = "color-text" } }));
                }
                foreach (var (field, steps) in thresholds ?? [])
                {
                    overrides.Add(Override(field,
                        new JsonObject { ["id"] = "thresholds", ["value"] = Steps(steps) },
                        new JsonObject { ["id"] = "custom.cellOptions", ["value"] = new JsonObject { ["type"] = "color-background", ["mode"] = "basic" } }));
                }
                foreach (var (field, (title, url)) in links ?? [])
                {
                    overrides.Add(Override(field, new JsonObject
                    {
                        ["id"] = "links",
                        ["value"] = Arr(new JsonObject { ["title"] = title, ["url"] = url }),
                    }));
                }
            }
            p["transformations"] = transformations;
            return new Panel(p);
        }

        private static JsonObject Override(string field, params JsonObject[] properties) => new()
        {
            ["matcher"] = new JsonObject { ["id"] = "byName", ["options"] = field },
            ["properties"] = new JsonArray(properties.Select(x => (JsonNode)x).ToArray()),
        };

        private static JsonObject QueryVariable(string name, string label, string definition) => new()
        {
            ["allValue"] = ".*",
            ["current"] = new JsonObject { ["selected"] = true, ["text"] = Arr("All"), ["value"] = Arr("$__all") },
            ["datasource"] = Ds(),
            ["definition"] = definition,
            ["hide"] = 0,
            ["includeAll"] = true,
            ["label"] = label,
            ["multi"] = true,
            ["name"] = name,
            ["options"] = new JsonArray(),
            ["query"] = new JsonObject { ["qryType"] = 1, ["query"] = definition, ["refId"] = "PrometheusVariableQueryEditor-VariableQuery" },
            ["refresh"] = 2,
            ["regex"] = "",
            ["skipUrlSync"] = false,
            ["sort"] = 1,
            ["type"] = "query",
        };

        public JsonObject Build()
        {
            var vars = new JsonArray
            {
                new JsonObject
                {
                    ["current"] = new JsonObject { ["selected"] = false, ["text"] = "${DS_PROMETHEUS}", ["value"] = "${DS_PROMETHEUS}" },
                    ["hide"] = 0,
                    ["includeAll"] = false,
                    ["label"] = "Data source",
                    ["multi"] = false,
                    ["name"] = "datasource",
                    ["options"] = new JsonArray(),
                    ["query"] = "prometheus",
                    ["refresh"] = 1,
                    ["regex"] = "",
                    ["skipUrlSync"] = false,
                    ["type"] = "datasource",
                },
            };
            foreach (var v in variables)
            {
                vars.Add(v switch
                {
                    "cluster" => QueryVariable("cluster", "Cluster", "label_values(natsjs_server_info, cluster)"),
                    "account" => QueryVariable("account", "Account", $"label_values(natsjs_stream_info{{{K}}}, account)"),
                    "stream" => QueryVariable("stream", "Stream", $"label_values(natsjs_stream_info{{{K},{A}}}, stream)"),
                    "consumer" => QueryVariable("consumer", "Consumer", $"label_values(natsjs_consumer_info{{{S}}}, consumer)"),
                    _ => throw new ArgumentException(v),
                });
            }

            var requires = new JsonArray
            {
                new JsonObject { ["id"] = "grafana", ["name"] = "Grafana", ["type"] = "grafana", ["version"] = "10.4.0" },
                new JsonObject { ["id"] = "prometheus", ["name"] = "Prometheus", ["type"] = "datasource", ["version"] = "1.0.0" },
            };
            foreach (var type in _panelTypes)
            {
                var name = type switch
                {
                    "timeseries" => "Time series", "stat" => "Stat", "table" => "Table", "bargauge" => "Bar gauge",
                    "state-timeline" => "State timeline", _ => type,
                };
                requires.Add(new JsonObject { ["id"] = type, ["name"] = name, ["type"] = "panel", ["version"] = "" });
            }

            return new JsonObject
            {
                ["__inputs"] = Arr(new JsonObject
                {
                    ["description"] = "Prometheus scraping NatsJsExporter",
                    ["label"] = "Prometheus",
                    ["name"] = "DS_PROMETHEUS",
                    ["pluginId"] = "prometheus",
                    ["pluginName"] = "Prometheus",
                    ["type"] = "datasource",
                }),
                ["__requires"] = requires,
                ["annotations"] = new JsonObject
                {
                    ["list"] = Arr(new JsonObject
                    {
                        ["builtIn"] = 1,
                        ["datasource"] = new JsonObject { ["type"] = "grafana", ["uid"] = "-- Grafana --" },
                        ["enable"] = true,
                        ["hide"] = true,
                        ["iconColor"] = "rgba(0, 211, 255, 1)",
                        ["name"] = "Annotations & Alerts",
                        ["type"] = "dashboard",
                    }),
                },
                ["description"] = description,
                ["editable"] = true,
                ["fiscalYearStartMonth"] = 0,
                ["graphTooltip"] = 1,
                ["id"] = null,
                ["links"] = Arr(new JsonObject
                {
                    ["asDropdown"] = false,
                    ["icon"] = "external link",
                    ["includeVars"] = true,
                    ["keepTime"] = true,
                    ["tags"] = Arr(Tag),
                    ["targetBlank"] = false,
                    ["title"] = "NATS JetStream",
                    ["tooltip"] = "",
                    ["type"] = "dashboards",
                    ["url"] = "",
                }),
                ["panels"] = new JsonArray(_panels.Select(p => (JsonNode)p).ToArray()),
                ["refresh"] = "30s",
                ["schemaVersion"] = 39,
                ["tags"] = Arr(Tag, "nats", "jetstream"),
                ["templating"] = new JsonObject { ["list"] = vars },
                ["time"] = new JsonObject { ["from"] = "now-1h", ["to"] = "now" },
                ["timepicker"] = new JsonObject(),
                ["timezone"] = "",
                ["title"] = title,
                ["uid"] = uid,
                ["version"] = 1,
                ["weekStart"] = "",
            };
        }
    }
}
