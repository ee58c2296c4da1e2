namespace NatsJsExporter.Hosting;

/// <summary>Runs <see cref="Poller"/> every interval. A failed poll is logged and retried; it never stops the service.</summary>
public sealed class PollerService(Poller poller, TimeSpan interval, ILogger<PollerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval);
        do
        {
            try
            {
                await poller.PollOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Poll failed unexpectedly; the previous snapshot stays served and the next poll runs as scheduled");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
