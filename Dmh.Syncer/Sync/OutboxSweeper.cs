using Dapper;
using Dmh.Contracts;
using Dmh.Platform.Redis;
using Dmh.Platform.Streams;
using Dmh.Syncer.Target;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Prometheus;
using StackExchange.Redis;

namespace Dmh.Syncer.Sync;

/// <summary>
/// Re-publishes pending sync_records that no message will bring: never published (a crash between
/// the settlement commit and its publish), published long ago but not synced (a lost message), or
/// due again (<c>next_attempt_at</c> reached after a refusal or an outage). Safe with several
/// instances: rows are claimed with <c>FOR UPDATE SKIP LOCKED</c> and stamped before publishing.
/// Also writes the target's health to Redis for Ingress' summary, and both it and the age of the
/// oldest pending row to /metrics (deploy/monitoring/dmh-alerts.yml alerts on them).
/// </summary>
public sealed class OutboxSweeper(
    MySqlDataSource dataSource,
    StreamPublisher publisher,
    IConnectionMultiplexer redis,
    RedisKeys keys,
    TargetWriter writer,
    IOptions<ExternalSyncOptions> options,
    TimeProvider time,
    ILogger<OutboxSweeper> logger) : BackgroundService
{
    private static readonly Gauge TargetUp = Metrics.CreateGauge(
        "dmh_sync_target_up", "1 when the customer's database answered the last probe of the sweeper, else 0.");

    private static readonly Gauge OldestPending = Metrics.CreateGauge(
        "dmh_sync_oldest_pending_seconds", "Age of the oldest sync_records row still pending (0 when none).");

    private readonly ExternalSyncOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                int swept;
                do
                {
                    swept = await SweepOnceAsync(stoppingToken);
                }
                while (swept >= _options.Sweeper.MaxRowsPerSweep && !stoppingToken.IsCancellationRequested);

                await ReportHealthAsync(stoppingToken);
                await ReportBacklogAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Sync outbox sweep failed");
            }

            try
            {
                await Task.Delay(_options.Sweeper.Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Claims and re-publishes due rows; returns how many.</summary>
    public async Task<int> SweepOnceAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var args = new
        {
            now,
            unpublishedBefore = now - _options.Sweeper.UnpublishedAfter,
            unsyncedBefore = now - _options.Sweeper.UnsyncedAfter,
            max = _options.Sweeper.MaxRowsPerSweep,
        };
        List<(string Entity, long EntityId)> due;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            due = (await connection.QueryAsync<(string, long)>("""
                SELECT entity, entity_id FROM sync_records
                WHERE status = 'pending' AND (
                      next_attempt_at <= @now
                   OR (next_attempt_at IS NULL AND published_at IS NULL AND committed_at < @unpublishedBefore)
                   OR (next_attempt_at IS NULL AND published_at < @unsyncedBefore))
                ORDER BY id
                LIMIT @max
                FOR UPDATE SKIP LOCKED
                """, args, tx)).ToList();
            if (due.Count == 0)
            {
                return 0;
            }

            // Stamped before publishing: if this instance dies before the XADD, the row comes back
            // after UnsyncedAfter instead of being published by two instances now.
            foreach (var group in due.GroupBy(d => d.Entity))
            {
                await connection.ExecuteAsync(
                    "UPDATE sync_records SET published_at = @now, next_attempt_at = NULL WHERE entity = @entity AND entity_id IN @ids",
                    new { now, entity = group.Key, ids = group.Select(g => g.EntityId).ToList() }, tx);
            }

            await tx.CommitAsync(ct);
        }

        foreach (var (entity, id) in due)
        {
            var request = new SyncRequested(entity, id);
            await publisher.PublishAsync(StreamNames.Sync, MessageTypes.SyncRequested, request.Key, request);
        }

        logger.LogInformation("Sync sweeper re-published {Count} rows", due.Count);
        return due.Count;
    }

    private async Task ReportHealthAsync(CancellationToken ct)
    {
        string? error = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await writer.ProbeAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            error = ex.Message;
        }

        TargetUp.Set(error is null ? 1 : 0);
        await redis.GetDatabase().HashSetAsync(keys.For(SyncTargetHealth.Key),
        [
            new(SyncTargetHealth.Fields.Type, _options.Database.Type),
            new(SyncTargetHealth.Fields.Healthy, error is null ? "1" : "0"),
            new(SyncTargetHealth.Fields.Error, error ?? ""),
            new(SyncTargetHealth.Fields.CheckedAt, time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture)),
        ]);
        await redis.GetDatabase().KeyExpireAsync(keys.For(SyncTargetHealth.Key), _options.Sweeper.Interval * 4 + TimeSpan.FromSeconds(30));
    }

    private async Task ReportBacklogAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var oldest = await connection.ExecuteScalarAsync<DateTime?>(new CommandDefinition(
            "SELECT MIN(committed_at) FROM sync_records WHERE status = 'pending'", cancellationToken: ct));
        OldestPending.Set(oldest is { } at ? Math.Max(0, (time.GetUtcNow().UtcDateTime - DateTime.SpecifyKind(at, DateTimeKind.Utc)).TotalSeconds) : 0);
    }
}
