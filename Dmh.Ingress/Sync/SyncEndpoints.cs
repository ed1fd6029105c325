using Dapper;
using Dmh.Contracts;
using Dmh.Ingress.Audit;
using Dmh.Ingress.Http;
using Dmh.Ingress.Security;
using Dmh.Platform.Redis;
using Dmh.Platform.Streams;
using Microsoft.AspNetCore.Http.HttpResults;
using MySqlConnector;
using StackExchange.Redis;

namespace Dmh.Ingress.Sync;

/// <summary>Sync status and retry for admins (docs/API.md, "Orders, rewards, sync, stats").</summary>
public static class SyncEndpoints
{
    public sealed record SyncEntry(string Entity, long EntityId, string Status, int Attempts, string? LastError, DateTimeOffset? SyncedAt, DateTimeOffset UpdatedAt);

    public sealed record SyncStatusResponse(long OrderId, IReadOnlyList<SyncEntry> Entries);

    public sealed record SyncCounts(long Pending, long Synced, long Failed);

    public sealed record TargetState(string? Type, bool? Healthy, string? Error, DateTimeOffset? CheckedAt);

    public sealed record SyncSummary(SyncCounts Counts, double? SuccessRate, long? OldestPendingAgeSeconds, string? LastError, TargetState Target);

    public sealed record FailedRow(long OrderId, string Entity, long EntityId, int Attempts, string? LastError, DateTimeOffset UpdatedAt);

    public sealed record FailedPage(IReadOnlyList<FailedRow> Items, long Total, int Page, int PageSize);

    public sealed record RequeueResult(int Requeued);

