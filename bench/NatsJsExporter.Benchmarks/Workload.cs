using System.Buffers;
using System.Text.Json;

namespace NatsJsExporter.Benchmarks;

/// <summary>
/// A synthetic JetStream cluster: 3 servers (c1: n1, n2, n3), N streams R3 with leaders spread
/// evenly, 3 R3 consumers per stream, sources on 1 % of the streams, in 1 or 100 accounts.
/// Each server's /jsz answer is written exactly as nats-server 2.9.x shapes
/// `GET /jsz?accounts=true&amp;streams=true&amp;consumers=true&amp;config=true`: pretty-printed,
/// every server listing every stream it hosts (all of them, R3 on 3 servers) in random order,
/// with its own view of each Raft group (the leader's view of its followers; followers report
/// the other follower as not current with whole-log lag, as 2.9 does), config, state and
/// consumer_detail. Values are deterministic for a given seed. Each server also answers
/// /healthz?details=true (healthy: `{"status":"ok"}`) and /raftz (the meta group `_meta_` in the
/// system account, as 2.10.27+ shape it: the leader with its peers' last replicated index), and its
/// /varz carries <see cref="Version"/>, which decides what the exporter asks (2.10+: /raftz).
/// </summary>
public sealed class Workload
{
    public static readonly string[] ServerNames = ["n1", "n2", "n3"];
    public const string Cluster = "c1";
    public const string MetaLeader = "n2";
    private static readonly string[] ConsumerNames = ["PROCESSOR", "AUDIT", "BILLING"];
    private static readonly DateTime Epoch = new(2026, 11, 26, 4, 0, 0, DateTimeKind.Utc);

    public int Streams { get; }
    public int Accounts { get; }
    public string[] ServerIds { get; }
    /// <summary>/jsz answer per server, UTF-8 JSON.</summary>
    public byte[][] Jsz { get; }
    /// <summary>/varz answer per server (the fields that matter plus a realistic handful).</summary>
    public byte[][] Varz { get; }
    /// <summary>/healthz?details=true answer per server.</summary>
    public byte[][] Healthz { get; }
    /// <summary>/raftz answer per server (the meta group only, as `--raftz-groups meta` asks).</summary>
    public byte[][] Raftz { get; }
    /// <summary>The nats-server version every /varz reports.</summary>
    public string Version { get; }

    public const string DefaultVersion = "2.10.27";

    public long TotalJszBytes => Jsz.Sum(j => (long)j.Length);

    private Workload(int streams, int accounts, string[] ids, byte[][] jsz, byte[][] varz, byte[][] healthz, byte[][] raftz, string version)
    {
        Healthz = healthz;
        Raftz = raftz;
        Version = version;
        Streams = streams;
        Accounts = accounts;
        ServerIds = ids;
        Jsz = jsz;
        Varz = varz;
    }

    private sealed record StreamSpec(int Index, string Account, string Name, int Leader, ulong FirstSeq, ulong LastSeq, ulong Bytes,
        long Subjects, string Storage, long MaxBytes, DateTime Created, string? SourceOf, ConsumerSpec[] Consumers);

    private sealed record ConsumerSpec(string Name, int Leader, ulong Delivered, ulong AckFloor, ulong Pending, long AckPending,
        long Redelivered, long Waiting, DateTime Created, DateTime LastActive);

    public static string AccountName(int i, int accounts) => accounts == 1 ? "APP" : $"ACC{i % accounts:D3}";

