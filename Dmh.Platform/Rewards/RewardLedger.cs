using Dapper;
using MySqlConnector;

namespace Dmh.Platform.Rewards;

/// <summary><c>rewards.status</c> (issue 17).</summary>
public static class RewardStatus
{
    public const string Frozen = "frozen";
    public const string Available = "available";
    public const string Reversed = "reversed";
}

/// <summary><c>reward_ledger.kind</c>.</summary>
public static class LedgerKind
{
    public const string Credit = "credit";
    public const string Unfreeze = "unfreeze";
    public const string Reversal = "reversal";
    public const string Adjustment = "adjustment";

    /// <summary>A withdrawal's hold: available → withdrawing (issue 18).</summary>
    public const string WithdrawHold = "withdraw_hold";

    /// <summary>A withdrawal rejected, failed, cancelled or expired: withdrawing → available.</summary>
    public const string WithdrawRelease = "withdraw_release";

    /// <summary>A withdrawal paid: withdrawing → paid out.</summary>
    public const string Payout = "payout";
}

/// <summary>One change of a participant's money; <see cref="BusinessKey"/> is unique, so a retried step writes nothing twice.</summary>
public sealed record LedgerEntry(
    long UserId, string Kind, string BusinessKey, DateTime Now,
    long FrozenDelta = 0, long AvailableDelta = 0, long WithdrawingDelta = 0, long PaidOutDelta = 0, long EarnedDelta = 0,
    long? RewardId = null, long? OrderId = null, long? RefundId = null, string? Reason = null, string? Actor = null);

/// <summary>Whether a participant may withdraw an amount now.</summary>
public enum WithdrawalCheck
{
    Allowed,

    /// <summary><c>available</c> is negative (a refund took back a reward already available): nothing can be withdrawn until later rewards pay the debt.</summary>
    RefusedNegativeBalance,

    /// <summary>Less available than asked.</summary>
    RefusedInsufficient,
}

/// <summary>
/// Ledger writes shared by Settlement (hold job, settlement-time reversal) and Ingress (refund notify,
/// admin adjustments). Each runs inside the caller's transaction; the balance row moves only together
/// with a newly written ledger row, and its <c>version</c> counts the rows.
/// </summary>
public static class RewardLedger
{
    /// <summary>
    /// Writes the entry and moves the balance by its deltas; false (and nothing changed) when an entry
    /// with this business key exists already. The INSERT ... ON DUPLICATE KEY locks the balance row
    /// for the rest of the transaction.
    /// </summary>
    public static async Task<bool> ApplyAsync(MySqlConnection connection, MySqlTransaction? tx, LedgerEntry entry, CancellationToken ct) =>
        await connection.ExecuteScalarAsync<long>(new CommandDefinition(ApplySql, entry, tx, cancellationToken: ct)) == 1;

    public const string ApplySql = """
        INSERT INTO user_balances (user_id) VALUES (@UserId) ON DUPLICATE KEY UPDATE user_id = user_id;
        INSERT IGNORE INTO reward_ledger (user_id, kind, frozen_delta_fen, available_delta_fen, withdrawing_delta_fen, paid_out_delta_fen,
                                          earned_delta_fen, reward_id, order_id, refund_id, business_key, reason, actor, created_at)
        VALUES (@UserId, @Kind, @FrozenDelta, @AvailableDelta, @WithdrawingDelta, @PaidOutDelta,
                @EarnedDelta, @RewardId, @OrderId, @RefundId, @BusinessKey, @Reason, @Actor, @Now);
        SET @dmh_ledger_written = ROW_COUNT();
        UPDATE user_balances
        SET frozen_fen = frozen_fen + @FrozenDelta, available_fen = available_fen + @AvailableDelta,
            withdrawing_fen = withdrawing_fen + @WithdrawingDelta, paid_out_fen = paid_out_fen + @PaidOutDelta,
            total_earned_fen = total_earned_fen + @EarnedDelta,
            balance = balance + (@FrozenDelta + @AvailableDelta) / 100, total_reward = total_reward + @EarnedDelta / 100,
            version = version + 1
        WHERE user_id = @UserId AND @dmh_ledger_written = 1;
        SELECT @dmh_ledger_written;
        """;

