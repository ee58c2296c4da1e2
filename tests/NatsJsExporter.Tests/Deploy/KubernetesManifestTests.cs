using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using NatsJsExporter.Options;
using NatsJsExporter.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using YamlDotNet.Serialization;

namespace NatsJsExporter.Tests.Deploy;

/// <summary>
/// Renders deploy/kubernetes (the base) and both overlays with the real `kubectl kustomize` and
/// checks what a cluster operator relies on: every object loads into the Kubernetes object model
/// without unknown fields (KubernetesClient, strict), the Prometheus Operator resources have the
/// CRDs' shape, every setting the container gets passes the exporter's own option validation,
/// the pod is locked down, probes, Service, ServiceMonitor and NetworkPolicy agree on the port
/// the exporter listens on, the real exporter serves the probe paths, and the dashboards and
/// rules inside are the current ones. A missing kubectl fails (never a skip).
/// </summary>
public sealed partial class KubernetesManifestTests
{
    public const string Base = "deploy/kubernetes";
    public const string HttpOverlay = "deploy/kubernetes/overlays/http";
    public const string SystemAccountOverlay = "deploy/kubernetes/overlays/system-account";

    public static TheoryData<string> Targets => new() { Base, HttpOverlay, SystemAccountOverlay };

    private static readonly ConcurrentDictionary<string, Lazy<Rendered>> Cache = new();

    private static Rendered Render(string dir) => Cache.GetOrAdd(dir, d => new Lazy<Rendered>(() => Rendered.Of(d))).Value;