    public static IEndpointRouteBuilder MapSyncEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/sync").WithTags("Sync").RequireAuthorization(Policies.AdminRead);
        group.MapGet("/status/{orderId:long}", GetStatusAsync);
        group.MapGet("/summary", GetSummaryAsync);
        group.MapGet("/failed", GetFailedAsync);
        group.MapPost("/retry/{orderId:long}", RetryOrderAsync).RequireAuthorization(Policies.AdminWrite);
        group.MapPost("/retry-failed", RetryFailedAsync).RequireAuthorization(Policies.AdminWrite);
        return app;
    }

    private sealed record EntryRow(string Entity, long EntityId, string Status, int Attempts, string? LastError, DateTime? SyncedAt, DateTime UpdatedAt);

    private static async Task<Results<Ok<SyncStatusResponse>, ProblemHttpResult>> GetStatusAsync(long orderId, MySqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        if (await connection.ExecuteScalarAsync<long?>("SELECT id FROM orders WHERE id = @orderId", new { orderId }) is null)
        {
            return Problems.NotFound($"Order {orderId}");
        }

        var rows = await connection.QueryAsync<EntryRow>("""
            SELECT entity AS Entity, entity_id AS EntityId, status AS Status, attempts AS Attempts, last_error AS LastError,
                   synced_at AS SyncedAt, updated_at AS UpdatedAt
            FROM sync_records WHERE order_id = @orderId ORDER BY entity, entity_id
            """, new { orderId });
        return TypedResults.Ok(new SyncStatusResponse(orderId, rows.Select(r => new SyncEntry(
            r.Entity, r.EntityId, r.Status, r.Attempts, r.LastError, Utc(r.SyncedAt), Utc(r.UpdatedAt)!.Value)).ToList()));
    }

    private static async Task<Ok<SyncSummary>> GetSummaryAsync(MySqlDataSource db, IConnectionMultiplexer redis, RedisKeys keys, TimeProvider time)
    {
        await using var connection = await db.OpenConnectionAsync();
        // Kept by triggers on sync_records (V0830): counting the rows grew with every payment ever synced.
        var counts = (await connection.QueryAsync<(string Status, long Count)>(
            "SELECT status, CAST(SUM(n) AS SIGNED) FROM sync_status_counts GROUP BY status")).ToDictionary(r => r.Status, r => r.Count);
        var oldest = await connection.ExecuteScalarAsync<DateTime?>("SELECT MIN(committed_at) FROM sync_records WHERE status = 'pending'");
        // Only pending (retrying) and failed rows carry an error (a synced row's is cleared), and naming
        // them lets the (status, updated_at) index answer: without it this scanned every row ever
        // synced (2.9 s at 3.3 million rows).
        var lastError = await connection.ExecuteScalarAsync<string?>(
            "SELECT last_error FROM sync_records WHERE status IN ('pending', 'failed') AND last_error IS NOT NULL ORDER BY updated_at DESC LIMIT 1");
        var synced = counts.GetValueOrDefault(SyncStatus.Synced);
        var failed = counts.GetValueOrDefault(SyncStatus.Failed);
        var now = time.GetUtcNow();
        var health = await redis.GetDatabase().HashGetAllAsync(keys.For(SyncTargetHealth.Key));
        var fields = health.ToDictionary(h => (string)h.Name!, h => (string?)h.Value);
        var target = new TargetState(
            fields.GetValueOrDefault(SyncTargetHealth.Fields.Type),
            fields.TryGetValue(SyncTargetHealth.Fields.Healthy, out var healthy) ? healthy == "1" : null,
            string.IsNullOrEmpty(fields.GetValueOrDefault(SyncTargetHealth.Fields.Error)) ? null : fields[SyncTargetHealth.Fields.Error],
            DateTimeOffset.TryParse(fields.GetValueOrDefault(SyncTargetHealth.Fields.CheckedAt), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var at) ? at : null);
        return TypedResults.Ok(new SyncSummary(
            new SyncCounts(counts.GetValueOrDefault(SyncStatus.Pending), synced, failed),
            synced + failed == 0 ? null : Math.Round((double)synced / (synced + failed), 4),
            oldest is null ? null : (long)Math.Max(0, (now - Utc(oldest)!.Value).TotalSeconds),
            lastError,
            target));
    }

    private static async Task<Results<Ok<FailedPage>, ProblemHttpResult>> GetFailedAsync(MySqlDataSource db, int? page, int? pageSize)
    {
        var p = page ?? 1;
        var size = pageSize ?? 20;
        if (p < 1 || size < 1 || size > 200)
        {
            return Problems.InvalidPaging("page ≥ 1 and 1 ≤ pageSize ≤ 200.");
        }

        await using var connection = await db.OpenConnectionAsync();
        var total = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM sync_records WHERE status = 'failed'");
        var rows = await connection.QueryAsync<(long OrderId, string Entity, long EntityId, int Attempts, string? LastError, DateTime UpdatedAt)>("""
            SELECT order_id, entity, entity_id, attempts, last_error, updated_at FROM sync_records
            WHERE status = 'failed' ORDER BY updated_at DESC, id DESC LIMIT @size OFFSET @offset
            """, new { size, offset = (long)(p - 1) * size });
        return TypedResults.Ok(new FailedPage(
            rows.Select(r => new FailedRow(r.OrderId, r.Entity, r.EntityId, r.Attempts, r.LastError, Utc(r.UpdatedAt)!.Value)).ToList(), total, p, size));
    }

    private static async Task<Results<Accepted<RequeueResult>, ProblemHttpResult>> RetryOrderAsync(
        long orderId, HttpContext http, MySqlDataSource db, StreamPublisher publisher, TimeProvider time)
    {
        await using var connection = await db.OpenConnectionAsync();
        if (await connection.ExecuteScalarAsync<long?>("SELECT id FROM orders WHERE id = @orderId", new { orderId }) is null)
        {
            return Problems.NotFound($"Order {orderId}");
        }

        var requeued = await RequeueAsync(connection, publisher, time, "order_id = @orderId AND status IN ('failed', 'pending')", new { orderId },
            AuditEntry.Of(http, AuditActions.SyncRetry, "order", orderId));
        return TypedResults.Accepted($"/api/v1/sync/status/{orderId}", new RequeueResult(requeued));
    }

    private static async Task<Accepted<RequeueResult>> RetryFailedAsync(HttpContext http, MySqlDataSource db, StreamPublisher publisher, TimeProvider time)
    {
        await using var connection = await db.OpenConnectionAsync();
        var total = 0;
        int requeued;
        // In slices, so one click on a large backlog does not hold one huge transaction.
        do
        {
            requeued = await RequeueAsync(connection, publisher, time, "status = 'failed' ORDER BY id LIMIT 1000", new { },
                AuditEntry.Of(http, AuditActions.SyncRetry, "sync", "failed"));
            total += requeued;
        }
        while (requeued == 1000 && total < 1_000_000);

        return TypedResults.Accepted("/api/v1/sync/summary", new RequeueResult(total));
    }

    /// <summary>Resets the chosen rows to pending with fresh attempts, mirrors orders.sync_status, then publishes.</summary>
    /// <remarks>Each slice that requeues rows writes its audit line (with the count) in its own transaction.</remarks>
    private static async Task<int> RequeueAsync(MySqlConnection connection, StreamPublisher publisher, TimeProvider time, string where, object args, AuditEntry audit)
    {
        var now = time.GetUtcNow().UtcDateTime;
        List<(string Entity, long EntityId, long OrderId)> rows;
        await using (var tx = await connection.BeginTransactionAsync())
        {
            rows = (await connection.QueryAsync<(string, long, long)>(
                $"SELECT entity, entity_id, order_id FROM sync_records WHERE {where} FOR UPDATE", args, tx)).ToList();
            if (rows.Count == 0)
            {
                return 0;
            }

            foreach (var group in rows.GroupBy(r => r.Entity))
            {
                await connection.ExecuteAsync("""
                    UPDATE sync_records SET status = 'pending', attempts = 0, next_attempt_at = NULL, published_at = @now
                    WHERE entity = @entity AND entity_id IN @ids AND status IN ('failed', 'pending')
                    """, new { now, entity = group.Key, ids = group.Select(g => g.EntityId).ToList() }, tx);
            }

            var orderIds = rows.Where(r => r.Entity == SyncEntities.Order).Select(r => r.EntityId).ToList();
            if (orderIds.Count > 0)
            {
                await connection.ExecuteAsync("UPDATE orders SET sync_status = 'pending' WHERE id IN @orderIds", new { orderIds }, tx);
            }

            await AuditLog.WriteAsync(connection, tx, audit with { Detail = new { requeued = rows.Count } }, CancellationToken.None);
            await tx.CommitAsync();
        }

        // After the commit: if this publish is lost, the syncer's sweeper re-publishes the pending rows.
        foreach (var (entity, id, _) in rows)
        {
            var request = new SyncRequested(entity, id);
            await publisher.PublishAsync(StreamNames.Sync, MessageTypes.SyncRequested, request.Key, request);
        }

        return rows.Count;
    }

    private static DateTimeOffset? Utc(DateTime? value) =>
        value is null ? null : new DateTimeOffset(DateTime.SpecifyKind(value.Value, DateTimeKind.Utc));
}
