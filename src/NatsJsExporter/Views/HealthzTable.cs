using NatsJsExporter.Snapshot;

namespace NatsJsExporter.Views;

/// <summary>The servers whose own /healthz is not ok (or could not be read), one row per failing check.</summary>
public static class HealthzTable
{
    /// <summary>Null when no server was asked for its health (nothing to show).</summary>
    public static TableView? Build(ClusterSnapshot s)
    {
        if (s.Healthz is not { } servers) return null;
        int ok = servers.Count(h => h.Healthy == true);
        var rows = new List<TableRow>();
        foreach (var h in servers.Where(h => h.Healthy != true))
        {
            string status = h.Healthy is null ? "not read" : h.StatusCode is { } code ? $"{h.Status} ({code})" : h.Status ?? "";
            if (h.Issues.Count == 0)
                rows.Add(new TableRow([h.Server, h.Cluster, status, h.Healthy is null ? "" : "server", h.FetchError ?? h.Error ?? ""], Problem: h.Healthy == false));
            foreach (var i in h.Issues)
                rows.Add(new TableRow([h.Server, h.Cluster, status, Asset(h, i), i.Error], Problem: true,
                    Stream: i.Stream is null || i.Account is null ? null : new StreamKey(h.Domain, i.Account, i.Stream)));
        }
        return new TableView
        {
            Id = "healthz",
            Title = $"Server Health Checks (/healthz): {ok} of {servers.Count} ok",
            Headers = ["Server", "Cluster", "Status", "Failing check", "Error"],
            Rows = rows,
            Empty = "every server's own health check says ok",
        };
    }

    /// <summary>"stream APP > ORDERS", "consumer APP > ORDERS > PROCESSOR", "account APP", "jetstream".</summary>
    public static string Asset(ServerHealthView h, HealthIssueView i)
    {
        string prefix = h.Domain.Length == 0 || i.Account is null ? "" : h.Domain + ": ";
        return i.Kind switch
        {
            "consumer" => $"consumer {prefix}{i.Account} > {i.Stream} > {i.Consumer}",
            "stream" => $"stream {prefix}{i.Account} > {i.Stream}",
            "account" => $"account {prefix}{i.Account}",
            _ => i.Account is null ? i.Kind : $"{i.Kind} {prefix}{string.Join(" > ", new[] { i.Account, i.Stream, i.Consumer }.Where(x => x is not null))}",
        };
    }
}