    public static Workload Generate(int streams, int accounts, int seed = 42, string version = DefaultVersion, int consumersPerStream = 3)
    {
        if (consumersPerStream is < 0 or > 3) throw new ArgumentOutOfRangeException(nameof(consumersPerStream), "0 to 3 consumers per stream");
        var rnd = new Random(seed);
        var specs = new StreamSpec[streams];
        for (int i = 0; i < streams; i++)
        {
            ulong last = (ulong)rnd.Next(0, 5_000_000);
            ulong first = last == 0 ? 0 : Math.Max(1, last - (ulong)rnd.Next(0, 1_000_000));
            ulong msgs = last == 0 ? 0 : last - first + 1;
            var created = Epoch.AddSeconds(-rnd.Next(0, 86_400 * 90)).AddTicks(rnd.Next(0, 10_000_000));
            var consumers = new ConsumerSpec[consumersPerStream];
            for (int c = 0; c < consumers.Length; c++)
            {
                ulong delivered = msgs == 0 ? 0 : first + (ulong)rnd.NextInt64(0, (long)msgs);
                ulong ackFloor = delivered == 0 ? 0 : delivered - (ulong)rnd.Next(0, (int)Math.Min(delivered, 1000));
                consumers[c] = new ConsumerSpec(ConsumerNames[c], (i + c + 1) % 3, delivered, ackFloor, last - Math.Min(last, delivered),
                    (long)(delivered - ackFloor), rnd.Next(0, 3) == 0 ? rnd.Next(0, 50) : 0, rnd.Next(0, 4),
                    created.AddSeconds(rnd.Next(1, 600)).AddTicks(rnd.Next(0, 10_000_000)), Epoch.AddMilliseconds(-rnd.Next(0, 60_000)));
            }
            string account = AccountName(i, accounts);
            specs[i] = new StreamSpec(i, account, $"ORDERS_{i:D5}", i % 3, first, last, msgs * (ulong)rnd.Next(80, 600),
                rnd.Next(1, 2000), rnd.Next(0, 5) == 0 ? "memory" : "file", rnd.Next(0, 2) == 0 ? -1 : 1L << rnd.Next(26, 34), created,
                // 1 % of the streams source the stream before them (same account when there are 100 accounts: i-accounts).
                i % 100 == 99 && i >= accounts ? $"ORDERS_{i - (accounts == 1 ? 1 : accounts):D5}" : null, consumers);
        }

        var ids = ServerNames.Select(_ => "N" + RandomId(rnd, 55)).ToArray();
        var peers = ServerNames.Select(_ => RandomId(rnd, 8)).ToArray();
        var jsz = new byte[ServerNames.Length][];
        var varz = new byte[ServerNames.Length][];
        var healthz = new byte[ServerNames.Length][];
        var raftz = new byte[ServerNames.Length][];
        for (int s = 0; s < ServerNames.Length; s++)
        {
            var order = specs.ToArray();
            new Random(seed + 100 + s).Shuffle(order); // stream_detail order is random per server
            jsz[s] = WriteJsz(s, ids, peers, order, accounts, new Random(seed + 200 + s));
            varz[s] = WriteVarz(s, ids[s], version);
            healthz[s] = "{\"status\":\"ok\"}"u8.ToArray();
            raftz[s] = WriteRaftz(s, peers, streams, new Random(seed + 300 + s));
        }
        return new Workload(streams, accounts, ids, jsz, varz, healthz, raftz, version);
    }

