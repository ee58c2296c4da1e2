using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

/// <summary>
/// A real JetStream cluster of nats-server processes (one node: a standalone server) on 127.0.0.1 with free ports and a temp
/// dir, torn down (processes killed, dir removed) on dispose, even after a failed test.
/// Accounts: APP and OPS (JetStream, users app/app and ops/ops) and SYS (system account, user sys/sys).
/// </summary>
public sealed class NatsCluster : IAsyncDisposable
{
    public sealed class Node
    {
        public required string Name { get; init; }
        public required int ClientPort { get; init; }
        public required int MonitorPort { get; init; }
        public required int ClusterPort { get; init; }
        public required string ConfigPath { get; init; }
        public Process? Process { get; set; }
        public bool Frozen { get; set; }
        public string MonitorUrl => $"http://127.0.0.1:{MonitorPort}";
        public string ClientUrl => $"nats://127.0.0.1:{ClientPort}";
    }

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly string _dir;
    private readonly string _binary;

    public IReadOnlyList<Node> Nodes { get; }
    public string ClusterName { get; } = "c1";

    private NatsCluster(string dir, string binary, List<Node> nodes)
    {
        _dir = dir;
        _binary = binary;
        Nodes = nodes;
    }

    public string MonitorUrls => string.Join(",", Nodes.Select(n => n.MonitorUrl));
    public string ClientUrls => string.Join(",", Nodes.Select(n => n.ClientUrl));
    public Node this[string name] => Nodes.Single(n => n.Name == name);

