// NatsJsExporter.Demo: creates demo JetStream streams/consumers and publishes light traffic,
// so the exporter has something to report.
//
//   natsjs-demo setup   --url nats://127.0.0.1:4222 --user app --password app [--replicas N]
//   natsjs-demo publish --url nats://127.0.0.1:4222 --user app --password app [--rate 20] [--duration SECONDS]
using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Polly;

namespace NatsJsExporter.Demo;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var command = DemoCommandLine.Build(RunAsync);
        var parsed = command.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // One line per mistake and where to look; exit 2 as for any usage error.
            foreach (var error in parsed.Errors) Console.Error.WriteLine($"natsjs-demo: {error.Message}");
            Console.Error.WriteLine("Run 'natsjs-demo --help' (or 'natsjs-demo setup --help', 'natsjs-demo publish --help') for usage.");
            return 2;
        }

        // The demo cancels on SIGINT/SIGTERM itself (below) and winds down its loops; no forced exit.
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    private static async Task<int> RunAsync(Options opts)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            cts.Cancel();
        });

        await using var nc = new NatsConnection(new NatsOpts
        {
            Url = opts.Url,
            Name = $"natsjs-demo-{opts.Command}",
            AuthOpts = opts.User is null
                ? NatsAuthOpts.Default
                : new NatsAuthOpts { Username = opts.User, Password = opts.Password },
            ConnectTimeout = TimeSpan.FromSeconds(5),
            RequestTimeout = TimeSpan.FromSeconds(5),
            MaxReconnectRetry = -1,
        });

        try
        {
            await nc.ConnectAsync();
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"error: cannot connect to {opts.Url} as '{opts.User ?? "(anonymous)"}': {Flatten(ex)}");
            return 1;
        }

        var js = new NatsJSContext(nc);
        try
        {
            return opts.Command switch
            {
                "setup" => await SetupAsync(nc, js, opts, cts.Token),
                "publish" => await PublishAsync(js, opts, cts.Token),
                _ => throw new InvalidOperationException("unreachable"),
            };
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            return 0;
        }
        catch (NatsJSApiException ex)
        {
            Console.Error.WriteLine($"error: JetStream API error {ex.Error.Code}/{ex.Error.ErrCode}: {ex.Error.Description}");
            return 1;
        }
        catch (NatsNoRespondersException)
        {
            Console.Error.WriteLine("error: JetStream is not available for this user/account (no responders on $JS.API)");
            return 1;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"error: {Flatten(ex)}");
            return 1;
        }
    }

    private static async Task<int> SetupAsync(NatsConnection nc, NatsJSContext js, Options opts, CancellationToken ct)
    {
        var nodes = ClusterSize(nc);
        var replicas = opts.Replicas ?? (nodes >= 3 ? 3 : 1);
        Console.WriteLine($"connected to {nc.ServerInfo?.Name} (cluster '{nc.ServerInfo?.Cluster ?? "-"}', {nodes} node(s) known); replicated streams use R{replicas}");

        // JetStream may still be electing leaders right after the cluster started: retry a little.
        await RetryAsync("JetStream account info", () => js.GetAccountInfoAsync(ct).AsTask(), ct);

        await EnsureStreamAsync(js, new StreamConfig
        {
            Name = "ORDERS",
            Description = "demo orders",
            Subjects = ["orders.>"],
            Storage = StreamConfigStorage.File,
            NumReplicas = replicas,
            MaxBytes = 64L * 1024 * 1024,
        }, ct);

        foreach (var name in new[] { "PROCESSOR", "AUDIT" })
        {
            await RetryAsync($"consumer ORDERS/{name}", async () =>
            {
                await js.CreateOrUpdateConsumerAsync("ORDERS", new ConsumerConfig(name)
                {
                    DurableName = name,
                    AckPolicy = ConsumerConfigAckPolicy.Explicit,
                    DeliverPolicy = ConsumerConfigDeliverPolicy.All,
                    AckWait = TimeSpan.FromSeconds(30),
                    NumReplicas = replicas,
                }, ct);
            }, ct);
            Console.WriteLine($"consumer ORDERS/{name} ok (R{replicas}, pull, explicit ack)");
        }

        await EnsureStreamAsync(js, new StreamConfig
        {
            Name = "EVENTS",
            Description = "demo events",
            Subjects = ["events.>"],
            Storage = StreamConfigStorage.Memory,
            NumReplicas = 1,
            MaxBytes = 16L * 1024 * 1024,
        }, ct);

        await EnsureStreamAsync(js, new StreamConfig
        {
            Name = "ORDERS_ARCHIVE",
            Description = "sources ORDERS",
            Storage = StreamConfigStorage.File,
            NumReplicas = replicas,
            Sources = [new StreamSource { Name = "ORDERS" }],
        }, ct);

        await EnsureStreamAsync(js, new StreamConfig
        {
            Name = "ORDERS_MIRROR",
            Description = "mirror of ORDERS",
            Storage = StreamConfigStorage.File,
            NumReplicas = 1,
            Mirror = new StreamSource { Name = "ORDERS" },
        }, ct);

        Console.WriteLine("setup complete");
        return 0;
    }

    private static async Task EnsureStreamAsync(NatsJSContext js, StreamConfig config, CancellationToken ct)
    {
        await RetryAsync($"stream {config.Name}", async () =>
        {
            try
            {
                // Creating a stream with an identical config succeeds (no-op) on the server.
                await js.CreateStreamAsync(config, ct);
                Console.WriteLine($"stream {config.Name} ok (R{config.NumReplicas}, {config.Storage})");
            }
            catch (NatsJSApiException ex) when (ex.Error.ErrCode == 10058) // stream name already in use
            {
                var existing = await js.GetStreamAsync(config.Name!, cancellationToken: ct);
                if (existing.Info.Config.NumReplicas != config.NumReplicas)
                {
                    // Changing the replica count of sourced/mirrored streams is not always allowed on
                    // older servers; keep what exists and say so.
                    Console.WriteLine($"stream {config.Name} exists with R{existing.Info.Config.NumReplicas} (wanted R{config.NumReplicas}); keeping it");
                }
                else
                {
                    Console.WriteLine($"stream {config.Name} already exists (R{config.NumReplicas}, {config.Storage})");
                }
            }
        }, ct);
    }

    private static async Task<int> PublishAsync(NatsJSContext js, Options opts, CancellationToken ct)
    {
        var rate = opts.Rate;
        using var durationCts = opts.DurationSeconds > 0
            ? new CancellationTokenSource(TimeSpan.FromSeconds(opts.DurationSeconds))
            : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, durationCts.Token);
        var token = linked.Token;

        Console.WriteLine($"publishing ~{rate} msg/s to orders.new / events.click" +
                          (opts.DurationSeconds > 0 ? $" for {opts.DurationSeconds}s" : " until Ctrl-C"));

        // One independent loop per subject: when one stream is unavailable (e.g. its only replica is
        // on a stopped node) the other keeps its rate.
        var perSubject = Math.Max(1.0, rate / 2.0);
        var loops = new[]
        {
            new PublishLoop("orders.new", n => $"{{\"order\":{n},\"amount\":{n % 97 + 1},\"ts\":\"{DateTime.UtcNow:O}\"}}"),
            new PublishLoop("events.click", n => $"{{\"click\":{n},\"ts\":\"{DateTime.UtcNow:O}\"}}"),
        };
        var tasks = loops.Select(l => Task.Run(() => l.RunAsync(js, perSubject, token), CancellationToken.None)).ToList();
        tasks.Add(Task.Run(() => ProcessLoopAsync(js, Math.Max(1, rate / 4), token), CancellationToken.None));

        try
        {
            while (!token.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(10), token);
                Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} " + string.Join(", ", loops.Select(l => l.Report(reset: true))));
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }

        await Task.WhenAll(tasks);
        Console.WriteLine("stopped: " + string.Join(", ", loops.Select(l => l.Report(reset: false))));
        return 0;
    }

    private sealed class PublishLoop(string subject, Func<long, string> body)
    {
        private long _seq, _ok, _failed;
        private string? _lastError;

        public string Report(bool reset)
        {
            var text = $"{subject} ok={Interlocked.Read(ref _ok)} failed={Interlocked.Read(ref _failed)}";
            var err = reset ? Interlocked.Exchange(ref _lastError, null) : _lastError;
            return err is null ? text : $"{text} (last error: {err})";
        }

        public async Task RunAsync(NatsJSContext js, double perSecond, CancellationToken token)
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / perSecond));
            try
            {
                while (await timer.WaitForNextTickAsync(token))
                {
                    var n = ++_seq;
                    try
                    {
                        using var pubCts = CancellationTokenSource.CreateLinkedTokenSource(token);
                        pubCts.CancelAfter(TimeSpan.FromSeconds(2));
                        var ack = await js.PublishAsync(subject, Encoding.UTF8.GetBytes(body(n)), cancellationToken: pubCts.Token);
                        ack.EnsureSuccess();
                        Interlocked.Increment(ref _ok);
                    }
                    catch (Exception ex) when (!token.IsCancellationRequested)
                    {
                        // Keep going: during failure scenarios (frozen/killed nodes) publishes may time out.
                        Interlocked.Increment(ref _failed);
                        _lastError = Flatten(ex);
                    }
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>PROCESSOR fetches and acks a limited number of messages per second, so its ack floor
    /// moves but it stays a little behind; AUDIT is never read and accumulates pending messages.</summary>
    private static async Task ProcessLoopAsync(NatsJSContext js, int perSecond, CancellationToken ct)
    {
        INatsJSConsumer? consumer = null;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                consumer ??= await js.GetConsumerAsync("ORDERS", "PROCESSOR", ct);
                var fetchOpts = new NatsJSFetchOpts { MaxMsgs = perSecond, Expires = TimeSpan.FromSeconds(1) };
                await foreach (var msg in consumer.FetchAsync<byte[]>(fetchOpts, cancellationToken: ct))
                {
                    await msg.AckAsync(cancellationToken: ct);
                }

                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} PROCESSOR fetch failed: {Flatten(ex)}");
                consumer = null;
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private static int ClusterSize(NatsConnection nc)
    {
        // connect_urls lists the client URLs of every server in the cluster (including this one);
        // a standalone server sends none.
        var urls = nc.ServerInfo?.ClientConnectUrls;
        var count = urls?.Distinct().Count() ?? 0;
        return Math.Max(1, count);
    }

    private static async Task RetryAsync(string what, Func<Task> action, CancellationToken ct)
    {
        // Transient errors (leaders still being elected): again every second, for up to 30 s (Polly.Core retry).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var retry = new ResiliencePipelineBuilder()
            .AddRetry(new Polly.Retry.RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && !ct.IsCancellationRequested && DateTime.UtcNow < deadline && IsTransient(ex)),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Constant,
                Delay = TimeSpan.FromSeconds(1),
                UseJitter = false,
                OnRetry = args =>
                {
                    Console.WriteLine($"{what}: {Flatten(args.Outcome.Exception!)}; retrying ({args.AttemptNumber + 1})");
                    return default;
                },
            })
            .Build();
        await retry.ExecuteAsync(async _ => await action(), ct);
    }

    private static bool IsTransient(Exception ex) => ex switch
    {
        // 10039/10076: JetStream not enabled for the account/server: retrying will not help.
        NatsJSApiException api => api.Error.ErrCode is not (10039 or 10076)
                                  && (api.Error.Code is 503 or 500 || api.Error.ErrCode is 10008 /* cluster not available */),
        NatsNoRespondersException => true,
        NatsJSApiNoResponseException => true,
        TimeoutException => true,
        NatsException => true,
        OperationCanceledException => true,
        _ => false,
    };

    private static string Flatten(Exception ex)
    {
        var parts = new List<string>();
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            var text = e is NatsJSApiException api
                ? $"JetStream API error {api.Error.Code}/{api.Error.ErrCode}: {api.Error.Description}"
                : $"{e.GetType().Name}: {e.Message}";
            if (!parts.Contains(text))
            {
                parts.Add(text);
            }
        }

        return string.Join(" -> ", parts);
    }
}