    // ---------------------------------------------------------------- object model

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_document_loads_strictly_into_the_Kubernetes_object_model(string dir)
    {
        var rendered = Render(dir);
        Assert.NotEmpty(rendered.Documents);
        foreach (var doc in rendered.Documents.Where(d => !d.IsCustomResource))
        {
            List<object> objects;
            try
            {
                objects = KubernetesYaml.LoadAllFromString(doc.Text, strict: true);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"{dir}: {doc.Kind}/{doc.Name} does not load into the Kubernetes object model: {e.Message}");
            }
            var obj = Assert.Single(objects);
            Assert.IsAssignableFrom<IKubernetesObject>(obj);
        }
        var kinds = rendered.Documents.Select(d => d.Kind).ToHashSet();
        foreach (var kind in new[] { "Deployment", "Service", "ServiceMonitor", "PrometheusRule", "ConfigMap", "NetworkPolicy" })
            Assert.True(kinds.Contains(kind), $"{dir} renders no {kind}");
    }

    /// <summary>The strict loader really rejects a misspelt field (else the test above could not fail).</summary>
    [Fact]
    public void Strict_loading_rejects_an_unknown_field()
    {
        var deployment = Render(Base).Documents.Single(d => d.Kind == "Deployment").Text;
        Assert.Contains("readOnlyRootFilesystem:", deployment);
        var misspelt = deployment.Replace("readOnlyRootFilesystem:", "readOnlyRootFileSystem:", StringComparison.Ordinal);
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(misspelt, strict: true));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void ServiceMonitor_and_PrometheusRule_have_the_prometheus_operator_shape(string dir)
    {
        var rendered = Render(dir);
        var service = rendered.Single<V1Service>();

        var monitor = rendered.Documents.Single(d => d.Kind == "ServiceMonitor");
        var sm = Map(monitor.Tree, "ServiceMonitor");
        Assert.Equal("monitoring.coreos.com/v1", Str(sm, "apiVersion"));
        KnownKeys(sm, "ServiceMonitor", "apiVersion", "kind", "metadata", "spec");
        var spec = Map(sm["spec"], "ServiceMonitor spec");
        KnownKeys(spec, "ServiceMonitor spec", ServiceMonitorSpecKeys);
        var selector = Map(Map(spec["selector"], "spec.selector")["matchLabels"], "spec.selector.matchLabels");
        foreach (var (key, value) in selector)
            Assert.True(service.Metadata.Labels.TryGetValue((string)key, out var v) && v == (string)value!,
                $"ServiceMonitor selects {key}={value}, which the Service's labels do not carry");
        var endpoints = List(spec["endpoints"], "spec.endpoints");
        Assert.NotEmpty(endpoints);
        foreach (var e in endpoints.Select(e => Map(e, "endpoint")))
        {
            KnownKeys(e, "ServiceMonitor endpoint", ServiceMonitorEndpointKeys);
            var port = Str(e, "port");
            Assert.True(service.Spec.Ports.Any(p => p.Name == port), $"ServiceMonitor endpoint port \"{port}\" is not a named port of the Service");
            Assert.Equal("/metrics", Str(e, "path"));
            var interval = PrometheusDuration(Str(e, "interval"));
            var timeout = PrometheusDuration(Str(e, "scrapeTimeout"));
            Assert.True(timeout <= interval, $"scrapeTimeout {timeout} is longer than the interval {interval}");
        }

        var rule = Map(rendered.Documents.Single(d => d.Kind == "PrometheusRule").Tree, "PrometheusRule");
        Assert.Equal("monitoring.coreos.com/v1", Str(rule, "apiVersion"));
        KnownKeys(rule, "PrometheusRule", "apiVersion", "kind", "metadata", "spec");
        var ruleSpec = Map(rule["spec"], "PrometheusRule spec");
        KnownKeys(ruleSpec, "PrometheusRule spec", "groups");
        foreach (var g in List(ruleSpec["groups"], "spec.groups").Select(g => Map(g, "group")))
        {
            KnownKeys(g, "rule group", "name", "interval", "rules", "partial_response_strategy", "limit", "query_offset", "labels");
            foreach (var r in List(g["rules"], "rules").Select(r => Map(r, "rule")))
            {
                KnownKeys(r, "rule", "alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations");
                Assert.True(r.ContainsKey("alert") ^ r.ContainsKey("record"), "a rule needs exactly one of alert and record");
                Assert.False(string.IsNullOrWhiteSpace(Str(r, "expr")), "a rule without expr");
            }
        }

        // What kustomize renders is still exactly alerts/natsjs.rules.yml (AlertRulesTests checks the committed file).
        var plain = Map(new DeserializerBuilder().Build().Deserialize<object>(File.ReadAllText(Repo.Path_("alerts", "natsjs.rules.yml")))!, "rules file");
        Assert.Equal(Canonical(plain["groups"]), Canonical(ruleSpec["groups"]));
    }

    private static readonly string[] ServiceMonitorSpecKeys =
    [
        "endpoints", "selector", "namespaceSelector", "jobLabel", "targetLabels", "podTargetLabels", "sampleLimit",
        "targetLimit", "labelLimit", "labelNameLengthLimit", "labelValueLengthLimit", "attachMetadata",
        "scrapeProtocols", "keepDroppedTargets", "bodySizeLimit", "scrapeClass", "fallbackScrapeProtocol",
        "nativeHistogramBucketLimit", "nativeHistogramMinBucketFactor", "scrapeClassicHistograms",
        "convertClassicHistogramsToNHCB", "selectorMechanism", "serviceDiscoveryRole",
    ];

    private static readonly string[] ServiceMonitorEndpointKeys =
    [
        "port", "targetPort", "path", "scheme", "params", "interval", "scrapeTimeout", "tlsConfig", "bearerTokenFile",
        "bearerTokenSecret", "authorization", "honorLabels", "honorTimestamps", "trackTimestampsStaleness", "basicAuth",
        "oauth2", "metricRelabelings", "relabelings", "proxyUrl", "noProxy", "proxyFromEnvironment", "proxyConnectHeader",
        "followRedirects", "enableHttp2", "filterRunning",
    ];

    // ---------------------------------------------------------------- settings

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_container_setting_passes_the_exporters_option_validation(string dir)
    {
        var deployment = Render(dir).Single<V1Deployment>();
        var pod = deployment.Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);
        Assert.Null(container.Command); // the image's ENTRYPOINT runs the exporter
        Assert.All(container.Env ?? [], e => Assert.True(e.ValueFrom is null,
            $"{e.Name} comes from valueFrom: secrets are mounted as files, settings are plain values"));
        Assert.All(container.Env ?? [], e => Assert.DoesNotContain(e.Name, new[] { "NATSJS_NATS_PASSWORD", "NATSJS_NATS_TOKEN" }));

        using var root = new TempDir();
        var env = ContainerEnvironment(container);
        var mapped = MapMountedFiles(container, pod, env, root.Path);
        var workingDirectory = Directory.CreateDirectory(System.IO.Path.Combine(root.Path, "app")).FullName; // the image's WORKDIR
        var errors = ExporterOptionErrors(container.Args ?? [], mapped, workingDirectory);
        Assert.True(errors.Count == 0,
            $"{dir}: the exporter rejects the container's settings:\n{string.Join("\n", errors)}\nenvironment:\n" +
            string.Join("\n", mapped.Select(kv => $"{kv.Key}={kv.Value}")));
    }

    /// <summary>
    /// The ONE call into the exporter's option loading: the container's arguments and environment
    /// (mounted files already mapped into a temporary directory) give no validation error.
    /// </summary>
    private static IReadOnlyList<string> ExporterOptionErrors(IList<string> args, IReadOnlyDictionary<string, string?> environment, string workingDirectory)
    {
        var result = OptionsLoader.Load(args.ToList(), environment, workingDirectory);
        return result.Options is null && result.Errors.Count == 0 ? ["no options and no error"] : result.Errors;
    }

    [Fact]
    public void The_http_overlay_polls_every_pod_of_the_nats_charts_statefulset()
    {
        var env = ContainerEnvironment(Assert.Single(Render(HttpOverlay).Single<V1Deployment>().Spec.Template.Spec.Containers));
        Assert.Equal(
            "http://nats-0.nats-headless:8222,http://nats-1.nats-headless:8222,http://nats-2.nats-headless:8222",
            env["NATSJS_MONITOR_URLS"]);
        Assert.False(env.ContainsKey("NATSJS_NATS_URL"));
    }

    [Fact]
    public void The_system_account_overlay_connects_with_credentials_mounted_from_a_secret()
    {
        var pod = Render(SystemAccountOverlay).Single<V1Deployment>().Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);
        var env = ContainerEnvironment(container);
        Assert.Equal("nats://nats:4222", env["NATSJS_NATS_URL"]);
        Assert.False(env.ContainsKey("NATSJS_MONITOR_URLS"), "both modes set: the exporter refuses to start");
        var creds = env["NATSJS_NATS_CREDS"]!;
        var mount = container.VolumeMounts.SingleOrDefault(m => creds.StartsWith(m.MountPath.TrimEnd('/') + "/", StringComparison.Ordinal));
        Assert.True(mount is not null, $"NATSJS_NATS_CREDS={creds} is not inside any volume mount");
        Assert.True(mount.ReadOnlyProperty, $"{mount.MountPath} is mounted writable");
        var volume = pod.Volumes.Single(v => v.Name == mount.Name);
        Assert.True(volume.Secret is { SecretName.Length: > 0 }, $"volume {volume.Name} is not a Secret");
        Assert.True(volume.Secret.DefaultMode is int mode && (mode & 0b111) == 0, "the Secret's files are readable by others");
    }

    // ---------------------------------------------------------------- hardening and sizing

    [Theory]
    [MemberData(nameof(Targets))]
    public void The_pod_runs_locked_down(string dir)
    {
        var pod = Render(dir).Single<V1Deployment>().Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);
        var user = DockerfileUser();
        Assert.True(pod.SecurityContext?.RunAsNonRoot == true, "pod runAsNonRoot is not true");
        Assert.Equal(user, pod.SecurityContext!.RunAsUser);
        Assert.Equal("RuntimeDefault", pod.SecurityContext.SeccompProfile?.Type);
        Assert.False(pod.AutomountServiceAccountToken ?? true, "the exporter needs no Kubernetes API token");

        var sc = container.SecurityContext;
        Assert.NotNull(sc);
        Assert.True(sc.AllowPrivilegeEscalation == false, "allowPrivilegeEscalation is not false");
        Assert.True(sc.ReadOnlyRootFilesystem == true, "readOnlyRootFilesystem is not true");
        Assert.True(sc.Privileged != true, "privileged");
        Assert.True(sc.RunAsNonRoot != false && (sc.RunAsUser ?? user) != 0, "the container may run as root");
        Assert.Contains("ALL", sc.Capabilities?.Drop ?? []);
        Assert.Empty(sc.Capabilities?.Add ?? []);
        Assert.Equal("RuntimeDefault", sc.SeccompProfile?.Type ?? pod.SecurityContext.SeccompProfile?.Type);
        Assert.Empty(container.VolumeMounts?.Where(m => m.ReadOnlyProperty != true) ?? []);
    }

    /// <summary>The resources follow the README "Performance" row the manifest names in its comment.</summary>
    [Fact]
    public void Resources_are_sized_from_the_readme_performance_row_the_manifest_names()
    {
        var source = File.ReadAllText(Repo.Path_("deploy", "kubernetes", "base", "deployment.yaml"));
        var named = RowReference().Match(source);
        Assert.True(named.Success, "deployment.yaml does not name the README \"Performance\" row its resources come from");
        var row = File.ReadAllLines(Repo.Path_("README.md")).SingleOrDefault(l => l.StartsWith($"| {named.Groups[1].Value} |", StringComparison.Ordinal));
        Assert.True(row is not null, $"README has no Performance row \"{named.Groups[1].Value}\"");
        var rss = RssCell().Match(row);
        Assert.True(rss.Success, $"no \"peak / low-high MB\" RSS cell in: {row}");
        double peak = double.Parse(rss.Groups[1].Value, CultureInfo.InvariantCulture) * 1e6;
        double steadyLow = double.Parse(rss.Groups[2].Value, CultureInfo.InvariantCulture) * 1e6;

        var resources = Assert.Single(Render(Base).Single<V1Deployment>().Spec.Template.Spec.Containers).Resources;
        double limit = (double)resources.Limits["memory"].ToDecimal();
        double request = (double)resources.Requests["memory"].ToDecimal();
        // The image caps the GC heap at 75 % of the limit (DOTNET_GCHeapHardLimitPercent=0x4B).
        Assert.True(limit * 0.75 >= peak, $"memory limit {limit / 1e6:0} MB leaves a 75 % GC heap cap below the measured peak RSS {peak / 1e6:0} MB");
        Assert.True(request >= steadyLow, $"memory request {request / 1e6:0} MB is below the steady RSS {steadyLow / 1e6:0} MB");
        Assert.True(resources.Requests.ContainsKey("cpu"), "no CPU request");
    }

    [GeneratedRegex("README \"Performance\", row \"([^\"]+)\"")]
    private static partial Regex RowReference();

    [GeneratedRegex(@"\| (\d+) / (\d+)-\d+ MB \|")]
    private static partial Regex RssCell();

    // ---------------------------------------------------------------- ports and probes

    [Theory]
    [MemberData(nameof(Targets))]
    public void Probes_service_monitor_and_network_policy_use_the_port_the_exporter_listens_on(string dir)
    {
        var rendered = Render(dir);
        var pod = rendered.Single<V1Deployment>().Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);
        int listen = ListenPort(ContainerEnvironment(container));
        Assert.Equal(7778, listen);

        int Resolve(IntOrString port) => int.TryParse(port.Value, out var n) ? n
            : container.Ports.SingleOrDefault(p => p.Name == port.Value)?.ContainerPort
              ?? throw new Xunit.Sdk.XunitException($"port \"{port.Value}\" is not a named container port");

        Assert.Equal("/healthz", container.LivenessProbe?.HttpGet?.Path);
        Assert.Equal("/readyz", container.ReadinessProbe?.HttpGet?.Path);
        Assert.Equal(listen, Resolve(container.LivenessProbe!.HttpGet.Port));
        Assert.Equal(listen, Resolve(container.ReadinessProbe!.HttpGet.Port));

        var service = rendered.Single<V1Service>();
        var servicePort = Assert.Single(service.Spec.Ports);
        Assert.Equal(listen, Resolve(servicePort.TargetPort));
        var podLabels = rendered.Single<V1Deployment>().Spec.Template.Metadata.Labels;
        foreach (var (key, value) in service.Spec.Selector)
            Assert.True(podLabels.TryGetValue(key, out var v) && v == value, $"the Service selects {key}={value}, which the pod does not carry");

        var policy = rendered.Single<V1NetworkPolicy>();
        Assert.Contains("Ingress", policy.Spec.PolicyTypes);
        Assert.Contains("Egress", policy.Spec.PolicyTypes);
        foreach (var (key, value) in policy.Spec.PodSelector.MatchLabels)
            Assert.True(podLabels.TryGetValue(key, out var v) && v == value, $"the NetworkPolicy selects {key}={value}, which the pod does not carry");
        var ingressPorts = policy.Spec.Ingress.SelectMany(i => i.Ports).Select(p => Resolve(p.Port)).ToList();
        Assert.Equal([listen], ingressPorts.Distinct());
        var egressPorts = policy.Spec.Egress.SelectMany(e => e.Ports).Select(p => (p.Protocol, p.Port.Value)).ToHashSet();
        foreach (var needed in new[] { ("TCP", "8222"), ("TCP", "4222"), ("UDP", "53"), ("TCP", "53") })
            Assert.True(egressPorts.Contains(needed), $"NetworkPolicy egress does not allow {needed.Item1} {needed.Item2}");
    }

    /// <summary>
    /// The real exporter, started with the http overlay's environment (monitor URLs pointed at a
    /// stand-in NATS server on loopback, listen address on a free loopback port), answers the
    /// liveness and readiness probe paths and the ServiceMonitor's path with 200.
    /// </summary>
    [Fact]
    public async Task The_real_exporter_serves_the_probe_and_scrape_paths()
    {
        var rendered = Render(HttpOverlay);
        var container = Assert.Single(rendered.Single<V1Deployment>().Spec.Template.Spec.Containers);
        var monitorPath = Str(Map(List(Map(Map(rendered.Documents.Single(d => d.Kind == "ServiceMonitor").Tree, "sm")["spec"], "spec")["endpoints"], "endpoints")[0], "endpoint"), "path");

        using var nats = WireMockServer.Start();
        var jsz = Path.Combine(Fixtures.Dir("2.9.10-single"), "n1.json");
        nats.Given(Request.Create().WithPath("/jsz").UsingGet()).RespondWith(Response.Create().WithBody(File.ReadAllText(jsz)));
        nats.Given(Request.Create().WithPath("/varz").UsingGet()).RespondWith(Response.Create()
            .WithBody($$"""{"server_id":"{{Fixtures.Parse(jsz).ServerId}}","server_name":"n1","version":"2.9.10"}"""));

        var env = ContainerEnvironment(container);
        int port = FreePort();
        env["NATSJS_MONITOR_URLS"] = nats.Url!;
        env["NATSJS_LISTEN"] = $"127.0.0.1:{port}";

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "natsjs-exporter.dll"));
        foreach (var a in container.Args ?? []) psi.ArgumentList.Add(a);
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("NATSJS_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        foreach (var (key, value) in env) psi.Environment[key] = value;
        var output = new ConcurrentQueue<string>();
        using var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            foreach (var path in new[] { container.LivenessProbe.HttpGet.Path, container.ReadinessProbe.HttpGet.Path, monitorPath })
            {
                var status = await GetUntilOkAsync(http, path, process, TimeSpan.FromSeconds(60));
                Assert.True(status == HttpStatusCode.OK,
                    $"GET {path} answered {status}\nexporter output:\n{string.Join("\n", output.TakeLast(30))}");
            }
            Assert.Contains("natsjs_up{", await http.GetStringAsync(monitorPath));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static async Task<HttpStatusCode?> GetUntilOkAsync(HttpClient http, string path, Process process, TimeSpan timeout)
    {
        HttpStatusCode? last = null;
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(path);
                last = response.StatusCode;
                // Only "not ready yet" (503 before the first poll) is worth waiting for.
                if (last != HttpStatusCode.ServiceUnavailable) return last;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(200);
        }
        return last;
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    // ---------------------------------------------------------------- dashboards

    [Fact]
    public void Dashboard_config_maps_hold_the_current_dashboards_for_the_grafana_sidecar()
    {
        var maps = Render(Base).All<V1ConfigMap>().Where(m => m.Metadata.Labels?.ContainsKey("grafana_dashboard") == true).ToList();
        var dashboards = Directory.GetFiles(Repo.Path_("dashboards"), "*.json").Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(dashboards);
        var stale = new List<string>();
        foreach (var file in dashboards)
        {
            var name = Path.GetFileName(file);
            var map = maps.SingleOrDefault(m => m.Data?.ContainsKey(name) == true);
            if (map is null) { stale.Add($"{name}: no ConfigMap (add it to configMapGenerator in deploy/kubernetes/base/kustomization.yaml)"); continue; }
            Assert.Equal("1", map.Metadata.Labels["grafana_dashboard"]);
            if (map.Data[name] != File.ReadAllText(file)) stale.Add($"{name}: the ConfigMap {map.Metadata.Name} holds an old copy");
        }
        var extra = Directory.GetFiles(Repo.Path_("deploy", "kubernetes", "base", "dashboards"), "*.json")
            .Select(Path.GetFileName).Where(n => !File.Exists(Repo.Path_("dashboards", n!))).ToList();
        stale.AddRange(extra.Select(n => $"deploy/kubernetes/base/dashboards/{n}: no such dashboard in dashboards/"));
        Assert.True(stale.Count == 0, string.Join("\n", stale) + "\nrun scripts/sync-kubernetes-dashboards.sh and commit the copies");
        Assert.Equal(dashboards.Count, maps.Count);
        Assert.All(maps, m => Assert.True(Encoding.UTF8.GetByteCount(string.Concat(m.Data.Values)) < 256 * 1024,
            $"{m.Metadata.Name} is too big for kubectl apply's last-applied annotation (256 KiB)"));
    }

    // ---------------------------------------------------------------- plain Prometheus

    /// <summary>README "Deploy": the plain-Prometheus scrape_config example passes promtool check config, with the shipped rules.</summary>
    [Fact]
    public async Task Readme_scrape_config_example_passes_promtool()
    {
        var readme = File.ReadAllText(Repo.Path_("README.md"));
        int section = readme.IndexOf("\n## Deploy\n", StringComparison.Ordinal);
        Assert.True(section >= 0, "README has no \"Deploy\" section");
        var block = Regex.Match(readme[section..], "```yaml\n(scrape_configs:.*?)```", RegexOptions.Singleline);
        Assert.True(block.Success, "README \"Deploy\" has no ```yaml block starting with scrape_configs:");
        var config = block.Groups[1].Value;
        Assert.Contains("job_name: natsjs", config); // the job the alert rules' unit tests use

        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "prometheus.yml");
        File.WriteAllText(path, config);
        File.Copy(Repo.Path_("alerts", "natsjs.rules.yml"), Path.Combine(dir.Path, "natsjs.rules.yml"));
        var psi = new ProcessStartInfo(Promtool.Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "check", "config", path }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        Assert.True(p.ExitCode == 0, $"promtool check config rejects the README example:\n{await stdout}{await stderr}\n{config}");
    }

    /// <summary>README "Running at scale": the HA replica's prometheus.yml (the one HaTests runs) passes promtool check config.</summary>
    [Fact]
    public async Task Readme_ha_replica_config_passes_promtool()
    {
        var readme = File.ReadAllText(Repo.Path_("README.md"));
        int section = readme.IndexOf("\n## Running at scale\n", StringComparison.Ordinal);
        Assert.True(section >= 0, "README has no \"Running at scale\" section");
        var block = Regex.Match(readme[section..], "```yaml\n(# prometheus.yml of replica.*?)```", RegexOptions.Singleline);
        Assert.True(block.Success, "README \"Running at scale\" has no ```yaml block starting with # prometheus.yml of replica");
        var config = block.Groups[1].Value;
        Assert.Contains("regex: replica", config);

        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "prometheus.yml");
        File.WriteAllText(path, config);
        File.Copy(Repo.Path_("alerts", "natsjs.rules.yml"), Path.Combine(dir.Path, "natsjs.rules.yml"));
        var psi = new ProcessStartInfo(Promtool.Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "check", "config", path }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        Assert.True(p.ExitCode == 0, $"promtool check config rejects the README example:\n{await stdout}{await stderr}\n{config}");
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>The container's environment as the exporter sees it: the image's ENV, then the manifest's env.</summary>
    private static Dictionary<string, string?> ContainerEnvironment(V1Container container)
    {
        var env = DockerfileEnvironment();
        foreach (var e in container.Env ?? []) env[e.Name] = e.Value;
        return env;
    }

    /// <summary>
    /// Every environment value that names a file under a volume mount is pointed at a stand-in
    /// file at the same path under <paramref name="root"/> (the mounted Secret's key).
    /// </summary>
    private static Dictionary<string, string?> MapMountedFiles(V1Container container, V1PodSpec pod, Dictionary<string, string?> env, string root)
    {
        var mapped = new Dictionary<string, string?>(env);
        foreach (var mount in container.VolumeMounts ?? [])
        {
            Assert.Contains(pod.Volumes ?? [], v => v.Name == mount.Name);
            var prefix = mount.MountPath.TrimEnd('/') + "/";
            foreach (var (key, value) in env)
            {
                if (value is null || !value.StartsWith(prefix, StringComparison.Ordinal)) continue;
                var local = Path.Combine(root, value.TrimStart('/'));
                Directory.CreateDirectory(Path.GetDirectoryName(local)!);
                File.WriteAllText(local, StandIn(key));
                mapped[key] = local;
            }
        }
        return mapped;
    }

    private static string StandIn(string variable) => variable switch
    {
        "NATSJS_NATS_CREDS" =>
            "-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.stand-in.stand-in\n------END NATS USER JWT------\n\n" +
            "-----BEGIN USER NKEY SEED-----\nSUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY\n------END USER NKEY SEED------\n",
        _ => "stand-in\n",
    };

    private static int ListenPort(IReadOnlyDictionary<string, string?> env)
    {
        var listen = env.TryGetValue("NATSJS_LISTEN", out var v) && v is not null ? v : "0.0.0.0:7778";
        return int.Parse(listen[(listen.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
    }

    private static Dictionary<string, string?> DockerfileEnvironment()
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        var lines = File.ReadAllLines(Repo.Path_("Dockerfile"));
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("ENV ", StringComparison.Ordinal)) continue;
            var text = new StringBuilder(lines[i][4..]);
            while (text.ToString().TrimEnd().EndsWith('\\') && i + 1 < lines.Length)
            {
                var t = text.ToString().TrimEnd();
                text.Clear().Append(t[..^1]).Append(' ').Append(lines[++i]);
            }
            foreach (var pair in text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=');
                Assert.True(eq > 0, $"Dockerfile ENV \"{pair}\" is not KEY=VALUE");
                env[pair[..eq]] = pair[(eq + 1)..];
            }
        }
        Assert.Contains("NATSJS_LISTEN", env.Keys);
        return env;
    }

    private static long DockerfileUser()
    {
        var user = File.ReadAllLines(Repo.Path_("Dockerfile")).Last(l => l.StartsWith("USER ", StringComparison.Ordinal))[5..].Trim();
        return long.Parse(user.Split(':')[0], CultureInfo.InvariantCulture);
    }

    private static TimeSpan PrometheusDuration(string value)
    {
        var m = Regex.Match(value, @"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$");
        Assert.True(m.Success && value.Length > 0, $"\"{value}\" is not a Prometheus duration");
        int G(int i) => m.Groups[i].Success ? int.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture) : 0;
        return new TimeSpan(0, G(1), G(2), G(3), G(4));
    }

    private static Dictionary<object, object?> Map(object? node, string what) =>
        node as Dictionary<object, object?> ?? throw new Xunit.Sdk.XunitException($"{what} is not a mapping");

    private static List<object?> List(object? node, string what) =>
        node as List<object?> ?? throw new Xunit.Sdk.XunitException($"{what} is not a list");

    private static string Str(Dictionary<object, object?> map, string key) =>
        map.TryGetValue(key, out var v) && v is string s ? s : throw new Xunit.Sdk.XunitException($"\"{key}\" missing or not a string");

    private static void KnownKeys(Dictionary<object, object?> map, string what, params string[] known)
    {
        var unknown = map.Keys.Select(k => (string)k).Where(k => !known.Contains(k)).ToList();
        Assert.True(unknown.Count == 0, $"{what} has unknown field(s): {string.Join(", ", unknown)}");
    }

    /// <summary>A YAML tree as one string with sorted keys, so two trees compare by content, not layout.</summary>
    private static string Canonical(object? node) => node switch
    {
        Dictionary<object, object?> m => "{" + string.Join(",", m.OrderBy(kv => (string)kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{kv.Key}:{Canonical(kv.Value)}")) + "}",
        List<object?> l => "[" + string.Join(",", l.Select(Canonical)) + "]",
        null => "null",
        _ => System.Text.Json.JsonSerializer.Serialize(node.ToString()),
    };

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("natsjs-k8s-").FullName;

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The documents `kubectl kustomize DIR` renders.</summary>
    private sealed record Rendered(string Dir, IReadOnlyList<Document> Documents)
    {
        public T Single<T>() where T : class
        {
            var all = All<T>().ToList();
            Assert.True(all.Count == 1, $"{Dir} renders {all.Count} {typeof(T).Name}, expected 1");
            return all[0];
        }

        public IEnumerable<T> All<T>() where T : class =>
            Documents.Where(d => !d.IsCustomResource).SelectMany(d => KubernetesYaml.LoadAllFromString(d.Text, strict: true)).OfType<T>();

        public static Rendered Of(string dir)
        {
            var text = Kubectl.Kustomize(Repo.Path_(dir.Split('/')));
            var docs = Regex.Split(text, @"^---\s*$", RegexOptions.Multiline)
                .Where(d => !string.IsNullOrWhiteSpace(d))
                .Select(d => Document.Parse(dir, d))
                .ToList();
            return new Rendered(dir, docs);
        }
    }

    private sealed record Document(string Text, string ApiVersion, string Kind, string Name, object Tree)
    {
        public bool IsCustomResource => ApiVersion.StartsWith("monitoring.coreos.com/", StringComparison.Ordinal);

        public static Document Parse(string dir, string text)
        {
            var tree = new DeserializerBuilder().Build().Deserialize<object>(text)
                       ?? throw new Xunit.Sdk.XunitException($"{dir}: an empty document");
            var map = Map(tree, $"{dir}: a document");
            var name = Map(map.GetValueOrDefault("metadata"), $"{dir}: metadata").GetValueOrDefault("name") as string ?? "";
            return new Document(text, Str(map, "apiVersion"), Str(map, "kind"), name, tree);
        }
    }
}

