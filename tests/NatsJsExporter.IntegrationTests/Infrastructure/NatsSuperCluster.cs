using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

/// <summary>
/// A real JetStream super-cluster as in the JetStream cluster administration guide: clusters
/// (by default c1 and c2 of three servers each, n1-c1..n3-c1 and n1-c2..n3-c2) joined by gateways,
/// one meta group across all of them, on 127.0.0.1 with free ports and a temp dir, torn down
/// (processes killed, dir removed) on dispose, even after a failed test. Small JetStream limits
/// (64 MB memory, 256 MB file per server) so six servers fit on a loaded machine.
/// Accounts on every server: APP (JetStream, user app/app) and SYS (system account, user sys/sys).
/// With <c>gateways: false</c> and a domain per cluster the clusters are independent JetStream
/// domains instead (each its own meta group), for the domain scenarios.
/// </summary>
public sealed class NatsSuperCluster : IAsyncDisposable
{
    public sealed class Node
    {
        public required string Name { get; init; }
        public required string Cluster { get; init; }
        public required int ClientPort { get; init; }
        public required int MonitorPort { get; init; }
        public required int ClusterPort { get; init; }
        public required int GatewayPort { get; init; }
        public required string ConfigPath { get; init; }
        public Process? Process { get; set; }
        public bool Frozen { get; set; }
        public string MonitorUrl => $"http://127.0.0.1:{MonitorPort}";
        public string ClientUrl => $"nats://127.0.0.1:{ClientPort}";
        public bool Running => Process is { HasExited: false } && !Frozen;
    }

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };
    private readonly string _dir;
    private readonly string _binary;

    public IReadOnlyList<Node> Nodes { get; }
    public IReadOnlyList<string> Clusters { get; }

    private readonly bool _gateways;

    private NatsSuperCluster(string dir, string binary, List<Node> nodes, bool gateways)
    {
        _dir = dir;
        _gateways = gateways;
        _binary = binary;
        Nodes = nodes;
        Clusters = nodes.Select(n => n.Cluster).Distinct().ToArray();
    }

    public string MonitorUrls => string.Join(",", Nodes.Select(n => n.MonitorUrl));
    public string ClientUrls => string.Join(",", Nodes.Select(n => n.ClientUrl));
    public Node this[string name] => Nodes.Single(n => n.Name == name);
    public IEnumerable<Node> In(string cluster) => Nodes.Where(n => n.Cluster == cluster);

    /// <param name="clusters">Cluster names; servers are n1-&lt;cluster&gt;..nN-&lt;cluster&gt;.</param>
    /// <param name="gateways">Join the clusters with gateways into one super-cluster (one meta group).</param>
    /// <param name="domain">JetStream domain of each cluster (null: none).</param>
    public static async Task<NatsSuperCluster> StartAsync(string[]? clusters = null, int nodesPerCluster = 3, string? binary = null,
        bool gateways = true, Func<string, string?>? domain = null)
    {
        clusters ??= ["c1", "c2"];
        binary ??= NatsServerBinary.Path;
        var dir = Directory.CreateTempSubdirectory("natsjs-supercluster-").FullName;
        var nodes = clusters.SelectMany(c => Enumerable.Range(1, nodesPerCluster).Select(i => new Node
        {
            Name = $"n{i}-{c}",
            Cluster = c,
            ClientPort = Ports.Free(),
            MonitorPort = Ports.Free(),
            ClusterPort = Ports.Free(),
            GatewayPort = Ports.Free(),
            ConfigPath = Path.Combine(dir, $"n{i}-{c}.conf"),
        })).ToList();
        string gatewayList = string.Join(",\n    ", clusters.Select(c =>
            $"{{ name: {c}, urls: [{string.Join(", ", nodes.Where(n => n.Cluster == c).Select(n => $"nats://127.0.0.1:{n.GatewayPort}"))}] }}"));
        foreach (var n in nodes)
        {
            var routes = string.Join(", ", nodes.Where(o => o.Cluster == n.Cluster).Select(o => $"nats-route://127.0.0.1:{o.ClusterPort}"));
            string? d = domain?.Invoke(n.Cluster);
            File.WriteAllText(n.ConfigPath, $$"""
                server_name: {{n.Name}}
                listen: 127.0.0.1:{{n.ClientPort}}
                # Give up on a silent (frozen) route or gateway peer within seconds, not minutes.
                ping_interval: "2s"
                ping_max: 3
                http: 127.0.0.1:{{n.MonitorPort}}
                jetstream {
                  store_dir: "{{Path.Combine(dir, n.Name)}}"
                  max_memory_store: 64MB
                  max_file_store: 256MB
                  {{(d is null ? "" : $"domain: {d}")}}
                }
                cluster {
                  name: {{n.Cluster}}
                  listen: 127.0.0.1:{{n.ClusterPort}}
                  routes: [{{routes}}]
                }
                {{(gateways ? $$"""
                gateway {
                  name: {{n.Cluster}}
                  listen: 127.0.0.1:{{n.GatewayPort}}
                  gateways: [
                    {{gatewayList}}
                  ]
                }
                """ : "")}}
                accounts {
                  SYS { users = [{ user: sys, password: sys }] }
                  APP { jetstream: enabled, users = [{ user: app, password: app }] }
                }
                system_account: SYS
                """);
        }
        var sc = new NatsSuperCluster(dir, binary, nodes, gateways);
        try
        {
            foreach (var n in nodes) sc.Launch(n);
            await sc.WaitReadyAsync(TimeSpan.FromSeconds(90));
            return sc;
        }
        catch
        {
            await sc.DisposeAsync();
            throw;
        }
    }

    private void Launch(Node n)
    {
        n.Process = ChildProcess.StartNatsServer(_binary, n.ConfigPath, Path.Combine(_dir, n.Name + ".log"));
        n.Frozen = false;
    }

    /// <summary>
    /// Every running server answers /healthz, and each meta group (one for a super-cluster, one per
    /// domain otherwise) has a leader that sees all its peers current.
    /// </summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            bool ok = true;
            foreach (var n in Nodes.Where(n => n.Running))
            {
                try { ok &= (await Http.GetAsync(n.MonitorUrl + "/healthz")).IsSuccessStatusCode; }
                catch (Exception ex) { ok = false; last = $"{n.Name}: {ex.Message}"; }
            }
            if (ok)
            {
                // Each server's meta leader must list every other member of its meta group as current.
                var leaders = new Dictionary<string, int>();
                foreach (var n in Nodes.Where(n => n.Running))
                {
                    var meta = await MetaAsync(n);
                    if (meta?["leader"]?.GetValue<string>() == n.Name)
                        leaders[n.Name] = meta["replicas"]?.AsArray().Count(r => r?["current"]?.GetValue<bool>() == true) ?? 0;
                }
                int expectedGroups = _gateways ? 1 : Clusters.Count;
                int peersPerGroup = Nodes.Count / expectedGroups - 1;
                if (leaders.Count == expectedGroups && leaders.Values.All(c => c == peersPerGroup)) return;
                last = $"meta leaders (current peers): {string.Join(", ", leaders.Select(kv => $"{kv.Key} ({kv.Value})"))}";
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"super-cluster not ready within {timeout}: {last}; logs in {_dir}: {Logs()}");
    }

    private static async Task<JsonObject?> MetaAsync(Node n)
    {
        try
        {
            var jsz = await Http.GetFromJsonAsync<JsonObject>(n.MonitorUrl + "/jsz");
            return jsz?["meta_cluster"] as JsonObject;
        }
        catch (Exception) { return null; }
    }

    /// <summary>The meta leader as the running servers see it.</summary>
    public async Task<string?> MetaLeaderAsync()
    {
        foreach (var n in Nodes.Where(n => n.Running))
            if ((await MetaAsync(n))?["leader"]?.GetValue<string>() is { Length: > 0 } leader) return leader;
        return null;
    }

    /// <summary>
    /// The server of <paramref name="cluster"/> that <paramref name="from"/>'s outbound gateway
    /// connection goes to (from /gatewayz). Everything <paramref name="from"/> sends to that cluster,
    /// a system-account PING included, enters it through this one server: freeze it and the whole
    /// cluster goes quiet for <paramref name="from"/> until the gateway's pings give up on it.
    /// </summary>
    public async Task<string?> OutboundGatewayPeerAsync(string from, string cluster)
    {
        var gw = await Http.GetFromJsonAsync<JsonObject>(this[from].MonitorUrl + "/gatewayz");
        int? port = gw?["outbound_gateways"]?[cluster]?["connection"]?["port"]?.GetValue<int>();
        return Nodes.FirstOrDefault(n => n.GatewayPort == port)?.Name;
    }

    /// <summary>The stream's leader and peer set (leader first) as the running servers report it.</summary>
    public async Task<(string? Leader, string[] Peers)> StreamGroupAsync(string stream)
    {
        foreach (var n in Nodes.Where(n => n.Running))
        {
            try
            {
                var jsz = await Http.GetFromJsonAsync<JsonObject>(n.MonitorUrl + "/jsz?accounts=true&streams=true");
                foreach (var acc in jsz?["account_details"]?.AsArray() ?? [])
                    foreach (var s in acc?["stream_detail"]?.AsArray() ?? [])
                        if (s?["name"]?.GetValue<string>() == stream && s["cluster"]?["leader"]?.GetValue<string>() == n.Name)
                            return (n.Name, [n.Name, .. (s["cluster"]?["replicas"]?.AsArray() ?? []).Select(r => r!["name"]!.GetValue<string>())]);
            }
            catch (Exception) { }
        }
        return (null, []);
    }

    public void Freeze(string name)
    {
        Signals.Send(this[name].Process!.Id, Signals.SIGSTOP);
        this[name].Frozen = true;
    }

    public void Resume(string name)
    {
        Signals.Send(this[name].Process!.Id, Signals.SIGCONT);
        this[name].Frozen = false;
    }

    public string Logs() => ChildProcess.TailLogs(_dir, 10);

    public async ValueTask DisposeAsync()
    {
        foreach (var n in Nodes)
        {
            await ChildProcess.StopNatsServerAsync(n.Process, n.Frozen);
        }
        try { Directory.Delete(_dir, recursive: true); } catch (Exception) { }
    }
}
