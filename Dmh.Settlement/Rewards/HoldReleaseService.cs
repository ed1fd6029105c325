using Dapper;
using Dmh.Platform.Hosting;
using Dmh.Platform.Rewards;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Prometheus;

namespace Dmh.Settlement.Rewards;

/// <summary>
/// Makes frozen rewards available at <c>available_at</c> (settled_at + the campaign's hold days): one
/// unfreeze ledger row per reward (key <c>reward:{id}:unfreeze</c>), batched, one instance at a time
/// (a MySQL named lock per database, as reconciliation does), on <see cref="TimeProvider"/> time.
/// </summary>
public sealed class HoldReleaseService(
    MySqlDataSource dataSource,
    IOptions<HoldReleaseOptions> options,
    TimeProvider time,
    ILogger<HoldReleaseService> logger) : BackgroundService
{
    private const string LockName = "CONCAT('dmh_reward_hold:', DATABASE())";

    private static readonly Counter Released = Metrics.CreateCounter(
        "dmh_rewards_unfrozen_total", "Frozen rewards made available after their hold.");

    private readonly HoldReleaseOptions _options = options.Value;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicSweep.RunAsync(SweepAsync, _options.Interval, time, logger, "Reward hold sweep", stoppingToken);

    /// <summary>One sweep: every reward due now; returns how many were made available (0 when another instance holds the lock).</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        await using var lockConnection = await dataSource.OpenConnectionAsync(ct);
        if (await lockConnection.ExecuteScalarAsync<long?>($"SELECT GET_LOCK({LockName}, 0)") != 1)
        {
            return 0;
        }

        try
        {
            var released = 0;
            while (true)
            {
                var now = time.GetUtcNow().UtcDateTime;
                var due = (await lockConnection.QueryAsync<long>(new CommandDefinition(
                    "SELECT id FROM rewards WHERE status = 'frozen' AND available_at <= @now ORDER BY available_at, id LIMIT @limit",
                    new { now, limit = _options.BatchSize }, cancellationToken: ct))).ToList();
                foreach (var id in due)
                {
                    await using var tx = await lockConnection.BeginTransactionAsync(ct);
                    if (await RewardLedger.UnfreezeAsync(lockConnection, tx, id, now, ct))
                    {
                        released++;
                        Released.Inc();
                    }

                    await tx.CommitAsync(ct);
                }

                if (due.Count < _options.BatchSize)
                {
                    return released;
                }
            }
        }
        finally
        {
            await lockConnection.ExecuteScalarAsync<long?>($"SELECT RELEASE_LOCK({LockName})");
        }
    }
}
