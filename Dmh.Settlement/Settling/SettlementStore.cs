using System.Security.Cryptography;
using Dapper;
using Dmh.Contracts;
using Dmh.Platform;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Settlement.Settling;

/// <summary>What one settlement did.</summary>
public enum SettleOutcome
{
    /// <summary>The order was paid by this call: committed with its reward and outbox rows.</summary>
    Settled,

    /// <summary>The order was paid already (a repeated delivery or confirmation): nothing changed.</summary>
    Duplicate,
}

/// <summary>The result of one settlement; <see cref="Outbox"/> lists the sync rows to publish.</summary>
public sealed record SettleResult(SettleOutcome Outcome, long OrderId, long? RewardId, IReadOnlyList<SyncRequested> Outbox);

/// <summary>A payment that cannot be settled as it is (unknown attempt, wrong amount): retried, then dead-lettered.</summary>
public sealed class SettlementRejectedException(string message) : Exception(message);

/// <summary>
/// A confirmation for an attempt that never got prepay parameters, so nobody could have paid it: a
/// forged or corrupt entry (issue 15, M5). Dead-lettered at once, never settled.
/// </summary>
public sealed class AttemptNeverPrepaidException(string message) : Exception(message);

/// <summary>
/// One MySQL transaction per payment: order paid (conditional on still unpaid), payment attempt
/// succeeded, reward (unique per order and beneficiary), balance (optimistic <c>version</c>) and the
/// sync outbox rows. READ COMMITTED so that a retry after a version conflict reads the committed
/// balance: under REPEATABLE READ a plain SELECT would keep returning the old snapshot and spin.
/// </summary>
public sealed class SettlementStore(
    IOptions<SettlementOptions> options,
    TimeProvider time,
    ILogger<SettlementStore> logger)
{
    private const string CodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    private const int CodeLength = 10;
    private const int ErDupEntry = 1062;
    private const int ErSignalException = 1644;
    private readonly SettlementOptions _options = options.Value;

    /// <summary>
    /// Settles one payment on an open connection that the caller reuses for the next payments (a
    /// pooled open costs a reset round trip). If this throws, the caller discards the connection.
    /// </summary>
    public async Task<SettleResult> SettleAsync(MySqlConnection connection, PaymentSucceeded payment, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await SettleOnceAsync(connection, payment, ct);
            }
            catch (MySqlException ex) when (IsTransient(ex) && attempt < _options.MaxTransactionRetries)
            {
                logger.LogInformation("Settlement of {OutTradeNo} hit {Error}; retrying the transaction", payment.OutTradeNo, ex.ErrorCode);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 20) * (attempt + 1)), time, ct);
            }
        }
    }

    private static bool IsTransient(MySqlException ex) =>
        ex.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout;

    /// <summary>
    /// One transaction, begun and ended in SQL rather than through <see cref="MySqlTransaction"/> so that
    /// BEGIN travels with the first statement and COMMIT with the last: round trips are what a settlement
    /// costs at 500 payments/s (each one wakes a thread on both sides, and on this kind of virtual machine
    /// the wake-ups cost as much CPU as the statements), and this takes two: begin, mark paid and read;
    /// reward, outbox, balance and commit. A version conflict stops the second before its COMMIT (see
    /// <see cref="RewardBalanceOutboxSql"/>); the retry then adds two round trips and the commit one.
    /// Any failure rolls back before it is rethrown, so the connection is never left inside a transaction.
    /// </summary>
    private async Task<SettleResult> SettleOnceAsync(MySqlConnection connection, PaymentSucceeded payment, CancellationToken ct)
    {
        try
        {
            return await SettleInTransactionAsync(connection, payment, ct);
        }
        catch
        {
            await RollbackAsync(connection);
            throw;
        }
    }

    private static async Task RollbackAsync(MySqlConnection connection)
    {
        try
        {
            await connection.ExecuteAsync("ROLLBACK");
        }
        catch (Exception ex) when (ex is MySqlException or InvalidOperationException or IOException)
        {
            // The connection is broken: the server rolls back as the session ends, and the caller replaces it.
        }
    }

    private async Task<SettleResult> SettleInTransactionAsync(MySqlConnection connection, PaymentSucceeded payment, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var args = new DynamicParameters(new
        {
            payment.OutTradeNo,
            payment.TotalFen,
            payment.TransactionId,
            payment.PayerTotalFen,
            SuccessTime = payment.SuccessTime.UtcDateTime,
            ReceivedAt = payment.ReceivedAt.UtcDateTime,
            Now = now,
        });
        var row = await MarkPaidAsync(connection, args, ct);
        if (row is null)
        {
            throw new SettlementRejectedException($"No payment attempt (or order) for out_trade_no {payment.OutTradeNo}.");
        }

        if (row.AttemptStatus == PaymentStatus.Created)
        {
            // The guarded UPDATE changed nothing (it requires an attempt that was prepaid).
            throw new AttemptNeverPrepaidException(
                $"Payment attempt {payment.OutTradeNo} (order {row.OrderId}) was never prepaid, so it cannot have been paid: not settled.");
        }

        if (row.AmountFen != payment.TotalFen)
        {
            // The guarded UPDATE changed nothing (it requires the amounts to agree).
            throw new SettlementRejectedException(
                $"Amount of {payment.OutTradeNo} disagrees: attempt {row.AmountFen} fen, confirmation {payment.TotalFen} fen.");
        }

        args.AddDynamicParams(new { row.PaymentId, row.OrderId, row.CampaignId });
        if (row.Changed == 0)
        {
            var paymentUpdated = await connection.ExecuteAsync(new CommandDefinition(PaymentSucceededSql + CommitSql, args, cancellationToken: ct));
            if (paymentUpdated > 0 && row.TradeNo is not null && row.TradeNo != payment.TransactionId)
            {
                // Two attempts of one order were both paid: WeChat holds the money twice; an operator refunds one.
                SettlementMetrics.DoublePayments.Inc();
                logger.LogWarning("Order {OrderId} was paid again by {OutTradeNo} ({TransactionId}); it was already paid by {TradeNo}",
                    row.OrderId, payment.OutTradeNo, payment.TransactionId, row.TradeNo);
            }

            return new SettleResult(SettleOutcome.Duplicate, row.OrderId, null, []);
        }

        var amountFen = 0L;
        var beneficiary = RewardRules.Beneficiary(row.ReferrerId, row.ParticipantId);
        if (beneficiary is not null)
        {
            if (row.RewardType is null)
            {
                throw new SettlementRejectedException($"Campaign {row.CampaignId} of order {row.OrderId} does not exist.");
            }

            amountFen = RewardRules.AmountFen(row.RewardType, row.RewardRule ?? 0m, row.RewardBps ?? 0, payment.TotalFen);
        }

        if (beneficiary is not { } userId || amountFen <= 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(OrderOutboxSql + CommitSql, args, cancellationToken: ct));
            return new SettleResult(SettleOutcome.Settled, row.OrderId, null, [new SyncRequested(SyncEntities.Order, row.OrderId)]);
        }

        // A missing balance row is created at version 0; if another settlement creates it first, the
        // version check below sees a conflict like any other.
        args.AddDynamicParams(new { UserId = userId, Amount = Money.FenToYuan(amountFen), Version = row.BalanceVersion ?? 0 });
        var sql = (row.BalanceVersion is null ? CreateBalanceSql : "") + RewardBalanceOutboxSql;
        long rewardId;
        try
        {
            rewardId = await connection.QuerySingleAsync<long>(new CommandDefinition(sql, args, cancellationToken: ct));
        }
        catch (MySqlException ex) when (ex.Number == ErSignalException && ex.Message == BalanceVersionChanged)
        {
            // Everything before the balance UPDATE stands and the transaction is still open.
            rewardId = await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT CAST(@dmh_reward_id AS SIGNED)", cancellationToken: ct));
            await RetryBalanceAsync(connection, args, ct);
            await CommitAsync(connection, ct);
        }

        if (rewardId == 0)
        {
            // The order was unpaid yet already rewarded: only possible after a manual data repair; the existing reward stays.
            return new SettleResult(SettleOutcome.Settled, row.OrderId, null, [new SyncRequested(SyncEntities.Order, row.OrderId)]);
        }

        return new SettleResult(SettleOutcome.Settled, row.OrderId, rewardId,
            [new SyncRequested(SyncEntities.Order, row.OrderId), new SyncRequested(SyncEntities.Reward, rewardId)]);
    }

    private static Task CommitAsync(MySqlConnection connection, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition("COMMIT", cancellationToken: ct));

    /// <summary>
    /// The guard of the whole settlement: only the delivery that flips the order from unpaid (and
    /// whose amount agrees, for an attempt that was prepaid) marks the order and its attempt paid. One round trip with the read of the
    /// attempt, its order, the campaign's rule and the referrer's balance version.
    /// </summary>
    private static async Task<AttemptRow?> MarkPaidAsync(MySqlConnection connection, DynamicParameters args, CancellationToken ct)
    {
        for (var i = 0; ; i++)
        {
            args.Add("Code", NewRegistrationCode());
            try
            {
                return await connection.QuerySingleOrDefaultAsync<AttemptRow>(new CommandDefinition(BeginSql + MarkPaidSql, args, cancellationToken: ct));
            }
            catch (MySqlException ex) when (ex.Number == ErDupEntry && ex.Message.Contains("registration_code", StringComparison.Ordinal) && i < 5)
            {
                // 50 random bits: a collision is rare. Nothing is written yet: end the transaction and draw again.
                await connection.ExecuteAsync(new CommandDefinition("ROLLBACK", cancellationToken: ct));
            }
            catch (MySqlException ex) when (ex.Number == ErDupEntry)
            {
                throw new SettlementRejectedException($"Payment {args.Get<string>("OutTradeNo")} cannot mark its order paid: {ex.Message}");
            }
        }
    }

    // For this transaction only (see the class comment for why READ COMMITTED).
    private const string BeginSql = """
        SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
        START TRANSACTION;

        """;

    private const string CommitSql = ";\nCOMMIT";

    // Both rows in one statement, so both are locked exclusively from the start (no shared lock to upgrade).
    private const string MarkPaidSql = """
        UPDATE payments p JOIN orders o ON o.id = p.order_id
        SET o.pay_status = 'paid', o.status = 'paid', o.trade_no = @TransactionId, o.paid_at = @SuccessTime,
            o.registration_code = @Code, o.sync_status = 'pending', o.updated_at = @Now,
            p.status = 'succeeded', p.transaction_id = @TransactionId, p.payer_total_fen = @PayerTotalFen,
            p.success_time = @SuccessTime, p.received_at = @ReceivedAt
        WHERE p.out_trade_no = @OutTradeNo AND p.amount_fen = @TotalFen AND p.status <> 'created' AND o.pay_status = 'unpaid';
        SELECT ROW_COUNT() AS Changed, p.id AS PaymentId, p.order_id AS OrderId, p.amount_fen AS AmountFen,
               o.campaign_id AS CampaignId, o.participant_id AS ParticipantId, o.referrer_id AS ReferrerId,
               o.trade_no AS TradeNo, c.reward_type AS RewardType, c.reward_rule AS RewardRule, c.reward_bps AS RewardBps,
               b.version AS BalanceVersion, p.status AS AttemptStatus
        FROM payments p JOIN orders o ON o.id = p.order_id
        LEFT JOIN campaigns c ON c.id = o.campaign_id
        LEFT JOIN user_balances b ON b.user_id = o.referrer_id
        WHERE p.out_trade_no = @OutTradeNo
        """;

    /// <summary>A repeated payment of an already paid order: its attempt is still recorded as succeeded.</summary>
    private const string PaymentSucceededSql = """
        UPDATE payments
        SET status = 'succeeded', transaction_id = @TransactionId, payer_total_fen = @PayerTotalFen,
            success_time = @SuccessTime, received_at = @ReceivedAt
        WHERE id = @PaymentId AND status <> 'succeeded'
        """;

    private const string OrderOutboxRowSql = """
        INSERT INTO sync_records (entity, entity_id, order_id, status, committed_at)
        SELECT 'order', @OrderId, @OrderId, 'pending', @Now
        """;

    private const string OutboxUpsert = """

        ON DUPLICATE KEY UPDATE status = 'pending', committed_at = @Now, published_at = NULL, next_attempt_at = NULL
        """;

    private const string OrderOutboxSql = OrderOutboxRowSql + OutboxUpsert;

    private const string AddToBalanceSql = """
        UPDATE user_balances
        SET balance = balance + @Amount, total_reward = total_reward + @Amount, version = version + 1
        WHERE user_id = @UserId AND version = @Version
        """;

    private const string CreateBalanceSql = """
        INSERT INTO user_balances (user_id) VALUES (@UserId) ON DUPLICATE KEY UPDATE user_id = user_id;

        """;

    private const string BalanceVersionChanged = "dmh: balance version changed";

    /// <summary>
    /// The reward (its id only when this statement inserted it), the outbox rows, the balance under the
    /// optimistic lock (only with a new reward) and the COMMIT, in one round trip. When the version
    /// read before has changed, the UPDATE changes nothing and <c>dmh_stop_if</c> (a procedure, see
    /// migration V0500) ends the round trip with an error before COMMIT, leaving the transaction open
    /// for the retry. The SELECT comes after COMMIT so that its answer also says the commit succeeded.
    /// </summary>
    private const string RewardBalanceOutboxSql = """
        INSERT IGNORE INTO rewards (user_id, order_id, campaign_id, amount, status, settled_at, created_at)
        VALUES (@UserId, @OrderId, @CampaignId, @Amount, 'settled', @Now, @Now);
        SET @dmh_reward_id = IF(ROW_COUNT() = 1, LAST_INSERT_ID(), 0);

        """ + OrderOutboxRowSql + """

        UNION ALL SELECT 'reward', @dmh_reward_id, @OrderId, 'pending', @Now FROM DUAL WHERE @dmh_reward_id > 0
        """ + OutboxUpsert + """
        ;

        """ + AddToBalanceSql + """
         AND @dmh_reward_id > 0;

        """ + StopOnVersionConflictSql + """

        COMMIT;
        SELECT CAST(@dmh_reward_id AS SIGNED);
        """;

    private const string StopOnVersionConflictSql = $$"""
        SET @dmh_balance_updated = ROW_COUNT();
        CALL dmh_stop_if(@dmh_reward_id > 0 AND @dmh_balance_updated <> 1, '{{BalanceVersionChanged}}');
        """;

    /// <summary>The optimistic lock on <c>user_balances.version</c> after a conflict: read the committed version, try again.</summary>
    private async Task RetryBalanceAsync(MySqlConnection connection, DynamicParameters args, CancellationToken ct)
    {
        const string ReadVersion = "SELECT version FROM user_balances WHERE user_id = @UserId";
        const string Update = AddToBalanceSql + ";\nSELECT ROW_COUNT()";
        for (var attempt = 1; ; attempt++)
        {
            SettlementMetrics.LockConflicts.Inc();
            if (attempt >= _options.MaxLockRetries)
            {
                throw new InvalidOperationException($"Balance kept changing: {_options.MaxLockRetries} optimistic-lock conflicts.");
            }

            // READ COMMITTED: this plain read sees the version the conflicting transaction committed
            // (under REPEATABLE READ it would return the old snapshot and the loop would spin).
            args.Add("Version", await connection.ExecuteScalarAsync<long>(new CommandDefinition(ReadVersion, args, cancellationToken: ct)));
            if (await connection.ExecuteScalarAsync<long>(new CommandDefinition(Update, args, cancellationToken: ct)) == 1)
            {
                return;
            }
        }
    }

    private static string NewRegistrationCode() => RandomNumberGenerator.GetString(CodeAlphabet, CodeLength);

    /// <param name="Changed">Rows the guarded UPDATE just before changed: 0 unless this delivery marked the order paid.</param>
    private sealed record AttemptRow(long Changed, long PaymentId, long OrderId, long AmountFen, long CampaignId, long ParticipantId, long ReferrerId,
        string? TradeNo, string? RewardType, decimal? RewardRule, int? RewardBps, long? BalanceVersion, string AttemptStatus);
}
