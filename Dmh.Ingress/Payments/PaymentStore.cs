using Dapper;
using Dmh.Contracts;
using Dmh.Ingress.Audit;
using Dmh.Platform.Rewards;
using MySqlConnector;

namespace Dmh.Ingress.Payments;

/// <summary>The SQL of the payments feature (orders and campaigns are read, never written, except refunds).</summary>
public sealed class PaymentStore(MySqlDataSource dataSource, TimeProvider time)
{
    public sealed record OrderToPay(
        long Id, string Status, string PayStatus, decimal Amount, string CampaignName, string? PaymentSettings,
        string CampaignStatus, DateTime? StartTime, DateTime? EndTime);

    public sealed record Attempt(long PaymentId, long OrderId, string OutTradeNo, long AmountFen, string PayStatus, string? TradeNo);

    public sealed record RefundRow(long Id, long OrderId, string OutTradeNo, string OutRefundNo, string? RefundId, long AmountFen, long TotalFen, string Status);

    public async Task<OrderToPay?> FindOrderToPayAsync(long orderId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<OrderToPay>(new CommandDefinition("""
            SELECT o.id, o.status, o.pay_status AS PayStatus, o.amount, c.name AS CampaignName, CAST(c.payment_settings AS CHAR) AS PaymentSettings,
                   c.status AS CampaignStatus, c.start_time AS StartTime, c.end_time AS EndTime
            FROM orders o JOIN campaigns c ON c.id = o.campaign_id
            WHERE o.id = @orderId AND o.deleted_at IS NULL
            """, new { orderId }, cancellationToken: ct));
    }