    /// <param name="extraConfig">Top-level config lines appended to every node's config
    /// (e.g. <c>lame_duck_duration: "5s"</c>).</param>
    /// <param name="jetStreamConfig">Lines added inside every node's <c>jetstream { }</c> block
    /// (e.g. <c>max_outstanding_catchup: 1MB</c>).</param>
    public static async Task<NatsCluster> StartAsync(int size = 3, string? binary = null, string? extraConfig = null, string? jetStreamConfig = null)
    {
        // A port found free can be taken (e.g. as another connection's local port) before the
        // server binds it; that node then exits and the cluster never forms. Start afresh, new ports.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(size, binary ?? NatsServerBinary.Path, extraConfig, jetStreamConfig);
            }
            catch (ClusterNotFormedException) when (attempt < 3) { }
        }
    }

    private sealed class ClusterNotFormedException(string message) : Exception(message);

    private static async Task<NatsCluster> StartOnceAsync(int size, string binary, string? extraConfig, string? jetStreamConfig)
    {
        var dir = Directory.CreateTempSubdirectory("natsjs-cluster-").FullName;
        var nodes = Enumerable.Range(1, size).Select(i => new Node
        {
            Name = $"n{i}",
            ClientPort = Ports.Free(),
            MonitorPort = Ports.Free(),
            ClusterPort = Ports.Free(),
            ConfigPath = Path.Combine(dir, $"n{i}.conf"),
        }).ToList();
        foreach (var n in nodes)
        {
            var routes = string.Join(", ", nodes.Select(o => $"nats-route://127.0.0.1:{o.ClusterPort}"));
            File.WriteAllText(n.ConfigPath, $$"""
                server_name: {{n.Name}}
                listen: 127.0.0.1:{{n.ClientPort}}
                http: 127.0.0.1:{{n.MonitorPort}}
                jetstream {
                  store_dir: "{{Path.Combine(dir, n.Name)}}"
                  max_memory_store: 256MB
                  max_file_store: 1GB
                  {{jetStreamConfig ?? ""}}
                }
                {{(size == 1 ? "" : $$"""
                cluster {
                  name: c1
                  listen: 127.0.0.1:{{n.ClusterPort}}
                  routes: [{{routes}}]
                }
                """)}}
                accounts {
                  SYS { users = [{ user: sys, password: sys }] }
                  APP { jetstream: enabled, users = [{ user: app, password: app }] }
                  OPS { jetstream: enabled, users = [{ user: ops, password: ops }] }
                }
                system_account: SYS
                {{extraConfig ?? ""}}
                """);
        }
        var cluster = new NatsCluster(dir, binary, nodes);
        try
        {
            foreach (var n in nodes) cluster.Launch(n);
            await cluster.WaitFormedAsync(TimeSpan.FromSeconds(30));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private void Launch(Node n)
    {
        n.Process = ChildProcess.StartNatsServer(_binary, n.ConfigPath, Path.Combine(_dir, n.Name + ".log"));
        n.Frozen = false;
    }

    /// <summary>
    /// Every node runs and answers /healthz, and the meta leader sees all its peers current, so
    /// an R3 stream can be placed at once ("no suitable peers for placement" otherwise).
    /// </summary>
    private async Task WaitFormedAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            if (Nodes.FirstOrDefault(n => n.Process is not { HasExited: false }) is { } gone)
                throw new ClusterNotFormedException($"{gone.Name} exited at start; logs in {_dir}: {Logs()}");
            bool ok = true;
            foreach (var n in Nodes)
            {
                try { ok &= (await Http.GetAsync(n.MonitorUrl + "/healthz")).IsSuccessStatusCode; }
                catch (Exception ex) { ok = false; last = $"{n.Name}: {ex.Message}"; }
            }
            if (ok && Nodes.Count == 1) return;
            if (ok)
            {
                foreach (var n in Nodes)
                {
                    JsonObject? meta = null;
                    try { meta = (await Http.GetFromJsonAsync<JsonObject>(n.MonitorUrl + "/jsz"))?["meta_cluster"] as JsonObject; }
                    catch (Exception) { }
                    if (meta?["leader"]?.GetValue<string>() != n.Name) continue;
                    int current = meta["replicas"]?.AsArray().Count(r => r?["current"]?.GetValue<bool>() == true) ?? 0;
                    if (current == Nodes.Count - 1) return;
                    last = $"meta leader {n.Name} sees {current} of {Nodes.Count - 1} peers current";
                }
            }
            await Task.Delay(200);
        }
        throw new ClusterNotFormedException($"cluster not formed within {timeout}: {last}; logs in {_dir}: {Logs()}");
    }

    /// <summary>Every running node answers /healthz and a meta leader is elected.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            bool allOk = true;
            foreach (var n in Nodes.Where(n => n.Process is { HasExited: false } && !n.Frozen))
            {
                try
                {
                    var r = await Http.GetAsync(n.MonitorUrl + "/healthz");
                    allOk &= r.IsSuccessStatusCode;
                }
                catch (Exception) { allOk = false; }
            }
            // A single server runs standalone (no meta group); a cluster needs an elected meta leader.
            if (allOk && (Nodes.Count == 1 || await MetaLeaderAsync() is not null)) return;
            await Task.Delay(200);
        }
        throw new TimeoutException($"cluster not ready within {timeout}; logs in {_dir}: {Logs()}");
    }

    /// <summary>The meta leader as the running nodes see it.</summary>
    public async Task<string?> MetaLeaderAsync()
    {
        foreach (var n in Nodes.Where(n => n.Process is { HasExited: false } && !n.Frozen))
        {
            try
            {
                var jsz = await Http.GetFromJsonAsync<JsonObject>(n.MonitorUrl + "/jsz");
                var leader = jsz?["meta_cluster"]?["leader"]?.GetValue<string>();
                if (!string.IsNullOrEmpty(leader)) return leader;
            }
            catch (Exception) { }
        }
        return null;
    }

    public async Task<string?> StreamLeaderAsync(string stream)
    {
        foreach (var n in Nodes.Where(n => n.Process is { HasExited: false } && !n.Frozen))
        {
            try
            {
                var jsz = await Http.GetFromJsonAsync<JsonObject>(n.MonitorUrl + "/jsz?accounts=true&streams=true");
                foreach (var acc in jsz?["account_details"]?.AsArray() ?? [])
                    foreach (var s in acc?["stream_detail"]?.AsArray() ?? [])
                        if (s?["name"]?.GetValue<string>() == stream && s["cluster"]?["leader"]?.GetValue<string>() is { Length: > 0 } l)
                            return l;
            }
            catch (Exception) { }
        }
        return null;
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

    public void Kill(string name)
    {
        var n = this[name];
        if (n.Frozen) Signals.Send(n.Process!.Id, Signals.SIGCONT);
        n.Process!.Kill();
        n.Process.WaitForExit(10_000);
        n.Frozen = false;
    }

    public void Restart(string name)
    {
        var n = this[name];
        if (n.Process is { HasExited: false }) Kill(name);
        Launch(n);
    }

    /// <summary>
    /// Takes a node down the way an operator does before a restart: lame duck mode (SIGUSR2,
    /// what <c>nats-server --signal ldm=PID</c> sends), which hands its Raft leaderships to other
    /// servers, closes client connections spread over <c>lame_duck_duration</c> and then shuts
    /// down. Waits for the process to exit, keeps the node down for <paramref name="downtime"/>
    /// (what a real restart adds: service manager, pod rescheduling, recovery of a large store),
    /// starts it again with the same config and store and waits until the cluster answers
    /// /healthz with a meta leader. Returns how long the old process took to exit.
    /// </summary>
    public async Task<TimeSpan> LameDuckRestartAsync(string name, TimeSpan exitTimeout, TimeSpan downtime = default)
    {
        var n = this[name];
        var old = n.Process!;
        var sw = Stopwatch.StartNew();
        Signals.Send(old.Id, Signals.SIGUSR2);
        using (var cts = new CancellationTokenSource(exitTimeout))
        {
            try { await old.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{name} did not leave lame duck mode within {exitTimeout}: {Logs()}");
            }
        }
        var exited = sw.Elapsed;
        old.Dispose();
        if (downtime > TimeSpan.Zero) await Task.Delay(downtime);
        Launch(n);
        await WaitReadyAsync(TimeSpan.FromSeconds(60));
        return exited;
    }

    public string Logs() => ChildProcess.TailLogs(_dir, 15);

    public async ValueTask DisposeAsync()
    {
        foreach (var n in Nodes)
        {
            await ChildProcess.StopNatsServerAsync(n.Process, n.Frozen);
        }
        try { Directory.Delete(_dir, recursive: true); } catch (Exception) { }
    }
}
