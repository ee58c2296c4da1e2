using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Dashboards;

/// <summary>
/// Checks the checked-in Grafana dashboards (dashboards/*.json) the way Grafana would use them:
/// importable (datasource input) and provisionable, every panel bound to the datasource
/// variable, every template variable used and applied, counters only through rate()/increase(),
/// and every metric a panel queries produced by the exporter (contract with the golden files).
/// </summary>
public sealed partial class DashboardStructureTests
{
    private static readonly string[] ExpectedFiles =
        ["natsjs-cluster-overview.json", "natsjs-consumers.json", "natsjs-replica-health.json", "natsjs-streams.json"];

    private static readonly Dictionary<string, string> ExpectedUids = new()
    {
        ["natsjs-cluster-overview.json"] = "natsjs-cluster-overview",
        ["natsjs-streams.json"] = "natsjs-streams",
        ["natsjs-replica-health.json"] = "natsjs-replica-health",
        ["natsjs-consumers.json"] = "natsjs-consumers",
    };

    /// <summary>Which template variables filter a metric family (those the dashboard defines must be applied).</summary>
    private static string[] VariablesFor(string metric) => metric switch
    {
        _ when metric.StartsWith("natsjs_consumer_", StringComparison.Ordinal) => ["cluster", "account", "stream", "consumer"],
        _ when metric.StartsWith("natsjs_stream_", StringComparison.Ordinal) => ["cluster", "account", "stream"],
        _ when metric.StartsWith("natsjs_server_", StringComparison.Ordinal) => ["cluster"],
        _ when metric.StartsWith("natsjs_meta_", StringComparison.Ordinal) => ["cluster"],
        _ when metric.StartsWith("natsjs_account_", StringComparison.Ordinal) => ["account"],
        _ => [], // exporter-level series (natsjs_up, natsjs_servers_*, natsjs_poll_*, ...) carry none of these labels
    };

    /// <summary>Gauges that only grow (sequences), for which rate() is meaningful.</summary>
    private static readonly HashSet<string> MonotonicGauges =
        ["natsjs_stream_last_seq", "natsjs_consumer_delivered_stream_seq", "natsjs_consumer_ack_floor_stream_seq", "natsjs_consumer_delivered_consumer_seq"];

    public sealed record Dashboard(string File, JsonObject Json)
    {
        public override string ToString() => File;

        public IEnumerable<JsonObject> Panels => Flatten(Json["panels"]!.AsArray());

        private static IEnumerable<JsonObject> Flatten(JsonArray panels)
        {
            foreach (var p in panels.Select(p => p!.AsObject()))
            {
                yield return p;
                if (p["panels"] is JsonArray nested)
                    foreach (var n in Flatten(nested)) yield return n;
            }
        }

        public IEnumerable<JsonObject> QueryPanels => Panels.Where(p => p["type"]?.GetValue<string>() != "row");

        public IEnumerable<(string Panel, string Expr)> Queries =>
            QueryPanels.SelectMany(p => p["targets"]!.AsArray().Select(t => (p["title"]!.GetValue<string>(), t!["expr"]!.GetValue<string>())));

        public IEnumerable<JsonObject> Variables => Json["templating"]!["list"]!.AsArray().Select(v => v!.AsObject());

        public HashSet<string> VariableNames => Variables.Select(v => v["name"]!.GetValue<string>()).ToHashSet();
    }

    private static string DashboardsDir => Repo.Path_("dashboards");

    public static IEnumerable<Dashboard> Load() =>
        ExpectedFiles.Select(f => new Dashboard(f, JsonNode.Parse(File.ReadAllText(Path.Combine(DashboardsDir, f)))!.AsObject()));

    public static TheoryData<string> Files() => new(ExpectedFiles);

    private static Dashboard Get(string file) => Load().Single(d => d.File == file);

    [GeneratedRegex(@"\b(natsjs_[a-z0-9_]+)\b(\s*\{([^}]*)\})?")]
    private static partial Regex MetricRef();

    [GeneratedRegex(@"\b(rate|irate|increase|deriv|delta|idelta)\(\s*(natsjs_[a-z0-9_]+)\s*(\{[^}]*\})?\s*\[([^\]]+)\]\s*\)")]
    private static partial Regex RangeFunction();

    [GeneratedRegex(@"\[([^\]]+)\]")]
    private static partial Regex RangeSelector();

