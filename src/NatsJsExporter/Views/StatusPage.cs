using System.Globalization;
using System.Text;
using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Views;

/// <summary>
/// The server-rendered status page and per-stream pages: pure functions of a snapshot, its health
/// and the clock. No external assets; every name from NATS is HTML-escaped; the only scripts
/// carry the per-response nonce allowed by the Content-Security-Policy the endpoint sends.
/// </summary>
public static class StatusPage
{
    /// <summary>Content-Security-Policy for a page rendered with <paramref name="nonce"/>: nothing loads from anywhere, only our inline script runs.</summary>
    public static string ContentSecurityPolicy(string nonce) =>
        $"default-src 'none'; style-src 'nonce-{nonce}'; img-src data:; script-src 'nonce-{nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>HTML-escapes text for element content and quoted attribute values.</summary>
    public static string H(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            sb.Append(c switch
            {
                '<' => "&lt;",
                '>' => "&gt;",
                '&' => "&amp;",
                '"' => "&quot;",
                '\'' => "&#39;",
                '`' => "&#96;",
                _ => null,
            } ?? c.ToString());
        }
        return sb.ToString();
    }

    /// <summary>
    /// The link of a stream's page (path segments percent-encoded; escape with <see cref="H"/> in HTML):
    /// `/streams/{account}/{stream}` for a stream outside any JetStream domain,
    /// `/domains/{domain}/streams/{account}/{stream}` for one in a domain.
    /// </summary>
    public static string StreamPath(StreamKey key) =>
        (key.Domain.Length == 0 ? "" : $"/domains/{Uri.EscapeDataString(key.Domain)}") +
        $"/streams/{Uri.EscapeDataString(key.Account)}/{Uri.EscapeDataString(key.Name)}";

    public static int RefreshSeconds(ClusterSnapshot? s) =>
        (int)Math.Clamp(Math.Ceiling((s?.PollInterval ?? TimeSpan.FromSeconds(5)).TotalSeconds), 2, 60);

    public static string Render(ClusterSnapshot? s, HealthReport? health, DateTimeOffset now, string version, string nonce)
    {
        var sb = new StringBuilder(16 * 1024);
        Head(sb, "NATS JetStream status", RefreshSeconds(s), nonce);
        sb.Append("<header><h1>NATS JetStream</h1>");
        if (s is null || health is null)
        {
            sb.Append("<p class=\"meta\">natsjs-exporter ").Append(H(version)).Append("</p></header>");
            sb.Append("<section id=\"problems\" class=\"box waiting\"><h2>Waiting for the first poll</h2><p>The page refreshes itself.</p></section>");
            Foot(sb, nonce, RefreshSeconds(s), filter: false);
            return sb.ToString();
        }
        Meta(sb, s, now, version);
        sb.Append("</header>");

        Problems(sb, s, health.Problems, all: true);

        Table(sb, OperatorTables.JetStreamSummary(s, health));
        var metas = OperatorTables.MetaGroups(s, health);
        if (metas.Count == 0) sb.Append("<section id=\"meta\"><h2>RAFT Meta Group Information</h2><p class=\"empty\">no meta group reported (not clustered, or no server answered)</p></section>");
        foreach (var m in metas) Table(sb, m);
        foreach (var t in RaftTables.MetaState(s, health)) Table(sb, t);
        if (HealthzTable.Build(s) is { } healthz) Table(sb, healthz);

        var streams = OperatorTables.StreamReport(s, health);
        sb.Append("<section id=\"streams\"><h2>").Append(H(streams.Title)).Append(" <small>(").Append(streams.Rows.Count.ToString(CultureInfo.InvariantCulture)).Append(")</small></h2>");
        sb.Append("<label class=\"filter\">Filter <input id=\"filter\" type=\"search\" placeholder=\"account, stream or server\" autocomplete=\"off\" spellcheck=\"false\"></label>");
        sb.Append(" <span id=\"filter-count\"></span>");
        TableBody(sb, streams);
        sb.Append("</section>");

        Foot(sb, nonce, RefreshSeconds(s), filter: true);
        return sb.ToString();
    }

    /// <summary>The page of the stream <paramref name="key"/>; <paramref name="st"/> is null when the snapshot has no such stream.</summary>
    public static string RenderStream(ClusterSnapshot? s, HealthReport? health, StreamView? st, StreamKey key, DateTimeOffset now, string version, string nonce)
    {
        var sb = new StringBuilder(8 * 1024);
        string where = key.Domain.Length == 0 ? key.Account : $"{key.Account}, domain {key.Domain}";
        Head(sb, $"{key.Name} ({where}) - NATS JetStream", RefreshSeconds(s), nonce);
        sb.Append("<header><p class=\"back\"><a href=\"/\">&larr; all streams</a></p><h1>Stream ").Append(H(key.Name))
          .Append(" <small>account ").Append(H(key.Account));
        if (key.Domain.Length > 0) sb.Append(" &middot; domain ").Append(H(key.Domain));
        sb.Append("</small></h1>");
        if (s is not null) Meta(sb, s, now, version);
        sb.Append("</header>");
        if (s is null || health is null || st is null)
        {
            sb.Append("<section id=\"problems\" class=\"box critical\"><h2>Not found</h2><p>")
              .Append(s is null ? "Waiting for the first poll." : key.Domain.Length == 0
                  ? "No stream of that name in that account (outside JetStream domains) in the latest snapshot (deleted, or filtered out)."
                  : "No stream of that name in that account and JetStream domain in the latest snapshot (deleted, or filtered out).")
              .Append("</p>");
            // The same account and name in other domains: link them, so a URL without the domain still leads somewhere.
            var elsewhere = s?.Streams.Where(x => x.Account == key.Account && x.Name == key.Name).Select(StreamKey.Of).ToArray() ?? [];
            if (elsewhere.Length > 0)
            {
                sb.Append("<p>The same name exists in:</p><ul>");
                foreach (var k in elsewhere)
                    sb.Append("<li><a href=\"").Append(H(StreamPath(k))).Append("\">").Append(H(k.ToString())).Append("</a></li>");
                sb.Append("</ul>");
            }
            sb.Append("</section>");
            Foot(sb, nonce, RefreshSeconds(s), filter: false);
            return sb.ToString();
        }

        Problems(sb, s, health.ForStream(key).ToArray(), all: false);

        sb.Append("<section id=\"info\"><h2>Information</h2><dl class=\"info\">");
        void Item(string k, string v) => sb.Append("<dt>").Append(H(k)).Append("</dt><dd>").Append(H(v)).Append("</dd>");
        if (st.Domain.Length > 0) Item("Domain", st.Domain);
        Item("Account", st.Account);
        Item("Storage", Format.Storage(st.Storage));
        Item("Retention", st.Retention);
        Item("Replicas", Format.Count(st.ReplicasConfigured));
        Item("Messages", Format.Count(st.Messages));
        Item("Bytes", Format.Bytes(st.Bytes));
        Item("First Sequence", Format.Count(st.FirstSeq));
        Item("Last Sequence", Format.Count(st.LastSeq));
        Item("Subjects", Format.Count(st.Subjects));
        Item("Deleted Messages", Format.Count(st.DeletedMessages));
        Item("Lost Messages", st.LostMessages is null ? Format.Unknown : $"{Format.Count(st.LostMessages)} ({Format.Bytes(st.LostBytes)})");
        Item("Maximum Bytes", st.MaxBytes is { } mb ? Format.Bytes(mb) : "unlimited");
        Item("Maximum Messages", st.MaxMessages is { } mm ? Format.Count(mm) : "unlimited");
        Item("State From", st.StateFrom ?? "nobody: every server hosting the stream failed this poll");
        sb.Append("</dl></section>");

        sb.Append("<section id=\"cluster\"><h2>Cluster Information</h2><pre class=\"cli\">");
        foreach (var line in Format.ClusterInformation(st, health))
            sb.Append(line.Problem ? "<span class=\"bad\">" : "<span>").Append(H(line.Text)).Append("</span>\n");
        sb.Append("</pre></section>");

        if (st.ReplicasConfigured > 1) Table(sb, ReplicaTables.Stream(st, health));
        if (st.Mirror is not null || st.Sources.Count > 0) Table(sb, OperatorTables.Sources(st, health));
        Table(sb, OperatorTables.Consumers(st, health));
        if (st.Consumers.Any(c => c.Replicas.Count > 0)) Table(sb, ReplicaTables.Consumers(st, health));
        Foot(sb, nonce, RefreshSeconds(s), filter: false);
        return sb.ToString();
    }

    private static void Head(StringBuilder sb, string title, int refresh, string nonce)
    {
        sb.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
          .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
          .Append("<title>").Append(H(title)).Append("</title>")
          .Append("<noscript><meta http-equiv=\"refresh\" content=\"").Append(refresh.ToString(CultureInfo.InvariantCulture)).Append("\"></noscript>")
          .Append("<style nonce=\"").Append(H(nonce)).Append("\">").Append(Css).Append("</style></head><body>");
    }

    private static void Meta(StringBuilder sb, ClusterSnapshot s, DateTimeOffset now, string version)
    {
        var (up, expected) = HealthCheck.Answered(s);
        sb.Append("<p class=\"meta\">collected <time datetime=\"").Append(s.CollectedAt.ToString("O", CultureInfo.InvariantCulture)).Append("\">")
          .Append(s.CollectedAt.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)).Append("</time> (")
          .Append(H(Format.Ago(Math.Max(0, (now - s.CollectedAt).TotalSeconds)))).Append(") &middot; ")
          .Append(up.ToString(CultureInfo.InvariantCulture)).Append('/').Append(expected.ToString(CultureInfo.InvariantCulture)).Append(" servers answered &middot; poll every ")
          .Append(H(Format.Duration(s.PollInterval.TotalSeconds))).Append(" &middot; natsjs-exporter ").Append(H(version))
          .Append(" &middot; <a href=\"/metrics\">metrics</a> &middot; <a href=\"/api/v1/snapshot\">JSON</a></p>");
    }

    private static void Problems(StringBuilder sb, ClusterSnapshot s, IReadOnlyList<Problem> problems, bool all)
    {
        if (problems.Count == 0)
        {
            sb.Append("<section id=\"problems\" class=\"box healthy\"><h2>&#10004; All healthy</h2><p>");
            if (all)
                sb.Append(s.Targets.Count(t => t.Up).ToString(CultureInfo.InvariantCulture)).Append(" servers, ")
                  .Append(s.Streams.Count.ToString(CultureInfo.InvariantCulture)).Append(" streams, ")
                  .Append(s.Streams.Sum(x => x.Consumers.Count).ToString(CultureInfo.InvariantCulture)).Append(" consumers: every replica current, every group has a leader.");
            else
                sb.Append("Every replica is current and online, the stream and its consumers have leaders.");
            sb.Append("</p></section>");
            return;
        }
        int crit = problems.Count(p => p.Severity == Severity.Critical);
        int warn = problems.Count - crit;
        sb.Append("<section id=\"problems\" class=\"box ").Append(crit > 0 ? "critical" : "warning").Append("\"><h2>Problems: ");
        if (crit > 0) sb.Append(crit.ToString(CultureInfo.InvariantCulture)).Append(" critical");
        if (crit > 0 && warn > 0) sb.Append(", ");
        if (warn > 0) sb.Append(warn.ToString(CultureInfo.InvariantCulture)).Append(warn == 1 ? " warning" : " warnings");
        sb.Append("</h2><ul>");
        foreach (var p in problems)
        {
            string sev = p.Severity == Severity.Critical ? "critical" : "warning";
            sb.Append("<li class=\"").Append(sev).Append("\" data-kind=\"").Append(ProblemKinds.Id(p.Kind)).Append('"');
            if (!string.IsNullOrEmpty(p.Domain)) sb.Append(" data-domain=\"").Append(H(p.Domain)).Append('"');
            if (p.Account is not null) sb.Append(" data-account=\"").Append(H(p.Account)).Append('"');
            if (p.Stream is not null) sb.Append(" data-stream=\"").Append(H(p.Stream)).Append('"');
            if (p.Consumer is not null) sb.Append(" data-consumer=\"").Append(H(p.Consumer)).Append('"');
            if (p.Server is not null) sb.Append(" data-server=\"").Append(H(p.Server)).Append('"');
            sb.Append("><span class=\"sev\">").Append(sev.ToUpperInvariant()).Append("</span> ").Append(H(p.Message));
            if (all && p.StreamKey is { } key)
                sb.Append(" <a href=\"").Append(H(StreamPath(key))).Append("\">details</a>");
            sb.Append("</li>");
        }
        sb.Append("</ul></section>");
    }

    private static void Table(StringBuilder sb, TableView t)
    {
        sb.Append("<section id=\"").Append(H(t.Id)).Append("\"><h2>").Append(H(t.Title)).Append("</h2>");
        TableBody(sb, t);
        sb.Append("</section>");
    }

    private static void TableBody(StringBuilder sb, TableView t)
    {
        if (t.Rows.Count == 0)
        {
            sb.Append("<p class=\"empty\">").Append(H(t.Empty)).Append("</p>");
            return;
        }
        sb.Append("<div class=\"scroll\"><table id=\"").Append(H(t.Id)).Append("-table\"><thead><tr>");
        for (int i = 0; i < t.Headers.Count; i++)
            sb.Append(t.Numeric.Contains(i) ? "<th class=\"n\">" : "<th>").Append(H(t.Headers[i])).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        foreach (var row in t.Rows)
        {
            sb.Append("<tr");
            if (row.Problem) sb.Append(" class=\"bad\"");
            if (row.Stream is { } st)
            {
                if (st.Domain.Length > 0) sb.Append(" data-domain=\"").Append(H(st.Domain)).Append('"');
                sb.Append(" data-account=\"").Append(H(st.Account)).Append("\" data-stream=\"").Append(H(st.Name)).Append('"');
            }
            sb.Append('>');
            for (int i = 0; i < row.Cells.Count; i++)
            {
                sb.Append(t.Numeric.Contains(i) ? "<td class=\"n\">" : "<td>");
                if (row.Stream is { } s2 && t.Headers[i] == "Stream")
                    sb.Append("<a href=\"").Append(H(StreamPath(s2))).Append("\">").Append(H(row.Cells[i])).Append("</a>");
                else
                    sb.Append(H(row.Cells[i]));
                sb.Append("</td>");
            }
            sb.Append("</tr>");
        }
        sb.Append("</tbody>");
        if (t.Footer is { } footer)
        {
            sb.Append("<tfoot><tr>");
            for (int i = 0; i < footer.Count; i++)
                sb.Append(t.Numeric.Contains(i) ? "<td class=\"n\">" : "<td>").Append(H(footer[i])).Append("</td>");
            sb.Append("</tr></tfoot>");
        }
        sb.Append("</table></div>");
    }

    private static void Foot(StringBuilder sb, string nonce, int refresh, bool filter)
    {
        sb.Append("<footer>Refreshes every ").Append(refresh.ToString(CultureInfo.InvariantCulture)).Append(" s.</footer>");
        sb.Append("<script nonce=\"").Append(H(nonce)).Append("\">")
          .Append("(function(){var R=").Append((refresh * 1000).ToString(CultureInfo.InvariantCulture)).Append(';')
          .Append(filter ? FilterJs : "")
          .Append("setTimeout(function(){location.reload();},R);})();</script></body></html>");
    }

    // The filter keeps its text across the page's own refreshes in the URL fragment (#q=...).
    private const string FilterJs =
        "var f=document.getElementById('filter'),c=document.getElementById('filter-count');" +
        "var rows=Array.prototype.slice.call(document.querySelectorAll('#streams-table tbody tr'));" +
        "function apply(){var q=f.value.trim().toLowerCase(),n=0;rows.forEach(function(r){var ok=!q||r.textContent.toLowerCase().indexOf(q)>=0;r.hidden=!ok;if(ok)n++;});" +
        "c.textContent=q?n+' of '+rows.length+' shown':'';history.replaceState(null,'',q?'#q='+encodeURIComponent(f.value):location.pathname+location.search);}" +
        "var m=/^#q=(.*)$/.exec(location.hash);if(m){try{f.value=decodeURIComponent(m[1]);}catch(e){}}" +
        "f.addEventListener('input',apply);apply();";

    private const string Css =
        ":root{--ok:#1a7f37;--warn:#9a6700;--crit:#cf222e;--bg:#fff;--fg:#1f2328;--mut:#59636e;--line:#d1d9e0;--head:#f6f8fa}" +
        "@media (prefers-color-scheme:dark){:root{--ok:#3fb950;--warn:#d29922;--crit:#f85149;--bg:#0d1117;--fg:#e6edf3;--mut:#9198a1;--line:#3d444d;--head:#151b23}}" +
        "*{box-sizing:border-box}body{margin:0 auto;max-width:1200px;padding:12px;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;background:var(--bg);color:var(--fg)}" +
        "h1{font-size:1.4em;margin:.2em 0}h1 small{font-weight:normal;color:var(--mut);font-size:.6em}h2{font-size:1.1em;margin:1.2em 0 .4em}h2 small{color:var(--mut);font-weight:normal}" +
        "a{color:inherit}.meta,footer,.back{color:var(--mut);font-size:.9em;margin:.2em 0}footer{margin-top:2em}" +
        ".box{border:2px solid var(--line);border-radius:8px;padding:4px 12px;margin:12px 0}.box h2{margin:.4em 0}" +
        ".healthy{border-color:var(--ok)}.healthy h2{color:var(--ok)}.warning{border-color:var(--warn)}.critical{border-color:var(--crit)}" +
        ".box ul{margin:.3em 0;padding-left:1.2em}.box li{margin:.25em 0;overflow-wrap:anywhere}" +
        ".sev{font-weight:bold;font-size:.8em;padding:0 4px;border-radius:3px;color:#fff}li.warning .sev{background:var(--warn)}li.critical .sev{background:var(--crit)}" +
        ".scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}" +
        "th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}th{background:var(--head)}" +
        ".n{text-align:right}tfoot td{font-weight:bold;border-top:2px solid var(--line)}tr.bad td{color:var(--crit)}tr.bad td a{color:var(--crit)}" +
        ".filter input{font:inherit;padding:4px 8px;width:16em;max-width:60vw;border:1px solid var(--line);border-radius:4px;background:var(--bg);color:var(--fg)}" +
        "#filter-count{color:var(--mut);font-size:.9em}.empty{color:var(--mut)}" +
        "pre.cli{background:var(--head);padding:8px;border-radius:6px;overflow-x:auto}pre .bad{color:var(--crit)}" +
        "dl.info{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}dt{color:var(--mut)}dd{margin:0;overflow-wrap:anywhere}" +
        "@media (max-width:600px){body{padding:8px;font-size:13px}th,td{padding:3px 5px}}";
}
