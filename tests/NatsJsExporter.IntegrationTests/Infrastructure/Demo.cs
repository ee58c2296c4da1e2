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

    /// <param name="node">Connect to this node only (e.g. to keep publishing while another node is frozen).</param>
    /// <param name="user">APP's user "app" by default; "ops" for the OPS account (password = user name).</param>
    public static async Task<Demo> ConnectAsync(NatsCluster cluster, string? node = null, string user = "app")
    {
        var client = new NatsClient(new NatsOpts
        {
            Url = node is null ? cluster.ClientUrls : cluster[node].ClientUrl,
            AuthOpts = new NatsAuthOpts { Username = user, Password = user },
            RequestTimeout = TimeSpan.FromSeconds(10),
        });
        await client.ConnectAsync();
        return new Demo(client);
    }

    public async Task CreateStreamAsync(string name, int replicas, StreamConfigStorage storage = StreamConfigStorage.File)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60); // a new cluster may refuse placement until every peer has reported its resources
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
        var deadline = DateTime.UtcNow.AddSeconds(60); // a new cluster may refuse placement until every peer has reported its resources
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

    public Task PublishAsync(string stream, int count) => PublishAsync(Js, stream, count);

    /// <summary>
    /// Publishes <paramref name="count"/> messages to <paramref name="stream"/>, each acknowledged once.
    /// A stream just created (or whose leader just stepped down) may not answer its first publish:
    /// each message is retried with the same message id, so the stream keeps exactly one copy.
    /// </summary>
    public static async Task PublishAsync(INatsJSContext js, string stream, int count)
    {
        for (int i = 0; i < count; i++)
        {
            var msgId = Guid.NewGuid().ToString("N");
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                try
                {
                    (await js.PublishAsync($"{stream.ToLowerInvariant()}.new", $"message {i}", opts: new NatsJSPubOpts { MsgId = msgId })).EnsureSuccess();
                    break;
                }
                catch (NatsJSPublishNoResponseException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(500);
                }
            }
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

    /// <summary>Creates a stream from a full configuration (sources, mirror, limits), retrying while JetStream elects leaders.</summary>
    public async Task CreateStreamAsync(StreamConfig config)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60); // a new cluster may refuse placement until every peer has reported its resources
        while (true)
        {
            try
            {
                await Js.CreateStreamAsync(config);
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }
    }

    /// <summary>Messages the stream holds, as its leader reports them (the truth to compare metrics with).</summary>
    public async Task<long> MessageCountAsync(string stream) => (await Js.GetStreamAsync(stream)).Info.State.Messages;

    /// <summary>Fetches and acks up to <paramref name="batch"/> messages of a durable pull consumer about every
    /// <paramref name="every"/> until cancelled; errors (e.g. during elections) are ignored. Returns the number acked.</summary>
    public Task<long> ConsumeUntilAsync(string stream, string consumer, int batch, TimeSpan every, CancellationToken ct) => Task.Run(async () =>
    {
        long acked = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var c = await Js.GetConsumerAsync(stream, consumer, ct);
                await foreach (var msg in c.FetchAsync<string>(new NatsJSFetchOpts { MaxMsgs = batch, Expires = TimeSpan.FromSeconds(1) }, cancellationToken: ct))
                {
                    await msg.AckAsync(cancellationToken: ct);
                    acked++;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { break; }
            catch (Exception) when (!ct.IsCancellationRequested) { }
            try { await Task.Delay(every, ct); } catch (OperationCanceledException) { break; }
        }
        return acked;
    });

    public async ValueTask DisposeAsync() => await _client.DisposeAsync();
}
