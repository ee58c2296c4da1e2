using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace NatsJsExporter.Tests.Alerts;

/// <summary>
/// The inhibition rules of alerts/alertmanager.example.yml, checked by a real Alertmanager
/// (Debian package prometheus-alertmanager) on 127.0.0.1 loading the shipped file verbatim:
/// the test posts the alerts the shipped rules raise for a killed server (label sets as in
/// alerts/tests/*.yml) and reads back which ones Alertmanager suppresses. amtool cannot test
/// inhibition (`amtool config routes test` only routes). A missing binary fails the test.
/// </summary>
public sealed class AlertmanagerInhibitionTests
{
    private static readonly (string, string)[] Target = [("job", "natsjs"), ("instance", "exporter:9188")];

    private static JsonObject Alert(string name, string severity, params (string Key, string Value)[] labels)
    {
        var l = new JsonObject { ["alertname"] = name, ["severity"] = severity };
        foreach (var (k, v) in Target.Concat(labels))
            l[k] = v;
        return new JsonObject { ["labels"] = l };
    }

    /// <summary>Everything the shipped rules fire some minutes after server n2 of an R3 cluster is killed.</summary>
    private static List<JsonObject> KilledServerAlerts() =>
    [
        Alert("NatsJsServerOffline", "critical", ("peer", "n2")),
        Alert("NatsJsStreamReplicaUnhealthy", "critical", ("cluster", "c1"), ("account", "APP"), ("stream", "ORDERS"), ("peer", "n2")),
        Alert("NatsJsStreamReplicaUnhealthy", "critical", ("cluster", "c1"), ("account", "APP"), ("stream", "EVENTS"), ("peer", "n2")),
        Alert("NatsJsConsumerReplicaUnhealthy", "critical", ("cluster", "c1"), ("account", "APP"), ("stream", "ORDERS"), ("consumer", "PROC"), ("peer", "n2")),
        Alert("NatsJsStreamMonitorPeerSeenCritical", "critical", ("cluster", "c1"), ("account", "APP"), ("stream", "ORDERS"), ("peer", "n2")),
        Alert("NatsJsTargetDown", "warning", ("server", "n2"), ("peer", "n2")),
        Alert("NatsJsDataStale", "warning", ("server", "n2")),
        Alert("NatsJsServersMissing", "warning"),
        Alert("NatsJsStreamQuorumMarginZero", "warning", ("cluster", "c1"), ("account", "APP"), ("stream", "ORDERS")),
        Alert("NatsJsStreamQuorumMarginZero", "warning", ("cluster", "c1"), ("account", "APP"), ("stream", "EVENTS")),
        Alert("NatsJsConsumerQuorumMarginZero", "warning", ("cluster", "c1"), ("account", "APP"), ("stream", "ORDERS"), ("consumer", "PROC")),
        Alert("NatsJsMetaQuorumMarginZero", "warning"),
        Alert("NatsJsMetaClusterSizeAboveServers", "warning", ("cluster", "c1")),
    ];

    [Fact]
    public async Task A_killed_server_leaves_one_critical_alert_NatsJsServerOffline()
    {
        await using var am = await Alertmanager.StartAsync();
        var states = await am.PostAndReadAsync(KilledServerAlerts());

        var activeCritical = states.Where(s => s.Active && s.Severity == "critical").Select(s => s.Key).ToList();
        Assert.Equal(["NatsJsServerOffline{peer=n2}"], activeCritical);
        // The only warning left is the exporter's count of missing servers (no per-server label).
        var activeWarning = states.Where(s => s.Active && s.Severity == "warning").Select(s => s.Key).ToList();
        Assert.Equal(["NatsJsServersMissing{}"], activeWarning);
    }

    [Fact]
    public async Task Without_NatsJsServerOffline_replica_alerts_page_and_another_servers_replica_is_never_held_back()
    {
        await using var am = await Alertmanager.StartAsync();
        var alerts = KilledServerAlerts().Where(a => (string?)a["labels"]!["alertname"] != "NatsJsServerOffline").ToList();
        // A replica on n3, a second failure while n2 is down, and a lost quorum (never inhibited).
        alerts.Add(Alert("NatsJsStreamReplicaStuck", "critical", ("cluster", "c1"), ("account", "APP"), ("stream", "AUDIT"), ("peer", "n3")));
        alerts.Add(Alert("NatsJsStreamQuorumLost", "critical", ("cluster", "c1"), ("account", "APP"), ("stream", "AUDIT")));
        var states = await am.PostAndReadAsync(alerts);

        string[] expectedActiveCritical =
        [
            "NatsJsStreamQuorumLost{stream=AUDIT}",
            "NatsJsStreamReplicaStuck{peer=n3,stream=AUDIT}",
            "NatsJsStreamReplicaUnhealthy{peer=n2,stream=EVENTS}",
            "NatsJsStreamReplicaUnhealthy{peer=n2,stream=ORDERS}",
        ];
        Assert.Equal(expectedActiveCritical,
            states.Where(s => s.Active && s.Severity == "critical").Select(s => s.Key).Order(StringComparer.Ordinal));
        // The same peer's consumer replica and the metadata peer alert are explained by the stream replica.
        Assert.False(states.Single(s => s.Key == "NatsJsConsumerReplicaUnhealthy{consumer=PROC,peer=n2,stream=ORDERS}").Active);
        Assert.False(states.Single(s => s.Key == "NatsJsStreamMonitorPeerSeenCritical{peer=n2,stream=ORDERS}").Active);
        Assert.True(states.Single(s => s.Key == "NatsJsTargetDown{peer=n2,server=n2}").Active);
    }

