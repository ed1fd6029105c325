using System.Security.Cryptography;
using Dapper;
using Dmh.Contracts;
using Dmh.Platform;
using Dmh.Platform.Rewards;
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
/// succeeded, rewards of up to three levels (unique per order and beneficiary) with their
/// credit ledger rows, balances (optimistic <c>version</c>) and the sync outbox rows. READ COMMITTED so that a retry after a version conflict reads the committed
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
    /// BEGIN travels with the first statement: round trips are what a settlement costs at 500 payments/s
    /// (each one wakes a thread on both sides, and on this kind of virtual machine the wake-ups cost as
    /// much CPU as the statements), and this takes three: begin, mark paid and read; reward, outbox and
    /// balance; commit. The COMMIT is sent only after the client has read that every new reward's balance
    /// was credited in the still open transaction (see <see cref="CreditsSql"/>); a version conflict adds
    /// two round trips per retried balance.
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

        var config = RewardConfig.FromStored(row.RewardConfig, row.HoldDays ?? RewardConfig.DefaultHoldDays, row.RewardType, row.RewardRule ?? 0m, row.RewardBps ?? 0);
        var chain = RewardRuleEngine.Beneficiaries(row.ParticipantId, row.ReferrerId, row.Referrer2Id, row.Referrer3Id);
        if (chain.Count > 0 && row.RewardType is null)
        {
            throw new SettlementRejectedException($"Campaign {row.CampaignId} of order {row.OrderId} does not exist.");
        }

        var credits = chain.Count == 0 ? [] : await CreditsAsync(connection, row, config, chain, payment.TotalFen, now, ct);
        if (credits.Count == 0 && row.RefundedFen == 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(OrderOutboxSql + CommitSql, args, cancellationToken: ct));
            return new SettleResult(SettleOutcome.Settled, row.OrderId, null, [new SyncRequested(SyncEntities.Order, row.OrderId)]);
        }

        var available = config.HoldDays == 0;
        args.AddDynamicParams(new
        {
            Status = available ? RewardStatus.Available : RewardStatus.Frozen,
            AvailableAt = now.AddDays(config.HoldDays),
        });
        for (var i = 0; i < credits.Count; i++)
        {
            var c = credits[i];
            args.Add($"U{i}", c.UserId);
            args.Add($"V{i}", c.Version ?? 0);
            args.Add($"Fen{i}", c.AmountFen);
            args.Add($"F{i}", available ? 0 : c.AmountFen);
            args.Add($"A{i}", available ? c.AmountFen : 0);
            args.Add($"Yuan{i}", Money.FenToYuan(c.AmountFen));
            args.Add($"Level{i}", c.Level);
            args.Add($"Snap{i}", config.SnapshotJson(c.Level));
        }

        RewardIds state;
        try
        {
            state = await connection.QuerySingleAsync<RewardIds>(new CommandDefinition(CreditsSql(credits), args, cancellationToken: ct));
        }
        catch (MySqlException ex) when (ex.Number == ErSignalException && ex.Message == BalanceVersionChanged)
        {
            // Everything before the check stands and the transaction is still open: retry the balances that did not move.
            state = await connection.QuerySingleAsync<RewardIds>(new CommandDefinition(ReadCreditStateSql, cancellationToken: ct));
        }

        if (state.InTransaction != 1)
        {
            // Whatever ran after the transaction ended ran in autocommit: never go on to COMMIT as if it were one unit.
            throw new InvalidOperationException($"Settlement of {payment.OutTradeNo} lost its transaction before COMMIT.");
        }

        var rewardIds = state.ToArray(credits.Count);
        var moved = state.Moved(credits.Count);
        for (var i = 0; i < credits.Count; i++)
        {
            if (rewardIds[i] > 0 && !moved[i])
            {
                await RetryBalanceAsync(connection, args, i, ct);
            }
        }

        // Refunds recorded before this settlement (the order row lock orders them, see
        // RewardLedger.ReverseOrderAsync): reverse in this transaction, so the COMMIT waits for that.
        if (row.RefundedFen > 0)
        {
            await RewardLedger.ReverseOrderAsync(connection, null, row.OrderId, $"settle-{row.OrderId}", null, now, ct);
        }

        // Every new reward's balance is credited in this open transaction: only now commit (see CreditsSql).
        await CommitAsync(connection, ct);

        var written = rewardIds.Where(id => id > 0).ToList();
        if (written.Count == 0)
        {
            // The order was unpaid yet already rewarded: only possible after a manual data repair; the existing rewards stay.
            return new SettleResult(SettleOutcome.Settled, row.OrderId, null, [new SyncRequested(SyncEntities.Order, row.OrderId)]);
        }

        return new SettleResult(SettleOutcome.Settled, row.OrderId, written[0],
            [new SyncRequested(SyncEntities.Order, row.OrderId), .. written.Select(id => new SyncRequested(SyncEntities.Reward, id))]);
    }

    /// <summary>One level's reward to write: beneficiary, level, amount and the balance version read before.</summary>
    private sealed record Credit(long UserId, int Level, long AmountFen, long? Version);

    /// <summary>
    /// The reward of each level of the chain. A rule with tiers or caps needs what the beneficiaries
    /// already have in this campaign: their balance rows are created and locked first (in id order),
    /// so two settlements for one beneficiary count one after the other. One more round trip, only
    /// for such rules.
    /// </summary>
    private static async Task<IReadOnlyList<Credit>> CreditsAsync(
        MySqlConnection connection, AttemptRow row, RewardConfig config, IReadOnlyList<long> chain, long priceFen, DateTime now, CancellationToken ct)
    {
        var levels = chain.Take(config.Levels.Count).ToList();
        long?[] versions = [row.BalanceVersion, row.Balance2Version, row.Balance3Version];
        var stats = new Dictionary<long, List<StatsRow>>();
        if (config.NeedsStats && levels.Count > 0)
        {
            var ids = levels.Order().ToList();
            using var multi = await connection.QueryMultipleAsync(new CommandDefinition(StatsSql(ids.Count), StatsArgs(ids, row.CampaignId, now), cancellationToken: ct));
            var locked = (await multi.ReadAsync<(long UserId, long Version)>()).ToDictionary(v => v.UserId, v => v.Version);
            foreach (var s in await multi.ReadAsync<StatsRow>())
            {
                (stats.TryGetValue(s.UserId, out var list) ? list : stats[s.UserId] = []).Add(s);
            }

            for (var i = 0; i < levels.Count; i++)
            {
                versions[i] = locked[levels[i]];
            }
        }

        var credits = new List<Credit>();
        for (var i = 0; i < levels.Count; i++)
        {
            var mine = stats.GetValueOrDefault(levels[i]) ?? [];
            var level = i + 1;
            var beneficiaryStats = new BeneficiaryStats(
                (int)mine.Where(s => s.Level == level).Sum(s => s.Count), (int)mine.Sum(s => s.Count),
                mine.Sum(s => s.TotalFen), mine.Sum(s => s.TodayFen));
            var amount = RewardRuleEngine.AmountFen(config.Levels[i], config.Caps, priceFen, beneficiaryStats);
            if (amount > 0)
            {
                credits.Add(new Credit(levels[i], level, amount, versions[i]));
            }
        }

        return credits;
    }

    private sealed class StatsRow
    {
        public long UserId { get; init; }
        public int Level { get; init; }
        public long Count { get; init; }
        public long TotalFen { get; init; }
        public long TodayFen { get; init; }
    }

    private static DynamicParameters StatsArgs(List<long> ids, long campaignId, DateTime now)
    {
        var args = new DynamicParameters(new { CampaignId = campaignId, DayStart = RewardRuleEngine.BeijingDayStartUtc(new DateTimeOffset(now, TimeSpan.Zero)) });
        for (var i = 0; i < ids.Count; i++)
        {
            args.Add($"S{i}", ids[i]);
        }

        return args;
    }

    private static string StatsSql(int count)
    {
        var ids = string.Join(", ", Enumerable.Range(0, count).Select(i => $"@S{i}"));
        return $"""
            INSERT INTO user_balances (user_id) VALUES {string.Join(", ", Enumerable.Range(0, count).Select(i => $"(@S{i})"))}
            ON DUPLICATE KEY UPDATE user_id = user_id;
            SELECT user_id, version FROM user_balances WHERE user_id IN ({ids}) FOR UPDATE;
            SELECT user_id AS UserId, level AS Level, COUNT(*) AS Count, CAST(COALESCE(SUM(amount_fen), 0) AS SIGNED) AS TotalFen,
                   CAST(COALESCE(SUM(IF(settled_at >= @DayStart, amount_fen, 0)), 0) AS SIGNED) AS TodayFen
            FROM rewards WHERE campaign_id = @CampaignId AND user_id IN ({ids}) GROUP BY user_id, level;
            """;
    }

    private sealed record RewardIds(long R0, long R1, long R2, long B0, long B1, long B2, long InTransaction)
    {
        public long[] ToArray(int count) => new[] { R0, R1, R2 }.Take(count).ToArray();

        public bool[] Moved(int count) => new[] { B0 == 1, B1 == 1, B2 == 1 }.Take(count).ToArray();
    }

    private const string ReadCreditStateSql = """
        SELECT CAST(COALESCE(@dmh_r0, 0) AS SIGNED) AS R0, CAST(COALESCE(@dmh_r1, 0) AS SIGNED) AS R1, CAST(COALESCE(@dmh_r2, 0) AS SIGNED) AS R2,
               CAST(COALESCE(@dmh_b0, 0) AS SIGNED) AS B0, CAST(COALESCE(@dmh_b1, 0) AS SIGNED) AS B1, CAST(COALESCE(@dmh_b2, 0) AS SIGNED) AS B2,
               CAST(@@in_transaction AS SIGNED) AS InTransaction
        """;

    /// <summary>
    /// The rewards (their ids only when this statement inserted them), their credit ledger rows, the
    /// outbox rows and each balance under the optimistic lock (only with a new reward), in one round trip
    /// that ends with what it did and whether the transaction is still open. When a version read before
    /// has changed, its UPDATE changes nothing and <c>dmh_stop_if</c> (a procedure, see migration V0500)
    /// ends the round trip with an error, leaving the transaction open for the retry. No COMMIT rides in
    /// this round trip: with a worker killed while it ran, such a COMMIT was seen to commit a reward
    /// without its balance credit, so only the client commits, once it has read the outcome.
    /// </summary>
    private static string CreditsSql(IReadOnlyList<Credit> credits)
    {
        var sql = new System.Text.StringBuilder("SET @dmh_r0 = 0, @dmh_r1 = 0, @dmh_r2 = 0, @dmh_b0 = 0, @dmh_b1 = 0, @dmh_b2 = 0;\n");
        for (var i = 0; i < credits.Count; i++)
        {
            if (credits[i].Version is null)
            {
                // A missing balance row is created at version 0; if another settlement creates it first, the version check sees a conflict like any other.
                sql.Append(CreateBalanceSql.Replace("@UserId", $"@U{i}", StringComparison.Ordinal));
            }

            sql.Append(CreditSql.Replace("{i}", i.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        }

        sql.Append(OrderOutboxRowSql);
        for (var i = 0; i < credits.Count; i++)
        {
            sql.Append($"\nUNION ALL SELECT 'reward', @dmh_r{i}, @OrderId, 'pending', @Now FROM DUAL WHERE @dmh_r{i} > 0");
        }

        sql.Append(OutboxUpsert).Append(";\n");
        var conflicts = string.Join(" OR ", Enumerable.Range(0, credits.Count).Select(i => $"(@dmh_r{i} > 0 AND @dmh_b{i} <> 1)"));
        sql.Append($"CALL dmh_stop_if({conflicts}, '{BalanceVersionChanged}');\n");

        sql.Append(ReadCreditStateSql);
        return sql.ToString();
    }

    private const string CreditSql = """
        INSERT IGNORE INTO rewards (user_id, order_id, campaign_id, level, amount, amount_fen, status, settled_at, available_at, rule_snapshot, created_at)
        VALUES (@U{i}, @OrderId, @CampaignId, @Level{i}, @Yuan{i}, @Fen{i}, @Status, @Now, @AvailableAt, @Snap{i}, @Now);
        SET @dmh_r{i} = IF(ROW_COUNT() = 1, LAST_INSERT_ID(), 0);
        INSERT INTO reward_ledger (user_id, kind, frozen_delta_fen, available_delta_fen, earned_delta_fen, reward_id, order_id, business_key, actor, created_at)
        SELECT @U{i}, 'credit', @F{i}, @A{i}, @Fen{i}, @dmh_r{i}, @OrderId, CONCAT('reward:', @dmh_r{i}, ':credit'), 'system', @Now FROM DUAL WHERE @dmh_r{i} > 0;
        UPDATE user_balances
        SET frozen_fen = frozen_fen + @F{i}, available_fen = available_fen + @A{i}, total_earned_fen = total_earned_fen + @Fen{i},
            balance = balance + @Yuan{i}, total_reward = total_reward + @Yuan{i}, version = version + 1
        WHERE user_id = @U{i} AND version = @V{i} AND @dmh_r{i} > 0;
        SET @dmh_b{i} = ROW_COUNT();

        """;

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
               o.referrer2_id AS Referrer2Id, o.referrer3_id AS Referrer3Id,
               o.trade_no AS TradeNo, c.reward_type AS RewardType, c.reward_rule AS RewardRule, c.reward_bps AS RewardBps,
               CAST(c.reward_config AS CHAR) AS RewardConfig, c.hold_days AS HoldDays,
               b.version AS BalanceVersion, b2.version AS Balance2Version, b3.version AS Balance3Version, p.status AS AttemptStatus,
               (SELECT CAST(COALESCE(SUM(f.amount_fen), 0) AS SIGNED) FROM refunds f WHERE f.order_id = o.id AND f.status = 'success') AS RefundedFen
        FROM payments p JOIN orders o ON o.id = p.order_id
        LEFT JOIN campaigns c ON c.id = o.campaign_id
        LEFT JOIN user_balances b ON b.user_id = o.referrer_id
        LEFT JOIN user_balances b2 ON b2.user_id = o.referrer2_id
        LEFT JOIN user_balances b3 ON b3.user_id = o.referrer3_id
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

    private const string CreateBalanceSql = """
        INSERT INTO user_balances (user_id) VALUES (@UserId) ON DUPLICATE KEY UPDATE user_id = user_id;

        """;

    private const string BalanceVersionChanged = "dmh: balance version changed";

    /// <summary>The optimistic lock on <c>user_balances.version</c> after a conflict: read the committed version, try again.</summary>
    private async Task RetryBalanceAsync(MySqlConnection connection, DynamicParameters args, int i, CancellationToken ct)
    {
        var readVersion = $"SELECT version FROM user_balances WHERE user_id = @U{i}";
        var update = $"""
            UPDATE user_balances
            SET frozen_fen = frozen_fen + @F{i}, available_fen = available_fen + @A{i}, total_earned_fen = total_earned_fen + @Fen{i},
                balance = balance + @Yuan{i}, total_reward = total_reward + @Yuan{i}, version = version + 1
            WHERE user_id = @U{i} AND version = @V{i};
            SELECT ROW_COUNT()
            """;
        for (var attempt = 1; ; attempt++)
        {
            SettlementMetrics.LockConflicts.Inc();
            if (attempt >= _options.MaxLockRetries)
            {
                throw new InvalidOperationException($"Balance kept changing: {_options.MaxLockRetries} optimistic-lock conflicts.");
            }

            // READ COMMITTED: this plain read sees the version the conflicting transaction committed
            // (under REPEATABLE READ it would return the old snapshot and the loop would spin).
            args.Add($"V{i}", await connection.ExecuteScalarAsync<long>(new CommandDefinition(readVersion, args, cancellationToken: ct)));
            if (await connection.ExecuteScalarAsync<long>(new CommandDefinition(update, args, cancellationToken: ct)) == 1)
            {
                return;
            }
        }
    }

    private static string NewRegistrationCode() => RandomNumberGenerator.GetString(CodeAlphabet, CodeLength);

    /// <param name="Changed">Rows the guarded UPDATE just before changed: 0 unless this delivery marked the order paid.</param>
    private sealed record AttemptRow(long Changed, long PaymentId, long OrderId, long AmountFen, long CampaignId, long ParticipantId, long ReferrerId,
        long Referrer2Id, long Referrer3Id, string? TradeNo, string? RewardType, decimal? RewardRule, int? RewardBps, string? RewardConfig, int? HoldDays,
        long? BalanceVersion, long? Balance2Version, long? Balance3Version, string AttemptStatus, long RefundedFen);
}