    /// <summary>
    /// Reverses the order's rewards in proportion to its successful refunds (floor to the fen; refunds
    /// covering the whole amount paid reverse all of it). Cumulative, so a repeat or a late caller
    /// changes nothing: each reward moves from its reversed amount to the target. A frozen reward loses
    /// frozen money; an available one loses available money, which may go negative. The order row is
    /// locked first: settlement holds it from marking the order paid to its commit, so a reversal and
    /// the settlement of the same order never miss each other.
    /// </summary>
    /// <returns>The rewards whose reversal this call wrote (id, reversed now, user).</returns>
    public static async Task<IReadOnlyList<Reversal>> ReverseOrderAsync(
        MySqlConnection connection, MySqlTransaction? tx, long orderId, string refundKey, long? refundId, DateTime now, CancellationToken ct)
    {
        var order = await connection.QuerySingleOrDefaultAsync<(decimal Amount, long RefundedFen)>(new CommandDefinition("""
            SELECT o.amount, (SELECT CAST(COALESCE(SUM(f.amount_fen), 0) AS SIGNED) FROM refunds f WHERE f.order_id = o.id AND f.status = 'success') AS RefundedFen
            FROM orders o WHERE o.id = @orderId FOR UPDATE
            """, new { orderId }, tx, cancellationToken: ct));
        var paidFen = Money.YuanToFen(order.Amount);
        if (order.RefundedFen <= 0)
        {
            return [];
        }

        var rewards = await connection.QueryAsync<(long Id, long UserId, long AmountFen, long ReversedFen, string Status)>(new CommandDefinition(
            "SELECT id, user_id, amount_fen, reversed_fen, status FROM rewards WHERE order_id = @orderId ORDER BY id FOR UPDATE",
            new { orderId }, tx, cancellationToken: ct));
        var done = new List<Reversal>();
        foreach (var r in rewards)
        {
            var target = Target(r.AmountFen, order.RefundedFen, paidFen);
            var delta = target - r.ReversedFen;
            if (delta <= 0)
            {
                continue;
            }

            var frozen = r.Status == RewardStatus.Frozen;
            var businessKey = $"refund:{refundKey}:reward:{r.Id}";
            var entry = new LedgerEntry(r.UserId, LedgerKind.Reversal, businessKey, now,
                FrozenDelta: frozen ? -delta : 0, AvailableDelta: frozen ? 0 : -delta, EarnedDelta: -delta,
                RewardId: r.Id, OrderId: orderId, RefundId: refundId, Reason: "refund", Actor: "system");
            if (!await ApplyAsync(connection, tx, entry, ct))
            {
                continue;
            }

            // The sync outbox row commits with the reversal; the syncer's sweeper publishes it (UnpublishedAfter).
            // A VALUES insert: INSERT ... SELECT would take the table's AUTO-INC lock for the whole statement,
            // which concurrent settlements' sync_records inserts then wait on (and deadlock with).
            var ledgerId = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
                SELECT id FROM reward_ledger WHERE business_key = @businessKey;
                """, new { businessKey }, tx, cancellationToken: ct));
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT IGNORE INTO sync_records (entity, entity_id, order_id, status, committed_at)
                VALUES (@entity, @ledgerId, @orderId, 'pending', @now);
                """, new { ledgerId, orderId, now, entity = Dmh.Contracts.SyncEntities.Reversal }, tx, cancellationToken: ct));

            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE rewards SET reversed_fen = @target, status = IF(@target >= amount_fen, 'reversed', status), updated_at = @now
                WHERE id = @Id
                """, new { target, r.Id, now }, tx, cancellationToken: ct));
            done.Add(new Reversal(r.Id, r.UserId, delta, ledgerId));
        }

        return done;
    }

    /// <summary>The reversed part of a reward after refunds of <paramref name="refundedFen"/> out of <paramref name="paidFen"/>.</summary>
    public static long Target(long amountFen, long refundedFen, long paidFen) =>
        refundedFen >= paidFen || paidFen <= 0 ? amountFen : amountFen * refundedFen / paidFen;

    /// <summary>
    /// Makes one frozen reward available (what refunds left of it). False when it is not frozen any more
    /// or its unfreeze was written already.
    /// </summary>
    public static async Task<bool> UnfreezeAsync(MySqlConnection connection, MySqlTransaction? tx, long rewardId, DateTime now, CancellationToken ct)
    {
        var r = await connection.QuerySingleOrDefaultAsync<FrozenReward>(new CommandDefinition(
            "SELECT user_id AS UserId, order_id AS OrderId, amount_fen AS AmountFen, reversed_fen AS ReversedFen FROM rewards WHERE id = @rewardId AND status = 'frozen' AND available_at <= @now FOR UPDATE",
            new { rewardId, now }, tx, cancellationToken: ct));
        if (r is not { } row)
        {
            return false;
        }

        var rest = row.AmountFen - row.ReversedFen;
        var entry = new LedgerEntry(row.UserId, LedgerKind.Unfreeze, $"reward:{rewardId}:unfreeze", now,
            FrozenDelta: -rest, AvailableDelta: rest, RewardId: rewardId, OrderId: row.OrderId, Actor: "system");
        var written = await ApplyAsync(connection, tx, entry, ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE rewards SET status = 'available', updated_at = @now WHERE id = @rewardId AND status = 'frozen'",
            new { rewardId, now }, tx, cancellationToken: ct));
        return written;
    }

    private sealed record FrozenReward(long UserId, long OrderId, long AmountFen, long ReversedFen);

    /// <summary>
    /// The rule the withdrawal issue calls before holding money: refused while <c>available</c> is
    /// negative, or below the amount asked. Call it in the withdrawal's transaction (it locks the balance row).
    /// </summary>
    public static async Task<WithdrawalCheck> CheckWithdrawalAsync(MySqlConnection connection, MySqlTransaction? tx, long userId, long amountFen, CancellationToken ct)
    {
        var available = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT available_fen FROM user_balances WHERE user_id = @userId FOR UPDATE", new { userId }, tx, cancellationToken: ct)) ?? 0;
        return available < 0 ? WithdrawalCheck.RefusedNegativeBalance
            : amountFen <= 0 || available < amountFen ? WithdrawalCheck.RefusedInsufficient
            : WithdrawalCheck.Allowed;
    }
}

/// <summary>One reward's reversal written by <see cref="RewardLedger.ReverseOrderAsync"/>; <paramref name="LedgerId"/> is its reward_ledger row (and sync entity id).</summary>
public sealed record Reversal(long RewardId, long UserId, long AmountFen, long LedgerId);
