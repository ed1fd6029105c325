using Microsoft.Extensions.Logging;

namespace Dmh.Platform.Hosting;

/// <summary>
/// The loop of a background job that sweeps every interval: a failed sweep is logged and the next one
/// runs on time, so one bad round never stops the job; cancellation ends it quietly.
/// </summary>
public static class PeriodicSweep
{
    public static async Task RunAsync(
        Func<CancellationToken, Task> sweep, TimeSpan interval, TimeProvider time, ILogger logger, string name, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await sweep(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "{Sweep} failed; next in {Interval}", name, interval);
            }

            try
            {
                await Task.Delay(interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