    private static string RandomId(Random rnd, int n)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        return string.Create(n, rnd, (span, r) => { for (int i = 0; i < span.Length; i++) span[i] = alphabet[r.Next(alphabet.Length)]; });
    }

    private static readonly JsonWriterOptions Pretty = new() { Indented = true, SkipValidation = true };

    private static string Ts(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static byte[] WriteJsz(int self, string[] ids, string[] peerIds, StreamSpec[] streams, int accounts, Random rnd)
    {
        var buffer = new ArrayBufferWriter<byte>(streams.Length * (2100 + 1500 * (streams.Length == 0 ? 0 : streams[0].Consumers.Length)) + 4096);
        using (var w = new Utf8JsonWriter(buffer, Pretty))
        {
            ulong messages = 0, bytes = 0, mem = 0, file = 0;
            foreach (var s in streams)
            {
                messages += s.LastSeq == 0 ? 0 : s.LastSeq - s.FirstSeq + 1;
                bytes += s.Bytes;
                if (s.Storage == "memory") mem += s.Bytes; else file += s.Bytes;
            }
            w.WriteStartObject();
            w.WriteString("server_id", ids[self]);
            w.WriteString("now", Ts(Epoch));
            w.WriteStartObject("config");
            w.WriteNumber("max_memory", 8L << 30);
            w.WriteNumber("max_storage", 1L << 40);
            w.WriteString("store_dir", $"/data/jetstream/{ServerNames[self]}/jetstream");
            w.WriteBoolean("compress_ok", true);
            w.WriteEndObject();
            w.WriteNumber("memory", mem);
            w.WriteNumber("storage", file);
            w.WriteNumber("reserved_memory", 0);
            w.WriteNumber("reserved_storage", 0);
            w.WriteNumber("accounts", accounts);
            w.WriteNumber("ha_assets", streams.Length * 4 + 1);
            w.WriteStartObject("api");
            w.WriteNumber("total", rnd.NextInt64(1_000_000, 50_000_000));
            w.WriteNumber("errors", rnd.Next(0, 5000));
            w.WriteEndObject();
            w.WriteNumber("streams", streams.Length);
            w.WriteNumber("consumers", streams.Sum(s => s.Consumers.Length));
            w.WriteNumber("messages", messages);
            w.WriteNumber("bytes", bytes);
            w.WriteStartObject("meta_cluster");
            w.WriteString("name", Cluster);
            w.WriteString("leader", MetaLeader);
            w.WriteString("peer", peerIds[Array.IndexOf(ServerNames, MetaLeader)]);
            if (ServerNames[self] == MetaLeader)
            {
                // Only the meta leader lists the meta peers, never itself.
                w.WriteStartArray("replicas");
                for (int p = 0; p < ServerNames.Length; p++)
                {
                    if (p == self) continue;
                    w.WriteStartObject();
                    w.WriteString("name", ServerNames[p]);
                    w.WriteBoolean("current", true);
                    w.WriteNumber("active", rnd.Next(10_000_000, 900_000_000));
                    w.WriteString("peer", peerIds[p]);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteNumber("cluster_size", ServerNames.Length);
            w.WriteEndObject();

            w.WriteStartArray("account_details");
            foreach (var group in streams.GroupBy(s => s.Account).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                ulong accMem = 0, accFile = 0;
                foreach (var s in group) { if (s.Storage == "memory") accMem += s.Bytes * 3; else accFile += s.Bytes * 3; }
                w.WriteStartObject();
                w.WriteString("name", group.Key);
                w.WriteString("id", group.Key);
                w.WriteNumber("memory", accMem);
                w.WriteNumber("storage", accFile);
                w.WriteNumber("reserved_memory", ulong.MaxValue);
                w.WriteNumber("reserved_storage", ulong.MaxValue);
                w.WriteNumber("accounts", 0);
                w.WriteNumber("ha_assets", 0);
                w.WriteStartObject("api");
                w.WriteNumber("total", rnd.Next(1000, 1_000_000));
                w.WriteNumber("errors", rnd.Next(0, 100));
                w.WriteEndObject();
                w.WriteStartArray("stream_detail");
                foreach (var s in group) WriteStream(w, self, peerIds, s, rnd);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    // The reporting server's view of a Raft group: all peers but itself, sorted by name. The leader
    // sees its followers current; a follower sees the leader current and (2.9.x) the other follower
    // as not current, never active, lagging by the whole log.
    private static void WriteReplicas(Utf8JsonWriter w, int self, int leader, string[] peerIds, ulong log, Random rnd)
    {
        w.WriteStartObject("cluster");
        w.WriteString("name", Cluster);
        w.WriteString("leader", ServerNames[leader]);
        w.WriteStartArray("replicas");
        for (int p = 0; p < ServerNames.Length; p++)
        {
            if (p == self) continue;
            w.WriteStartObject();
            w.WriteString("name", ServerNames[p]);
            if (self == leader || p == leader)
            {
                w.WriteBoolean("current", true);
                w.WriteNumber("active", rnd.Next(1_000_000, 999_000_000));
            }
            else
            {
                w.WriteBoolean("current", false);
                w.WriteNumber("active", 0);
                if (log > 0) w.WriteNumber("lag", log);
            }
            w.WriteString("peer", peerIds[p]);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteStream(Utf8JsonWriter w, int self, string[] peerIds, StreamSpec s, Random rnd)
    {
        w.WriteStartObject();
        w.WriteString("name", s.Name);
        w.WriteString("created", Ts(s.Created));
        WriteReplicas(w, self, s.Leader, peerIds, s.LastSeq + 1, rnd);

        w.WriteStartObject("config");
        w.WriteString("name", s.Name);
        w.WriteString("description", $"orders of shard {s.Index}");
        if (s.SourceOf is null)
        {
            w.WriteStartArray("subjects");
            w.WriteStringValue($"orders.{s.Index}.>");
            w.WriteEndArray();
        }
        w.WriteString("retention", "limits");
        w.WriteNumber("max_consumers", -1);
        w.WriteNumber("max_msgs", -1);
        w.WriteNumber("max_bytes", s.MaxBytes);
        w.WriteNumber("max_age", 604_800_000_000_000L);
        w.WriteNumber("max_msgs_per_subject", -1);
        w.WriteNumber("max_msg_size", -1);
        w.WriteString("discard", "old");
        w.WriteString("storage", s.Storage);
        w.WriteNumber("num_replicas", 3);
        w.WriteNumber("duplicate_window", 120_000_000_000L);
        if (s.SourceOf is not null)
        {
            w.WriteStartArray("sources");
            w.WriteStartObject();
            w.WriteString("name", s.SourceOf);
            w.WriteEndObject();
            w.WriteEndArray();
        }
        w.WriteBoolean("allow_direct", false);
        w.WriteBoolean("mirror_direct", false);
        w.WriteBoolean("sealed", false);
        w.WriteBoolean("deny_delete", false);
        w.WriteBoolean("deny_purge", false);
        w.WriteBoolean("allow_rollup_hdrs", false);
        w.WriteEndObject();

        w.WriteStartObject("state");
        w.WriteNumber("messages", s.LastSeq == 0 ? 0 : s.LastSeq - s.FirstSeq + 1);
        w.WriteNumber("bytes", s.Bytes);
        w.WriteNumber("first_seq", s.FirstSeq);
        w.WriteString("first_ts", s.LastSeq == 0 ? "0001-01-01T00:00:00Z" : Ts(s.Created.AddSeconds(30)));
        w.WriteNumber("last_seq", s.LastSeq);
        w.WriteString("last_ts", s.LastSeq == 0 ? "0001-01-01T00:00:00Z" : Ts(Epoch.AddMilliseconds(-rnd.Next(0, 60_000))));
        w.WriteNumber("num_subjects", s.Subjects);
        w.WriteNumber("consumer_count", s.Consumers.Length);
        w.WriteEndObject();

        w.WriteStartArray("consumer_detail");
        foreach (var c in s.Consumers) WriteConsumer(w, self, peerIds, s, c, rnd);
        w.WriteEndArray();

        if (s.SourceOf is not null)
        {
            w.WriteStartArray("sources");
            w.WriteStartObject();
            w.WriteString("name", s.SourceOf);
            w.WriteNumber("lag", 0);
            w.WriteNumber("active", rnd.Next(1_000_000, 999_000_000));
            w.WriteEndObject();
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WriteConsumer(Utf8JsonWriter w, int self, string[] peerIds, StreamSpec s, ConsumerSpec c, Random rnd)
    {
        // Followers lag behind the consumer leader a little.
        ulong behind = self == c.Leader ? 0 : (ulong)rnd.Next(0, 3);
        w.WriteStartObject();
        w.WriteString("stream_name", s.Name);
        w.WriteString("name", c.Name);
        w.WriteString("created", Ts(c.Created));
        w.WriteStartObject("config");
        w.WriteString("durable_name", c.Name);
        w.WriteString("name", c.Name);
        w.WriteString("deliver_policy", "all");
        w.WriteString("ack_policy", "explicit");
        w.WriteNumber("ack_wait", 30_000_000_000L);
        w.WriteNumber("max_deliver", -1);
        w.WriteString("filter_subject", $"orders.{s.Index}.>");
        w.WriteString("replay_policy", "instant");
        w.WriteNumber("max_waiting", 512);
        w.WriteNumber("max_ack_pending", 1000);
        w.WriteNumber("num_replicas", 3);
        w.WriteEndObject();
        w.WriteStartObject("delivered");
        w.WriteNumber("consumer_seq", c.Delivered - Math.Min(c.Delivered, behind));
        w.WriteNumber("stream_seq", c.Delivered - Math.Min(c.Delivered, behind));
        w.WriteString("last_active", Ts(c.LastActive));
        w.WriteEndObject();
        w.WriteStartObject("ack_floor");
        w.WriteNumber("consumer_seq", c.AckFloor);
        w.WriteNumber("stream_seq", c.AckFloor);
        w.WriteString("last_active", Ts(c.LastActive.AddMilliseconds(-5)));
        w.WriteEndObject();
        w.WriteNumber("num_ack_pending", c.AckPending);
        w.WriteNumber("num_redelivered", c.Redelivered);
        w.WriteNumber("num_waiting", c.Waiting);
        w.WriteNumber("num_pending", c.Pending + behind);
        WriteReplicas(w, self, c.Leader, peerIds, c.Delivered + 1, rnd);
        w.WriteEndObject();
    }

    // GET /raftz (no account): {"SYS": {"_meta_": group}} as this server sees the meta group.
    private static byte[] WriteRaftz(int self, string[] peerIds, int streams, Random rnd)
    {
        int leader = Array.IndexOf(ServerNames, MetaLeader);
        ulong index = (ulong)streams * 5 + 100; // about one entry per stream and consumer assignment
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var w = new Utf8JsonWriter(buffer, Pretty))
        {
            w.WriteStartObject();
            w.WriteStartObject("SYS");
            w.WriteStartObject("_meta_");
            w.WriteString("id", peerIds[self]);
            w.WriteString("state", self == leader ? "LEADER" : "FOLLOWER");
            w.WriteNumber("size", ServerNames.Length);
            w.WriteNumber("quorum_needed", ServerNames.Length / 2 + 1);
            w.WriteNumber("committed", index);
            w.WriteNumber("applied", index);
            w.WriteString("leader", peerIds[leader]);
            if (self == leader) w.WriteString("leader_since", Ts(Epoch.AddHours(-30)));
            w.WriteBoolean("ever_had_leader", true);
            w.WriteNumber("term", 7);
            w.WriteString("voted_for", peerIds[leader]);
            w.WriteNumber("pterm", 7);
            w.WriteNumber("pindex", index);
            w.WriteBoolean("system_account", true);
            w.WriteString("traffic_account", "SYS");
            w.WriteStartObject("wal");
            w.WriteNumber("messages", 1000);
            w.WriteNumber("bytes", 1_000_000);
            w.WriteNumber("first_seq", index - 999);
            w.WriteNumber("last_seq", index);
            w.WriteEndObject();
            w.WriteStartObject("peers");
            for (int p = 0; p < ServerNames.Length; p++)
            {
                if (p == self) continue;
                w.WriteStartObject(peerIds[p]);
                w.WriteString("name", ServerNames[p]);
                w.WriteBoolean("known", true);
                if (self == leader) w.WriteNumber("last_replicated_index", index);
                if (self == leader || p == leader) w.WriteString("last_seen", $"{rnd.Next(1, 999)}.{rnd.Next(0, 999999):D6}ms");
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] WriteVarz(int self, string id, string version)
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var w = new Utf8JsonWriter(buffer, Pretty))
        {
            w.WriteStartObject();
            w.WriteString("server_id", id);
            w.WriteString("server_name", ServerNames[self]);
            w.WriteString("version", version);
            w.WriteNumber("proto", 1);
            w.WriteString("go", "go1.19.8");
            w.WriteString("host", "127.0.0.1");
            w.WriteNumber("port", 4222);
            w.WriteNumber("max_connections", 65536);
            w.WriteStartObject("cluster");
            w.WriteString("name", Cluster);
            w.WriteString("addr", "127.0.0.1");
            w.WriteNumber("cluster_port", 6222);
            w.WriteEndObject();
            w.WriteStartObject("jetstream");
            w.WriteStartObject("meta");
            w.WriteString("name", Cluster);
            w.WriteString("leader", MetaLeader);
            w.WriteNumber("cluster_size", 3);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteNumber("mem", 123_456_789);
            w.WriteNumber("cores", 8);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