    [GeneratedRegex(@"^(?:label_values\((?<m>natsjs_[a-z0-9_]+)(\{[^}]*\})?\s*,\s*(?<l>[a-z_]+)\))$")]
    private static partial Regex LabelValues();

    [Fact]
    public void Every_dashboard_file_is_valid_json_with_expected_uid()
    {
        var files = Directory.GetFiles(DashboardsDir, "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(ExpectedFiles, files);
        foreach (var f in ExpectedFiles)
        {
            var text = File.ReadAllText(Path.Combine(DashboardsDir, f));
            var ex = Record.Exception(() => JsonDocument.Parse(text).Dispose());
            Assert.True(ex is null, $"{f} is not valid JSON: {ex?.Message}");
            var json = JsonNode.Parse(text)!.AsObject();
            Assert.Equal(ExpectedUids[f], json["uid"]?.GetValue<string>());
        }
        var uids = Load().Select(d => d.Json["uid"]!.GetValue<string>()).ToList();
        Assert.Equal(uids.Count, uids.Distinct().Count());
        Assert.All(uids, u => Assert.Matches("^[a-z0-9-]{1,40}$", u));
        var titles = Load().Select(d => d.Json["title"]!.GetValue<string>()).ToList();
        Assert.Equal(titles.Count, titles.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Dashboard_is_importable_and_provisionable(string file)
    {
        var d = Get(file).Json;
        Assert.True(d["schemaVersion"]!.GetValue<int>() >= 39, "schemaVersion must be 39 or later");
        Assert.Null(d["id"]); // provisioning and import assign their own id
        var input = Assert.Single(d["__inputs"]!.AsArray())!;
        Assert.Equal("DS_PROMETHEUS", input["name"]!.GetValue<string>());
        Assert.Equal("datasource", input["type"]!.GetValue<string>());
        Assert.Equal("prometheus", input["pluginId"]!.GetValue<string>());
        // The input is used: the datasource variable starts at the datasource chosen on import.
        var dsVar = Get(file).Variables.Single(v => v["name"]!.GetValue<string>() == "datasource");
        Assert.Equal("datasource", dsVar["type"]!.GetValue<string>());
        Assert.Equal("prometheus", dsVar["query"]!.GetValue<string>());
        Assert.Equal("${DS_PROMETHEUS}", dsVar["current"]!["value"]!.GetValue<string>());

        var requires = d["__requires"]!.AsArray().Select(r => (Type: r!["type"]!.GetValue<string>(), Id: r["id"]!.GetValue<string>())).ToList();
        Assert.Contains(("grafana", "grafana"), requires);
        Assert.Contains(("datasource", "prometheus"), requires);
        foreach (var type in Get(file).QueryPanels.Select(p => p["type"]!.GetValue<string>()).Distinct())
            Assert.Contains(("panel", type), requires);
        Assert.Contains("natsjs", d["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Panel_ids_are_unique_and_panels_fit_the_grid(string file)
    {
        var panels = Get(file).Panels.ToList();
        Assert.NotEmpty(panels);
        var ids = panels.Select(p => p["id"]!.GetValue<int>()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var p in panels)
        {
            var g = p["gridPos"]!;
            Assert.True(g["x"]!.GetValue<int>() + g["w"]!.GetValue<int>() <= 24, $"{p["title"]} is wider than the grid");
            Assert.False(string.IsNullOrWhiteSpace(p["title"]?.GetValue<string>()), "every panel has a title");
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_panel_and_target_uses_the_datasource_variable(string file)
    {
        var problems = new List<string>();
        foreach (var p in Get(file).QueryPanels)
        {
            var title = p["title"]!.GetValue<string>();
            if (p["datasource"]?["uid"]?.GetValue<string>() != "${datasource}" || p["datasource"]?["type"]?.GetValue<string>() != "prometheus")
                problems.Add($"panel '{title}': datasource {p["datasource"]?.ToJsonString()}");
            var targets = p["targets"]?.AsArray() ?? [];
            if (targets.Count == 0) problems.Add($"panel '{title}' has no query");
            foreach (var t in targets)
                if (t!["datasource"]?["uid"]?.GetValue<string>() != "${datasource}")
                    problems.Add($"panel '{title}' target {t["refId"]}: datasource {t["datasource"]?.ToJsonString()}");
        }
        foreach (var v in Get(file).Variables.Where(v => v["type"]!.GetValue<string>() == "query"))
            if (v["datasource"]?["uid"]?.GetValue<string>() != "${datasource}")
                problems.Add($"variable {v["name"]}: datasource {v["datasource"]?.ToJsonString()}");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_panel_sets_a_unit(string file)
    {
        var missing = Get(file).QueryPanels
            .Where(p => string.IsNullOrEmpty(p["fieldConfig"]?["defaults"]?["unit"]?.GetValue<string>()))
            .Select(p => p["title"]!.GetValue<string>()).ToList();
        Assert.True(missing.Count == 0, "panels without a unit: " + string.Join(", ", missing));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Template_variables_are_multi_value_with_match_all_and_all_are_used(string file)
    {
        var d = Get(file);
        var names = d.VariableNames;
        Assert.Contains("datasource", names);
        Assert.Contains("cluster", names);
        Assert.Contains("account", names);
        Assert.Contains("stream", names);
        var allQueries = string.Join("\n", d.Queries.Select(q => q.Expr));
        foreach (var v in d.Variables.Where(v => v["type"]!.GetValue<string>() == "query"))
        {
            var name = v["name"]!.GetValue<string>();
            Assert.True(v["multi"]!.GetValue<bool>(), $"{name} is multi-value");
            Assert.True(v["includeAll"]!.GetValue<bool>(), $"{name} includes All");
            Assert.Equal(".*", v["allValue"]!.GetValue<string>());
            Assert.True(allQueries.Contains($"=~\"${name}\"", StringComparison.Ordinal), $"variable {name} is used by no panel query");
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_selector_is_filtered_by_every_variable_that_applies(string file)
    {
        var d = Get(file);
        var defined = d.VariableNames;
        var problems = new List<string>();
        var queries = d.Queries.Select(q => (q.Panel, q.Expr, Applies: defined)).ToList();
        // Chained variable queries obey the same rule, with the variables defined before them
        // (account within the selected clusters, stream within cluster and account, ...).
        var order = d.Variables.Select(v => v["name"]!.GetValue<string>()).ToList();
        foreach (var v in d.Variables.Where(v => v["type"]!.GetValue<string>() == "query"))
        {
            var name = v["name"]!.GetValue<string>();
            queries.Add(($"variable {name}", v["definition"]!.GetValue<string>(), order.Take(order.IndexOf(name)).ToHashSet()));
        }
        foreach (var (panel, expr, applies) in queries)
        {
            foreach (Match m in MetricRef().Matches(expr))
            {
                var metric = m.Groups[1].Value;
                var selector = m.Groups[3].Value;
                foreach (var v in VariablesFor(metric).Where(applies.Contains))
                {
                    if (!selector.Contains($"{v}=~\"${v}\"", StringComparison.Ordinal))
                        problems.Add($"'{panel}': {metric} lacks {v}=~\"${v}\" in: {expr}");
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Counters_are_only_used_through_rate_or_increase(string file)
    {
        var problems = new List<string>();
        foreach (var (panel, expr) in Get(file).Queries)
        {
            int counters = MetricRef().Matches(expr).Count(m => m.Groups[1].Value.EndsWith("_total", StringComparison.Ordinal));
            int wrapped = RangeFunction().Matches(expr).Count(m =>
                m.Groups[2].Value.EndsWith("_total", StringComparison.Ordinal) && m.Groups[1].Value is "rate" or "irate" or "increase");
            if (counters != wrapped) problems.Add($"'{panel}': a counter outside rate()/increase(): {expr}");

            // And the reverse: rate()/increase() only on counters and sequences that never go down.
            foreach (Match m in RangeFunction().Matches(expr))
            {
                var fn = m.Groups[1].Value;
                var metric = m.Groups[2].Value;
                if (fn is "rate" or "irate" or "increase" && !metric.EndsWith("_total", StringComparison.Ordinal) && !MonotonicGauges.Contains(metric))
                    problems.Add($"'{panel}': {fn}() of a gauge that can go down ({metric}): {expr}");
            }
            foreach (Match m in RangeSelector().Matches(expr))
                if (m.Groups[1].Value is not ("$__rate_interval" or "$__range" or "$__interval"))
                    problems.Add($"'{panel}': fixed range [{m.Groups[1].Value}] instead of $__rate_interval/$__range: {expr}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Stream_numbers_never_come_from_per_replica_server_metrics()
    {
        // natsjs_server_* counts every replica (an R3 stream three times): the streams, replica
        // and consumer dashboards must use the one-series-per-asset metrics only.
        foreach (var file in ExpectedFiles.Where(f => f != "natsjs-cluster-overview.json"))
            foreach (var (panel, expr) in Get(file).Queries)
                Assert.False(expr.Contains("natsjs_server_", StringComparison.Ordinal), $"{file} '{panel}' uses a per-server metric: {expr}");
        // On the overview, stream totals come from natsjs_stream_* as well.
        foreach (var (panel, expr) in Get("natsjs-cluster-overview.json").Queries.Where(q => q.Panel is "Messages" or "Bytes" or "Streams"))
            Assert.Contains("natsjs_stream_", expr);
    }

    [Fact]
    public void Every_metric_queried_exists_in_the_golden_output()
    {
        var produced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var golden in Directory.GetFiles(Path.Combine(Repo.TestData, "golden"), "*.prom"))
            foreach (var line in File.ReadLines(golden))
                if (line.Length > 0 && line[0] != '#')
                    produced.Add(line[..line.IndexOfAny(['{', ' '])]);
        Assert.NotEmpty(produced);

        var missing = new List<string>();
        foreach (var d in Load())
        {
            var exprs = d.Queries.Select(q => (q.Panel, q.Expr))
                .Concat(d.Variables.Where(v => v["type"]!.GetValue<string>() == "query").Select(v => ($"variable {v["name"]}", v["definition"]!.GetValue<string>())));
            foreach (var (panel, expr) in exprs)
                foreach (Match m in MetricRef().Matches(expr))
                    if (!produced.Contains(m.Groups[1].Value))
                        missing.Add($"{d.File} '{panel}': {m.Groups[1].Value}");
        }
        Assert.True(missing.Count == 0, "metrics queried but produced by no golden file:\n" + string.Join("\n", missing));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Variable_queries_are_label_values_of_exported_labels(string file)
    {
        foreach (var v in Get(file).Variables.Where(v => v["type"]!.GetValue<string>() == "query"))
        {
            var def = v["definition"]!.GetValue<string>();
            var m = LabelValues().Match(def);
            Assert.True(m.Success, $"variable {v["name"]}: {def}");
            Assert.Equal(v["name"]!.GetValue<string>(), m.Groups["l"].Value);
            Assert.Equal(def, v["query"]!["query"]!.GetValue<string>());
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Dashboards_link_to_each_other_carrying_variables_and_time(string file)
    {
        var link = Assert.Single(Get(file).Json["links"]!.AsArray())!;
        Assert.Equal("dashboards", link["type"]!.GetValue<string>());
        Assert.True(link["includeVars"]!.GetValue<bool>());
        Assert.True(link["keepTime"]!.GetValue<bool>());
        Assert.Equal(["natsjs"], link["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        // Every dashboard carries the tag, so the link lists all four; data links point at real uids.
        var uids = Load().Select(d => d.Json["uid"]!.GetValue<string>()).ToHashSet();
        foreach (Match m in Regex.Matches(Get(file).Json.ToJsonString(), @"/d/([a-z0-9-]+)/"))
            Assert.Contains(m.Groups[1].Value, uids);
    }

    [Fact]
    public void Provisioning_files_point_at_the_dashboards_and_a_prometheus_datasource()
    {
        var dashboards = File.ReadAllText(Repo.Path_("dashboards", "provisioning", "dashboards.yml"));
        Assert.Contains("apiVersion: 1", dashboards);
        Assert.Contains("providers:", dashboards);
        Assert.Contains("type: file", dashboards);
        Assert.Contains("path:", dashboards);
        var datasource = File.ReadAllText(Repo.Path_("dashboards", "provisioning", "datasource.yml"));
        Assert.Contains("apiVersion: 1", datasource);
        Assert.Contains("type: prometheus", datasource);
        var readme = File.ReadAllText(Repo.Path_("dashboards", "README.md"));
        foreach (var d in Load())
        {
            Assert.Contains(d.File, readme);
            Assert.Contains(d.Json["title"]!.GetValue<string>(), readme);
        }
    }
}
