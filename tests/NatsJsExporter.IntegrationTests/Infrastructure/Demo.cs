using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Net;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

/// <summary>JetStream assets in the APP account, made with the official NATS .NET client.</summary>
public sealed class Demo : IAsyncDisposable
{
    private readonly NatsClient _client;
    public INatsJSContext Js { get; }

    private Demo(NatsClient client)
    {
        _client = client;
        Js = client.CreateJetStreamContext();
    }

    /// <param name="node">Connect to this server only (e.g. one that will not be frozen); default: any.</param>
    public static async Task<Demo> ConnectAsync(NatsCluster cluster, string? node = null)
    {
        var client = new NatsClient(new NatsOpts
        {
            Url = node is null ? cluster.ClientUrls : cluster[node].ClientUrl,
            AuthOpts = new NatsAuthOpts { Username = "app", Password = "app" },
            RequestTimeout = TimeSpan.FromSeconds(10),
        });
        await client.ConnectAsync();
        return new Demo(client);
    }

    public async Task CreateStreamAsync(string name, int replicas, StreamConfigStorage storage = StreamConfigStorage.File)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await Js.CreateStreamAsync(new StreamConfig(name, [name.ToLowerInvariant() + ".>"]) { NumReplicas = replicas, Storage = storage });
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500); // JetStream may still be electing leaders right after start
            }
        }
    }

    public async Task CreateConsumerAsync(string stream, string durable)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await Js.CreateOrUpdateConsumerAsync(stream, new ConsumerConfig(durable) { AckPolicy = ConsumerConfigAckPolicy.Explicit });
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500); // a loaded machine may miss the API reply during elections
            }
        }
    }

    public async Task PublishAsync(string stream, int count)
    {
        for (int i = 0; i < count; i++)
        {
            var ack = await Js.PublishAsync($"{stream.ToLowerInvariant()}.new", $"message {i}");
            ack.EnsureSuccess();
        }
    }

    /// <summary>Publishes in the background until cancelled; errors (e.g. during elections) are ignored.</summary>
    public Task PublishUntilAsync(string stream, CancellationToken ct) => Task.Run(async () =>
    {
        int i = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Js.PublishAsync($"{stream.ToLowerInvariant()}.new", $"message {i++}", cancellationToken: ct);
            }
            catch (Exception) when (!ct.IsCancellationRequested) { }
            catch (OperationCanceledException) { return; }
            try { await Task.Delay(20, ct); } catch (OperationCanceledException) { return; }
        }
    });

    public async Task DeleteStreamAsync(string name) => await Js.DeleteStreamAsync(name);

    public async ValueTask DisposeAsync() => await _client.DisposeAsync();
}
