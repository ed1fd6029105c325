using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Dmh.Syncer.Target;

/// <summary>/readyz: the customer's database opens a session and answers the dialect's probe (when sync is enabled).</summary>
public sealed class TargetHealthCheck(IOptions<ExternalSyncOptions> options, IServiceProvider services) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!options.Value.Enabled)
        {
            return HealthCheckResult.Healthy("external sync disabled");
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await services.GetRequiredService<TargetWriter>().ProbeAsync(timeout.Token);
            return HealthCheckResult.Healthy($"{options.Value.Database.Type} target reachable");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"{options.Value.Database.Type} target unreachable: {ex.Message}");
        }
    }
}
