using System.Data;
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
/// One MySQL transaction per payment: order paid (conditional on still unpaid), payment attempt
/// succeeded, reward (unique per order and beneficiary), balance (optimistic <c>version</c>) and the
/// sync outbox rows. READ COMMITTED so that a retry after a version conflict reads the committed
/// balance: under REPEATABLE READ a plain SELECT would keep returning the old snapshot and spin.
/// </summary>
public sealed class SettlementStore(
    MySqlDataSource dataSource,
    IOptions<SettlementOptions> options,
    TimeProvider time,
    ILogger<SettlementStore> logger)
{
    private const string CodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    private const int CodeLength = 10;
    private const int ErDupEntry = 1062;
    private readonly SettlementOptions _options = options.Value;

    public async Task<SettleResult> SettleAsync(PaymentSucceeded payment, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await SettleOnceAsync(payment, ct);
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

    private async Task<SettleResult> SettleOnceAsync(PaymentSucceeded payment, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        var row = await connection.QuerySingleOrDefaultAsync<AttemptRow>(new CommandDefinition("""
            SELECT p.id AS PaymentId, p.order_id AS OrderId, p.amount_fen AS AmountFen,
                   o.campaign_id AS CampaignId, o.participant_id AS ParticipantId, o.referrer_id AS ReferrerId,
                   o.trade_no AS TradeNo, c.reward_type AS RewardType, c.reward_rule AS RewardRule, c.reward_bps AS RewardBps
            FROM payments p JOIN orders o ON o.id = p.order_id LEFT JOIN campaigns c ON c.id = o.campaign_id
            WHERE p.out_trade_no = @OutTradeNo
            """, new { payment.OutTradeNo }, tx, cancellationToken: ct))
            ?? throw new SettlementRejectedException($"No payment attempt (or order) for out_trade_no {payment.OutTradeNo}.");

        if (row.AmountFen != payment.TotalFen)
        {
            throw new SettlementRejectedException(
                $"Amount of {payment.OutTradeNo} disagrees: attempt {row.AmountFen} fen, confirmation {payment.TotalFen} fen.");
        }

        var now = time.GetUtcNow().UtcDateTime;
        var paymentArgs = new DynamicParameters(new
        {
            payment.TransactionId,
            payment.PayerTotalFen,
            SuccessTime = payment.SuccessTime.UtcDateTime,
            ReceivedAt = payment.ReceivedAt.UtcDateTime,
            row.PaymentId,
            row.OrderId,
            row.CampaignId,
            Now = now,
        });
        if (!await MarkOrderPaidAsync(connection, tx, row.OrderId, payment, now, ct))
        {
            var paymentUpdated = await connection.ExecuteAsync(new CommandDefinition(PaymentSucceededSql, paymentArgs, tx, cancellationToken: ct));
            if (paymentUpdated > 0 && row.TradeNo is not null && row.TradeNo != payment.TransactionId)
            {
                // Two attempts of one order were both paid: WeChat holds the money twice; an operator refunds one.
                SettlementMetrics.DoublePayments.Inc();
                logger.LogWarning("Order {OrderId} was paid again by {OutTradeNo} ({TransactionId}); it was already paid by {TradeNo}",
                    row.OrderId, payment.OutTradeNo, payment.TransactionId, row.TradeNo);
            }

            await tx.CommitAsync(ct);
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
            await connection.ExecuteAsync(new CommandDefinition(PaymentSucceededSql + ";\n" + OutboxSql(withReward: false), paymentArgs, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
            return new SettleResult(SettleOutcome.Settled, row.OrderId, null, [new SyncRequested(SyncEntities.Order, row.OrderId)]);
        }

        var amount = Money.FenToYuan(amountFen);
        paymentArgs.AddDynamicParams(new { UserId = userId, Amount = amount });
        // Round trips matter at 500 payments/s: the payment row, the reward (its id only when this
        // statement inserted it), the balance row created race-safely and its version, in one batch.
        long rewardId;
        long version;
        await using (var grid = await connection.QueryMultipleAsync(new CommandDefinition(PaymentSucceededSql + """
            ;
            INSERT IGNORE INTO rewards (user_id, order_id, campaign_id, amount, status, settled_at, created_at)
            VALUES (@UserId, @OrderId, @CampaignId, @Amount, 'settled', @Now, @Now);
            SELECT IF(ROW_COUNT() = 1, LAST_INSERT_ID(), 0);
            INSERT INTO user_balances (user_id) VALUES (@UserId) ON DUPLICATE KEY UPDATE user_id = user_id;
            SELECT version FROM user_balances WHERE user_id = @UserId;
            """, paymentArgs, tx, cancellationToken: ct)))
        {
            rewardId = await grid.ReadSingleAsync<long>();
            version = await grid.ReadSingleAsync<long>();
        }

        if (rewardId == 0)
        {
            // The order was unpaid yet already rewarded: only possible after a manual data repair; keep the existing reward.
            await connection.ExecuteAsync(new CommandDefinition(OutboxSql(withReward: false), paymentArgs, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
            return new SettleResult(SettleOutcome.Settled, row.OrderId, null, [new SyncRequested(SyncEntities.Order, row.OrderId)]);
        }

        paymentArgs.AddDynamicParams(new { RewardId = rewardId });
        await AddToBalanceAsync(connection, tx, paymentArgs, version, ct);
        await tx.CommitAsync(ct);
        return new SettleResult(SettleOutcome.Settled, row.OrderId, rewardId,
            [new SyncRequested(SyncEntities.Order, row.OrderId), new SyncRequested(SyncEntities.Reward, rewardId)]);
    }

    private const string PaymentSucceededSql = """
        UPDATE payments
        SET status = 'succeeded', transaction_id = @TransactionId, payer_total_fen = @PayerTotalFen,
            success_time = @SuccessTime, received_at = @ReceivedAt
        WHERE id = @PaymentId AND status <> 'succeeded'
        """;

    private static string OutboxSql(bool withReward) => """
        INSERT INTO sync_records (entity, entity_id, order_id, status, committed_at)
        VALUES ('order', @OrderId, @OrderId, 'pending', @Now)
        """ + (withReward ? ", ('reward', @RewardId, @OrderId, 'pending', @Now)" : "") + """

        ON DUPLICATE KEY UPDATE status = 'pending', committed_at = @Now, published_at = NULL, next_attempt_at = NULL
        """;

    /// <summary>
    /// The optimistic lock on <c>user_balances.version</c>, with the outbox rows written in the same
    /// round trip as the first try (they are idempotent, so a retry does not repeat them).
    /// </summary>
    private async Task AddToBalanceAsync(MySqlConnection connection, MySqlTransaction tx, DynamicParameters args, long version, CancellationToken ct)
    {
        const string Update = """
            UPDATE user_balances
            SET balance = balance + @Amount, total_reward = total_reward + @Amount, version = version + 1
            WHERE user_id = @UserId AND version = @Version;
            SELECT ROW_COUNT();
            """;
        args.Add("Version", version);
        var updated = await connection.ExecuteScalarAsync<long>(new CommandDefinition(Update + OutboxSql(withReward: true), args, tx, cancellationToken: ct));
        for (var attempt = 1; updated != 1; attempt++)
        {
            SettlementMetrics.LockConflicts.Inc();
            if (attempt >= _options.MaxLockRetries)
            {
                throw new InvalidOperationException($"Balance kept changing: {_options.MaxLockRetries} optimistic-lock conflicts.");
            }

            // READ COMMITTED: this plain read sees the version the conflicting transaction committed
            // (under REPEATABLE READ it would return the old snapshot and the loop would spin).
            args.Add("Version", await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT version FROM user_balances WHERE user_id = @UserId", args, tx, cancellationToken: ct)));
            updated = await connection.ExecuteScalarAsync<long>(new CommandDefinition(Update, args, tx, cancellationToken: ct));
        }
    }

    /// <summary>The guard of the whole settlement: only the delivery that flips pay_status from unpaid settles.</summary>
    private static async Task<bool> MarkOrderPaidAsync(MySqlConnection connection, MySqlTransaction tx, long orderId,
        PaymentSucceeded payment, DateTime now, CancellationToken ct)
    {
        for (var i = 0; ; i++)
        {
            try
            {
                return await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE orders
                    SET pay_status = 'paid', status = 'paid', trade_no = @TransactionId, paid_at = @PaidAt,
                        registration_code = @Code, sync_status = 'pending', updated_at = @Now
                    WHERE id = @OrderId AND pay_status = 'unpaid'
                    """, new
                    {
                        payment.TransactionId,
                        PaidAt = payment.SuccessTime.UtcDateTime,
                        Code = NewRegistrationCode(),
                        Now = now,
                        OrderId = orderId,
                    }, tx, cancellationToken: ct)) == 1;
            }
            catch (MySqlException ex) when (ex.Number == ErDupEntry && ex.Message.Contains("registration_code", StringComparison.Ordinal) && i < 5)
            {
                // 50 random bits: a collision is rare; the failed statement alone is rolled back, so draw again.
            }
            catch (MySqlException ex) when (ex.Number == ErDupEntry)
            {
                throw new SettlementRejectedException($"Order {orderId} cannot be paid: {ex.Message}");
            }
        }
    }

    private static string NewRegistrationCode() => RandomNumberGenerator.GetString(CodeAlphabet, CodeLength);

    private sealed record AttemptRow(long PaymentId, long OrderId, long AmountFen, long CampaignId, long ParticipantId, long ReferrerId,
        string? TradeNo, string? RewardType, decimal? RewardRule, int? RewardBps);
}