/// <summary>Runs the real kubectl (KUBECTL or PATH); a missing or too old kubectl fails with what to do.</summary>
internal static partial class Kubectl
{
    private static readonly Lazy<string> BinaryLazy = new(Find);

    public static string Kustomize(string dir)
    {
        var (code, stdout, stderr) = Run(BinaryLazy.Value, "kustomize", dir);
        if (code != 0) throw new InvalidOperationException($"kubectl kustomize {dir} failed ({code}):\n{stderr}");
        return stdout;
    }

    private static string Find()
    {
        var binary = Environment.GetEnvironmentVariable("KUBECTL") is { Length: > 0 } k ? k
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Select(d => Path.Combine(d, "kubectl")).FirstOrDefault(File.Exists)
              ?? throw new InvalidOperationException(
                  "kubectl not found: the Kubernetes manifest tests need kubectl 1.27 or later (kustomize v5); " +
                  "install it (Debian bookworm's kubernetes-client is 1.20, too old) or set KUBECTL");
        var (_, version, _) = Run(binary, "version", "--client");
        var kustomize = KustomizeVersion().Match(version);
        if (!kustomize.Success || int.Parse(kustomize.Groups[1].Value, CultureInfo.InvariantCulture) < 5)
            throw new InvalidOperationException(
                $"{binary} embeds kustomize {(kustomize.Success ? "v" + kustomize.Groups[1].Value : "of unknown version")}; " +
                "deploy/kubernetes needs kustomize v5 (kubectl 1.27 or later)");
        return binary;
    }

    [GeneratedRegex(@"Kustomize Version: v(\d+)\.")]
    private static partial Regex KustomizeVersion();

    private static (int Code, string Stdout, string Stderr) Run(string binary, params string[] args)
    {
        var psi = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + binary);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{binary} {string.Join(' ', args)} did not finish within 60 s");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
