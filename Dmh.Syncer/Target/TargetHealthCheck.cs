using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Syncer.Target;

/// <summary>/readyz: the customer's database answers (when sync is enabled).</summary>
public sealed class TargetHealthCheck(IOptions<ExternalSyncOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var sync = options.Value;
        if (!sync.Enabled)
        {
            return HealthCheckResult.Healthy("external sync disabled");
        }

        var db = sync.Database;
        if (db.Type != "mysql")
        {
            return HealthCheckResult.Degraded($"no health probe for {db.Type} yet");
        }

        try
        {
            var csb = new MySqlConnectionStringBuilder
            {
                Server = db.Host,
                Port = (uint)db.Port,
                UserID = db.User,
                Password = db.Password,
                Database = db.Database,
                ConnectionTimeout = 3,
            };
            await using var connection = new MySqlConnection(csb.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (MySqlException ex)
        {
            return HealthCheckResult.Unhealthy("customer database unreachable", ex);
        }
    }
}
