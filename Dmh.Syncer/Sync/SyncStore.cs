using Dapper;
using Dmh.Contracts;
using MySqlConnector;

namespace Dmh.Syncer.Sync;

/// <summary>sync_records and the source rows, in DMH's MySQL. orders.sync_status mirrors the order's record.</summary>
public sealed class SyncStore(MySqlDataSource dataSource, TimeProvider time)
{
    public sealed record RecordRow(long EntityId, long OrderId, string Status, int Attempts, DateTime CommittedAt);

    public async Task<Dictionary<long, RecordRow>> LoadRecordsAsync(string entity, IReadOnlyCollection<long> ids)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync<RecordRow>(
            "SELECT entity_id AS EntityId, order_id AS OrderId, status AS Status, attempts AS Attempts, committed_at AS CommittedAt FROM sync_records WHERE entity = @entity AND entity_id IN @ids",
            new { entity, ids });
        return rows.ToDictionary(r => r.EntityId);
    }

    /// <summary>Source rows by id, as source path → value (see <see cref="Target.FieldMapper"/>).</summary>
    public async Task<Dictionary<long, Dictionary<string, object?>>> LoadSourceAsync(string entity, IReadOnlyCollection<long> ids)
    {
        var sql = entity == SyncEntities.Order
            ? """
              SELECT o.id, o.campaign_id, o.participant_id, o.phone, CAST(o.form_data AS CHAR) AS form_data, o.channel_id, o.referrer_id,
                     o.status, o.amount, o.pay_status, o.trade_no, o.paid_at, o.registration_code, o.created_at,
                     c.name AS `campaign.name`, p.referral_code AS `participant.referral_code`, p.openid AS `participant.openid`,
                     r.phone AS `referrer.phone`
              FROM orders o
              LEFT JOIN campaigns c ON c.id = o.campaign_id
              LEFT JOIN participants p ON p.id = o.participant_id
              LEFT JOIN participants r ON r.id = o.referrer_id
              WHERE o.id IN @ids
              """
            : entity == SyncEntities.Reversal
            ? """
              SELECT l.id, l.reward_id, l.order_id, l.refund_id, l.user_id, w.campaign_id,
                     CAST(-l.earned_delta_fen AS DECIMAL(18,0)) / 100 AS amount, l.reason, l.created_at,
                     f.out_refund_no AS `refund.out_refund_no`, p.phone AS `participant.phone`, p.referral_code AS `participant.referral_code`,
                     c.name AS `campaign.name`, o.phone AS `order.phone`
              FROM reward_ledger l
              LEFT JOIN rewards w ON w.id = l.reward_id
              LEFT JOIN refunds f ON f.id = l.refund_id
              LEFT JOIN participants p ON p.id = l.user_id
              LEFT JOIN campaigns c ON c.id = w.campaign_id
              LEFT JOIN orders o ON o.id = l.order_id
              WHERE l.id IN @ids AND l.kind = 'reversal'
              """
            : """
              SELECT w.id, w.user_id, w.order_id, w.campaign_id, w.amount, w.status, w.settled_at, w.created_at,
                     p.phone AS `participant.phone`, p.referral_code AS `participant.referral_code`, c.name AS `campaign.name`,
                     o.phone AS `order.phone`
              FROM rewards w
              LEFT JOIN participants p ON p.id = w.user_id
              LEFT JOIN campaigns c ON c.id = w.campaign_id
              LEFT JOIN orders o ON o.id = w.order_id
              WHERE w.id IN @ids
              """;
        await using var connection = await dataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync(sql, new { ids });
        var result = new Dictionary<long, Dictionary<string, object?>>();
        foreach (IDictionary<string, object?> row in rows)
        {
            var values = new Dictionary<string, object?>(row, StringComparer.Ordinal);
            result[Convert.ToInt64(values["id"], System.Globalization.CultureInfo.InvariantCulture)] = values;
        }

        return result;
    }

    /// <summary>A request for a row without a record (e.g. published by hand) gets one, so its status is visible.</summary>
    public async Task EnsureRecordsAsync(string entity, IEnumerable<(long EntityId, long OrderId)> rows)
    {
        var list = rows.ToList();
        if (list.Count == 0)
        {
            return;
        }

        await RetryOnDeadlockAsync(async () =>
        {
            var now = time.GetUtcNow().UtcDateTime;
            await using var connection = await dataSource.OpenConnectionAsync();
            await connection.ExecuteAsync(
                "INSERT IGNORE INTO sync_records (entity, entity_id, order_id, status, committed_at, published_at) VALUES (@entity, @EntityId, @OrderId, 'pending', @now, @now)",
                list.Select(r => new { entity, r.EntityId, r.OrderId, now }));
        });
    }

    public async Task MarkSyncedAsync(string entity, IReadOnlyCollection<long> ids)
    {
        if (ids.Count == 0)
        {
            return;
        }

        await RetryOnDeadlockAsync(async () =>
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            await using var tx = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync("""
                UPDATE sync_records SET status = 'synced', synced_at = @now, last_error = NULL, next_attempt_at = NULL, attempts = attempts + 1
                WHERE entity = @entity AND entity_id IN @ids AND status <> 'synced'
                """, new { entity, ids, now = time.GetUtcNow().UtcDateTime }, tx);
            if (entity == SyncEntities.Order)
            {
                await connection.ExecuteAsync("UPDATE orders SET sync_status = 'synced' WHERE id IN @ids", new { ids }, tx);
            }

            await tx.CommitAsync();
        });
    }

    /// <summary>The target refused the row: one attempt used; <c>failed</c> once <paramref name="maxAttempts"/> are used, else tried again later.</summary>
    public async Task MarkRejectedAsync(string entity, IReadOnlyDictionary<long, string> errors, int maxAttempts, Func<int, TimeSpan> delayAfter)
    {
        if (errors.Count == 0)
        {
            return;
        }

        await RetryOnDeadlockAsync(async () =>
        {
            var now = time.GetUtcNow().UtcDateTime;
            var records = await LoadRecordsAsync(entity, errors.Keys.ToList());
            await using var connection = await dataSource.OpenConnectionAsync();
            await using var tx = await connection.BeginTransactionAsync();
            foreach (var (id, error) in errors)
            {
                var attempts = (records.TryGetValue(id, out var r) ? r.Attempts : 0) + 1;
                // Status and next_attempt_at are computed from the attempt count read above; the
                // condition on attempts makes a concurrent writer's update win instead of both counting.
                var failed = attempts >= maxAttempts;
                await connection.ExecuteAsync("""
                    UPDATE sync_records
                    SET status = @status, next_attempt_at = @next, last_error = @error, attempts = @attempts
                    WHERE entity = @entity AND entity_id = @id AND status = 'pending' AND attempts = @previous
                    """, new
                {
                    entity,
                    id,
                    error,
                    attempts,
                    previous = attempts - 1,
                    status = failed ? SyncStatus.Failed : SyncStatus.Pending,
                    next = failed ? (DateTime?)null : now + delayAfter(attempts),
                }, tx);
            }

            if (entity == SyncEntities.Order)
            {
                await MirrorAsync(connection, tx, errors.Keys.ToList());
            }

            await tx.CommitAsync();
        });
    }

    /// <summary>The target could not be reached: no attempt used, tried again at <paramref name="next"/>.</summary>
    public async Task MarkDeferredAsync(string entity, IReadOnlyCollection<long> ids, string error, DateTime next)
    {
        if (ids.Count == 0)
        {
            return;
        }

        await RetryOnDeadlockAsync(async () =>
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            await connection.ExecuteAsync("""
                UPDATE sync_records SET last_error = @error, next_attempt_at = @next
                WHERE entity = @entity AND entity_id IN @ids AND status = 'pending'
                """, new { entity, ids, error, next });
        });
    }

    public async Task MarkMissingAsync(string entity, IReadOnlyCollection<long> ids)
    {
        if (ids.Count == 0)
        {
            return;
        }

        await RetryOnDeadlockAsync(async () =>
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            await using var tx = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync("""
                UPDATE sync_records SET status = 'failed', last_error = 'source row not found in DMH', next_attempt_at = NULL
                WHERE entity = @entity AND entity_id IN @ids AND status = 'pending'
                """, new { entity, ids }, tx);
            if (entity == SyncEntities.Order)
            {
                await MirrorAsync(connection, tx, ids);
            }

            await tx.CommitAsync();
        });
    }

    private const int MaxWriteAttempts = 5;

    // Syncer instances, the outbox sweeper and settlement write the same sync_records and orders rows
    // in different orders, so InnoDB may pick one of these steps as a deadlock victim. Each step is
    // one idempotent transaction: repeating it is safe, and the batch is not left half recorded.
    private async Task RetryOnDeadlockAsync(Func<Task> write)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await write();
                return;
            }
            catch (MySqlException ex) when (attempt < MaxWriteAttempts && ex.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 25) * attempt), time);
            }
        }
    }

    private static Task MirrorAsync(MySqlConnection connection, MySqlTransaction tx, IReadOnlyCollection<long> orderIds) =>
        connection.ExecuteAsync("""
            UPDATE orders o JOIN sync_records s ON s.entity = 'order' AND s.entity_id = o.id
            SET o.sync_status = s.status
            WHERE o.id IN @orderIds
            """, new { orderIds }, tx);
}
