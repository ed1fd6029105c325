using System.Globalization;
using Dapper;
using Dmh.Contracts;
using MySqlConnector;

namespace Dmh.Platform.Rewards;

/// <summary>
/// Records WeChat's final word on a refund, whoever learnt it: Ingress from the verified notify,
/// Settlement's reconciliation from a refund query. A success reverses the order's rewards in
/// proportion (issue 17) in the same transaction; a repeat reverses nothing more.
/// </summary>
public static class RefundRecorder
{
    /// <summary>
    /// Records the refund's status; false when no such refund is stored. A final status never changes
    /// again. The order is <c>refunded</c> once its successful refunds cover what was paid.
    /// </summary>
    public static async Task<bool> RecordAsync(
        MySqlDataSource dataSource, TimeProvider time, string outRefundNo, string? refundId, string status, DateTimeOffset? successTime, DateTimeOffset now, CancellationToken ct)
    {
        // The reversal locks the order and its referrers' balances, which concurrent settlements also lock: a deadlock is retried whole
        // (1467, "Failed to read auto-increment value": InnoDB's answer when the wait for a table's AUTO-INC lock ended in a deadlock).
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await RecordOnceAsync(dataSource, outRefundNo, refundId, status, successTime, now, ct);
            }
            catch (MySqlException ex) when ((ex.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout || ex.Number == 1467) && attempt < 5)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 20) * attempt), time, ct);
            }
        }
    }

    private static async Task<bool> RecordOnceAsync(
        MySqlDataSource dataSource, string outRefundNo, string? refundId, string status, DateTimeOffset? successTime, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct);
        var refund = await connection.QuerySingleOrDefaultAsync<RefundState>(new CommandDefinition(
            "SELECT id AS Id, order_id AS OrderId, status AS Status FROM refunds WHERE out_refund_no = @outRefundNo FOR UPDATE", new { outRefundNo }, tx, cancellationToken: ct));
        if (refund is not { } found)
        {
            return false;
        }

        // A final status never changes again (WeChat may repeat a notify); a repeated success reverses nothing more.
        if (!RefundStatus.IsFinal(found.Status))
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE refunds SET status = @status, refund_id = COALESCE(@refundId, refund_id), success_time = @successTime,
                       notified_at = @now, last_error = NULL
                WHERE id = @Id
                """, new { found.Id, refundId, status, successTime = successTime?.UtcDateTime, now = now.UtcDateTime }, tx, cancellationToken: ct));
        }

        if ((RefundStatus.IsFinal(found.Status) ? found.Status : status) == RefundStatus.Success)
        {
            await ApplySuccessAsync(connection, tx, found.Id, found.OrderId, now.UtcDateTime, ct);
        }

        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>
    /// After a refund succeeded: the order's rewards reversed in proportion (cumulative, so a repeat
    /// reverses nothing more), and the order <c>refunded</c> once its successful refunds cover what was paid.
    /// </summary>
    public static async Task ApplySuccessAsync(MySqlConnection connection, MySqlTransaction tx, long refundId, long orderId, DateTime now, CancellationToken ct)
    {
        await RewardLedger.ReverseOrderAsync(connection, tx, orderId, refundId.ToString(CultureInfo.InvariantCulture), refundId, now, ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE orders o SET o.status = @refunded, o.pay_status = @payRefunded
            WHERE o.id = @orderId AND o.pay_status = @paid
              AND (SELECT COALESCE(SUM(f.amount_fen), 0) FROM refunds f WHERE f.order_id = o.id AND f.status = 'success') >= o.amount * 100
            """, new { orderId, refunded = OrderStatus.Refunded, payRefunded = PayStatus.Refunded, paid = PayStatus.Paid }, tx, cancellationToken: ct));
    }

    private sealed record RefundState(long Id, long OrderId, string Status);
}