    /// <summary>
    /// A new attempt numbered after the last one. Two concurrent calls may pick the same number: the
    /// unique key (order_id, attempt) refuses one, which then tries the next number.
    /// </summary>
    public async Task<(long PaymentId, string OutTradeNo)> InsertAttemptAsync(long orderId, string channel, long amountFen, string? openid, CancellationToken ct)
    {
        for (var tries = 0; ; tries++)
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            try
            {
                var attempt = 1 + await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                    "SELECT COALESCE(MAX(attempt), 0) FROM payments WHERE order_id = @orderId", new { orderId }, cancellationToken: ct));
                var outTradeNo = OutTradeNo(orderId, attempt);
                var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
                    INSERT INTO payments (order_id, attempt, out_trade_no, channel, amount_fen, status, openid)
                    VALUES (@orderId, @attempt, @outTradeNo, @channel, @amountFen, @status, @openid);
                    SELECT LAST_INSERT_ID();
                    """, new { orderId, attempt, outTradeNo, channel, amountFen, status = PaymentStatus.Created, openid }, cancellationToken: ct));
                return (id, outTradeNo);
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry && tries < 20)
            {
            }
        }
    }

    /// <summary><c>D{orderId}A{attempt}</c>, the order id padded to 4 digits because WeChat wants 6–32 characters.</summary>
    public static string OutTradeNo(long orderId, int attempt) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"D{orderId:D4}A{attempt}");

    public async Task MarkPrepaidAsync(long paymentId, string? prepayId, string? h5Url, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE payments SET status = @status, prepay_id = @prepayId, h5_url = @h5Url WHERE id = @paymentId AND status = @created",
            new { paymentId, prepayId, h5Url, status = PaymentStatus.Prepaid, created = PaymentStatus.Created }, cancellationToken: ct));
    }

    public async Task<Attempt?> FindAttemptAsync(string outTradeNo, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<Attempt>(new CommandDefinition("""
            SELECT p.id AS PaymentId, p.order_id AS OrderId, p.out_trade_no AS OutTradeNo, p.amount_fen AS AmountFen,
                   o.pay_status AS PayStatus, o.trade_no AS TradeNo
            FROM payments p JOIN orders o ON o.id = p.order_id
            WHERE p.out_trade_no = @outTradeNo
            """, new { outTradeNo }, cancellationToken: ct));
    }

    public async Task<Attempt?> FindLatestAttemptAsync(long orderId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<Attempt>(new CommandDefinition("""
            SELECT p.id AS PaymentId, p.order_id AS OrderId, p.out_trade_no AS OutTradeNo, p.amount_fen AS AmountFen,
                   o.pay_status AS PayStatus, o.trade_no AS TradeNo
            FROM payments p JOIN orders o ON o.id = p.order_id
            WHERE p.order_id = @orderId
            ORDER BY p.attempt DESC LIMIT 1
            """, new { orderId }, cancellationToken: ct));
    }

    /// <summary>The attempts of a paid order, the one WeChat's transaction_id names (orders.trade_no) first.</summary>
    public async Task<IReadOnlyList<Attempt>> FindAttemptsAsync(long orderId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<Attempt>(new CommandDefinition("""
            SELECT p.id AS PaymentId, p.order_id AS OrderId, p.out_trade_no AS OutTradeNo, p.amount_fen AS AmountFen,
                   o.pay_status AS PayStatus, o.trade_no AS TradeNo
            FROM payments p JOIN orders o ON o.id = p.order_id
            WHERE p.order_id = @orderId
            ORDER BY (p.transaction_id IS NOT NULL AND p.transaction_id = o.trade_no) DESC, p.status = @succeeded DESC, p.attempt DESC
            """, new { orderId, succeeded = PaymentStatus.Succeeded }, cancellationToken: ct))).ToList();
    }

    /// <summary>
    /// A new refund <c>R{orderId}-{n}</c> of <paramref name="amountFen"/> (null: all that is left), unless
    /// the sum of the order's refunds that did not fail would then exceed what was paid. A refund whose
    /// provider call never got an answer (still <c>created</c>) is returned instead of a new one, so a
    /// retry after a failure calls WeChat again with the same out_refund_no, as WeChat requires. The
    /// order row is locked so that two concurrent calls cannot both pass the check.
    /// </summary>
    public async Task<(RefundRow? Refund, long RefundableFen)> CreateRefundAsync(
        Attempt payment, long? amountFen, string? reason, long? adminId, CancellationToken ct, AuditEntry? audit = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("SELECT id FROM orders WHERE id = @OrderId FOR UPDATE", payment, tx, cancellationToken: ct));
        var pending = await connection.QuerySingleOrDefaultAsync<RefundRow>(new CommandDefinition(
            RefundSelect + " WHERE order_id = @OrderId AND status = 'created' ORDER BY id LIMIT 1", payment, tx, cancellationToken: ct));
        var (count, taken) = await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(
            "SELECT COUNT(*), CAST(COALESCE(SUM(IF(status = 'closed', 0, amount_fen)), 0) AS SIGNED) FROM refunds WHERE order_id = @OrderId",
            payment, tx, cancellationToken: ct));
        var refundable = payment.AmountFen - taken;
        if (pending is not null)
        {
            await tx.CommitAsync(ct);
            return (pending, refundable);
        }

        var amount = amountFen ?? refundable;
        if (amount < 1 || amount > refundable)
        {
            return (null, refundable);
        }

        var outRefundNo = $"R{payment.OrderId}-{count + 1}";
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO refunds (order_id, payment_id, out_trade_no, out_refund_no, amount_fen, total_fen, reason, requested_by)
            VALUES (@orderId, @paymentId, @outTradeNo, @outRefundNo, @refundFen, @totalFen, @reason, @adminId)
            """, new { orderId = payment.OrderId, paymentId = payment.PaymentId, outTradeNo = payment.OutTradeNo, outRefundNo, refundFen = amount, totalFen = payment.AmountFen, reason, adminId },
            tx, cancellationToken: ct));
        var row = await connection.QuerySingleAsync<RefundRow>(new CommandDefinition(
            RefundSelect + " WHERE out_refund_no = @outRefundNo", new { outRefundNo }, tx, cancellationToken: ct));
        await AuditLog.WriteAsync(connection, tx, audit is null ? null : audit with { Detail = new { outRefundNo, amountFen = amount, reason } }, ct);
        await tx.CommitAsync(ct);
        return (row, refundable - amount);
    }

    private const string RefundSelect = """
        SELECT id, order_id AS OrderId, out_trade_no AS OutTradeNo, out_refund_no AS OutRefundNo, refund_id AS RefundId,
               amount_fen AS AmountFen, total_fen AS TotalFen, status
        FROM refunds
        """;

    public async Task RecordRefundCallAsync(long refundId, string? wechatRefundId, string status, string? error, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // A notify may already have recorded the final state: never move back to processing.
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE refunds SET refund_id = COALESCE(@wechatRefundId, refund_id), last_error = @error,
                   status = CASE WHEN status IN (@success, @abnormal, @closed) THEN status ELSE @status END
            WHERE id = @refundId
            """, new { refundId, wechatRefundId, status, error, success = RefundStatus.Success, abnormal = RefundStatus.Abnormal, closed = RefundStatus.Closed },
            tx, cancellationToken: ct));
        if (status == RefundStatus.Success)
        {
            var orderId = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT order_id FROM refunds WHERE id = @refundId", new { refundId }, tx, cancellationToken: ct));
            await RefundRecorder.ApplySuccessAsync(connection, tx, refundId, orderId, time.GetUtcNow().UtcDateTime, ct);
        }

        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// Records a verified refund notify; false when no such refund is stored (WeChat should retry). A
    /// success reverses the order's rewards in proportion (issue 17) in the same transaction; a repeated
    /// notify reverses nothing more. Reconciliation records a refund query's answer the same way.
    /// </summary>
    public Task<bool> RecordRefundNotifyAsync(string outRefundNo, string? refundId, string status, DateTimeOffset? successTime, DateTimeOffset now, CancellationToken ct) =>
        RefundRecorder.RecordAsync(dataSource, time, outRefundNo, refundId, status, successTime, now, ct);
}
