using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

/// <summary>One alert out of an Alertmanager webhook notification, as a pager would see it.</summary>
public sealed record Notification(
    DateTime ReceivedUtc, string Status, string AlertName,
    IReadOnlyDictionary<string, string> Labels, IReadOnlyDictionary<string, string> Annotations)
{
    public string this[string label] => Labels.TryGetValue(label, out var v) ? v : "";

    public override string ToString() =>
        $"{ReceivedUtc:HH:mm:ss.fff} {Status,-8} {AlertName} {{{string.Join(",", Labels.Where(kv => kv.Key != "alertname").Select(kv => $"{kv.Key}=\"{kv.Value}\""))}}}";
}

/// <summary>
/// An Alertmanager webhook receiver on 127.0.0.1 (HttpListener, free port) that records every
/// alert of every notification (webhook payload version 4) with the time it arrived.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly ConcurrentQueue<Notification> _received = new();

    public string Url { get; }
    public IReadOnlyCollection<Notification> Received => _received.ToArray();

    public WebhookReceiver()
    {
        var port = Ports.Free();
        Url = $"http://127.0.0.1:{port}/hook";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch (Exception) { return; } // stopped
            try
            {
                using var reader = new StreamReader(ctx.Request.InputStream);
                var body = JsonNode.Parse(await reader.ReadToEndAsync());
                var now = DateTime.UtcNow;
                foreach (var alert in body?["alerts"]?.AsArray() ?? [])
                {
                    var labels = ToDictionary(alert?["labels"]);
                    _received.Enqueue(new Notification(now, alert?["status"]?.GetValue<string>() ?? "",
                        labels.TryGetValue("alertname", out var name) ? name : "", labels, ToDictionary(alert?["annotations"])));
                }
                ctx.Response.StatusCode = 200;
            }
            catch (Exception)
            {
                ctx.Response.StatusCode = 400;
            }
            ctx.Response.Close();
        }
    }

    private static Dictionary<string, string> ToDictionary(JsonNode? node) =>
        (node as JsonObject)?.ToDictionary(kv => kv.Key, kv => kv.Value?.GetValue<string>() ?? "", StringComparer.Ordinal)
        ?? new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Waits for the first recorded alert matching the condition.</summary>
    public async Task<Notification> WaitForAsync(string what, Func<Notification, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var hit = _received.FirstOrDefault(condition);
            if (hit is not null) return hit;
            await Task.Delay(100);
        }
        throw new TimeoutException($"no notification within {timeout.TotalSeconds:0}s: {what}\nreceived:\n{string.Join("\n", _received)}");
    }

    public async ValueTask DisposeAsync()
    {
        try { _listener.Stop(); _listener.Close(); } catch (Exception) { }
        try { await _loop; } catch (Exception) { }
    }
}