    private sealed record AlertState(string Key, string Severity, bool Active);

    private sealed class Alertmanager : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly string _dir;
        private readonly HttpClient _http;

        private Alertmanager(Process process, string dir, int port)
        {
            _process = process;
            _dir = dir;
            _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        }

        public static async Task<Alertmanager> StartAsync()
        {
            var binary = FindBinary();
            var root = FindRepoRoot();
            var dir = Directory.CreateTempSubdirectory("natsjs-am-inhibit-").FullName;
            var port = FreePort();
            var psi = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[]
            {
                $"--config.file={Path.Combine(root, "alerts", "alertmanager.example.yml")}",
                $"--storage.path={Path.Combine(dir, "data")}",
                $"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn",
            }) psi.ArgumentList.Add(a);
            var log = new StringBuilder();
            var p = Process.Start(psi)!;
            p.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
            p.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            var am = new Alertmanager(p, dir, port);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (true)
            {
                try
                {
                    if ((await am._http.GetAsync("/-/ready")).IsSuccessStatusCode)
                        return am;
                }
                catch (HttpRequestException) { }
                if (p.HasExited || DateTime.UtcNow > deadline)
                {
                    await am.DisposeAsync();
                    lock (log)
                        Assert.Fail($"alertmanager did not become ready on 127.0.0.1:{port}: {log}");
                }
                await Task.Delay(100);
            }
        }

        public async Task<List<AlertState>> PostAndReadAsync(List<JsonObject> alerts)
        {
            var body = new JsonArray(alerts.Select(a => (JsonNode)a.DeepClone()).ToArray()).ToJsonString();
            var post = await _http.PostAsync("/api/v2/alerts", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.True(post.IsSuccessStatusCode, $"POST /api/v2/alerts: {(int)post.StatusCode} {await post.Content.ReadAsStringAsync()}");

            // Inhibition is evaluated when the alerts are read, against the source alerts the inhibitor
            // has indexed, which it does asynchronously after they arrive: wait until all arrived and
            // the states read the same for a second (a first read can show a target not yet inhibited).
            var deadline = DateTime.UtcNow.AddSeconds(10);
            List<AlertState>? last = null;
            var stableSince = DateTime.UtcNow;
            while (true)
            {
                var json = JsonNode.Parse(await _http.GetStringAsync("/api/v2/alerts"))!.AsArray();
                if (json.Count >= alerts.Count || DateTime.UtcNow > deadline)
                {
                    Assert.Equal(alerts.Count, json.Count);
                    var states = json.Select(a =>
                    {
                        var labels = a!["labels"]!.AsObject();
                        var name = (string)labels["alertname"]!;
                        var ids = labels
                            .Where(kv => kv.Key is not ("alertname" or "severity" or "job" or "instance" or "cluster" or "account"))
                            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
                            .Select(kv => $"{kv.Key}={kv.Value}");
                        var state = (string)a["status"]!["state"]!;
                        return new AlertState($"{name}{{{string.Join(',', ids)}}}", (string)labels["severity"]!, state == "active");
                    }).OrderBy(s => s.Key, StringComparer.Ordinal).ToList();
                    if (last is null || !last.SequenceEqual(states)) stableSince = DateTime.UtcNow;
                    else if (DateTime.UtcNow - stableSince >= TimeSpan.FromSeconds(1) || DateTime.UtcNow > deadline) return states;
                    last = states;
                }
                await Task.Delay(100);
            }
        }

        public async ValueTask DisposeAsync()
        {
            _http.Dispose();
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill();
                    await _process.WaitForExitAsync();
                }
            }
            catch (InvalidOperationException) { }
            _process.Dispose();
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        private static string FindBinary()
        {
            var fromEnv = Environment.GetEnvironmentVariable("ALERTMANAGER_BIN");
            if (!string.IsNullOrEmpty(fromEnv) && File.Exists(fromEnv))
                return fromEnv;
            var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Append("/usr/bin").Append("/usr/local/bin");
            foreach (var dir in path)
                foreach (var name in new[] { "prometheus-alertmanager", "alertmanager" })
                    if (File.Exists(Path.Combine(dir, name)))
                        return Path.Combine(dir, name);
            Assert.Fail("alertmanager not found on PATH: run scripts/install-deps.sh (Debian package prometheus-alertmanager) or set ALERTMANAGER_BIN.");
            return "";
        }

        private static int FreePort()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            var port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            return port;
        }

        private static string FindRepoRoot()
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NatsJsExporter.sln")))
                dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("NatsJsExporter.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
