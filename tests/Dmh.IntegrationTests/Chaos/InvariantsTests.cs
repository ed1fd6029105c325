using Dapper;
using Dmh.Chaos;
using Dmh.Contracts;
using Dmh.IntegrationTests.Settlement;
using Dmh.IntegrationTests.Syncer;
using Dmh.Platform.Rewards;
using Dmh.Platform.Withdrawals;
using Dmh.Settlement.Settling;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.IntegrationTests.Chaos;

/// <summary>The chaos suite's checks against a real MariaDB: the ledger invariant of issue 17 and the refund checks.</summary>
public sealed class InvariantsTests : SettlementTestBase
{
    private const string Ledger = "referrer whose balance is not the sum of their ledger rows (or version not their count)";

    [Fact]
    public async Task The_ledger_invariant_holds_after_settlement_and_reports_a_balance_moved_without_its_ledger_row()
    {
        var campaign = await Kit.CampaignAsync(new RewardConfig(7, [new RewardLevelRule(RewardTypes.Fixed, AmountFen: 1000)], RewardCaps.None));
        var referrer = await Kit.ParticipantAsync();
        var order = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        await using (var c = await Db.DataSource.OpenConnectionAsync())
        {
            var store = new SettlementStore(Options.Create(new SettlementOptions()), TimeProvider.System, NullLogger<SettlementStore>.Instance);
            await store.SettleAsync(c, SettlementKit.Payment(order.OutTradeNo, 9900), default);
        }

        await using var target = await TargetDatabase.CreateAsync(TargetKind.MySql);
        await using var customer = new MySqlDataSource(target.ConnectionString);
        foreach (var (stream, group) in new[] { (StreamNames.Payments, GroupNames.Settlement), (StreamNames.Sync, GroupNames.Syncer) })
        {
            await Kit.Redis.StreamCreateConsumerGroupAsync(Kit.Prefix + stream, group, "0", createStream: true);
        }

        var invariants = new Invariants(Db.DataSource, customer, Kit.Redis, Kit.Prefix);
        var scope = new CheckScope(campaign, 10m, [order.OrderId], DateTime.UtcNow.AddMinutes(-1));
        Assert.DoesNotContain(await invariants.CheckAsync(scope, default), v => v.Invariant == Ledger);

        await using (var c = await Db.DataSource.OpenConnectionAsync())
        {
            await c.ExecuteAsync("UPDATE user_balances SET frozen_fen = frozen_fen + 1 WHERE user_id = @referrer", new { referrer });
        }

        var violation = Assert.Single(await invariants.CheckAsync(scope, default), v => v.Invariant == Ledger);
        Assert.Equal([referrer.ToString(System.Globalization.CultureInfo.InvariantCulture)], violation.FirstIds);
    }

    [Fact]
    public async Task A_partial_refund_passes_the_refund_checks_and_a_reversal_written_twice_is_reported()
    {
        var campaign = await Kit.CampaignAsync(new RewardConfig(7, [new RewardLevelRule(RewardTypes.Fixed, AmountFen: 1000)], RewardCaps.None));
        var referrer = await Kit.ParticipantAsync();
        var order = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        await using (var c = await Db.DataSource.OpenConnectionAsync())
        {
            var store = new SettlementStore(Options.Create(new SettlementOptions()), TimeProvider.System, NullLogger<SettlementStore>.Instance);
            await store.SettleAsync(c, SettlementKit.Payment(order.OutTradeNo, 9900), default);
            // A third refunded, as WeChat's REFUND.SUCCESS notify records it: a third of the reward (333 fen) reversed.
            var refundId = await c.ExecuteScalarAsync<long>("""
                INSERT INTO refunds (order_id, payment_id, out_trade_no, out_refund_no, amount_fen, total_fen, status)
                SELECT order_id, id, out_trade_no, CONCAT('R', order_id, '-1'), 3300, 9900, 'success' FROM payments WHERE out_trade_no = @OutTradeNo;
                SELECT LAST_INSERT_ID();
                """, new { order.OutTradeNo });
            await using var tx = await c.BeginTransactionAsync();
            await RefundRecorder.ApplySuccessAsync(c, tx, refundId, order.OrderId, DateTime.UtcNow, default);
            await tx.CommitAsync();
        }

        await using var target = await TargetDatabase.CreateAsync(TargetKind.MySql);
        await using var customer = new MySqlDataSource(target.ConnectionString);
        foreach (var (stream, group) in new[] { (StreamNames.Payments, GroupNames.Settlement), (StreamNames.Sync, GroupNames.Syncer) })
        {
            await Kit.Redis.StreamCreateConsumerGroupAsync(Kit.Prefix + stream, group, "0", createStream: true);
        }

        var invariants = new Invariants(Db.DataSource, customer, Kit.Redis, Kit.Prefix);
        var scope = new CheckScope(campaign, 10m, [order.OrderId], DateTime.UtcNow.AddMinutes(-1));
        var before = await invariants.CheckAsync(scope, default);
        Assert.Equal(333, await Kit.ScalarAsync<long>("SELECT reversed_fen FROM rewards WHERE order_id = @OrderId", new { order.OrderId }));
        Assert.DoesNotContain(before, v => v.Invariant.Contains("refund", StringComparison.Ordinal) || v.Invariant.Contains("balance", StringComparison.Ordinal)
            || v.Invariant.Contains("lost", StringComparison.Ordinal) || v.Invariant.Contains("reversal without", StringComparison.Ordinal));

        await using (var c = await Db.DataSource.OpenConnectionAsync())
        {
            // The same reversal once more under another key: the referrer loses 333 fen twice.
            await c.ExecuteAsync("""
                INSERT INTO reward_ledger (user_id, kind, frozen_delta_fen, earned_delta_fen, reward_id, order_id, business_key)
                SELECT user_id, 'reversal', -333, -333, id, order_id, CONCAT('refund:again:reward:', id) FROM rewards WHERE order_id = @OrderId
                """, new { order.OrderId });
        }

        var violation = Assert.Single(await invariants.CheckAsync(scope, default), v => v.Invariant.StartsWith("reward not reversed exactly", StringComparison.Ordinal));
        Assert.Equal([(await Kit.ScalarAsync<long>("SELECT id FROM rewards WHERE order_id = @OrderId", new { order.OrderId })).ToString(System.Globalization.CultureInfo.InvariantCulture)], violation.FirstIds);
    }

    [Fact]
    public async Task A_paid_and_a_rejected_withdrawal_pass_the_withdrawal_checks_and_a_payout_written_twice_or_a_stuck_one_is_reported()
    {
        // Hold 0 days: the reward (1000 fen) is available at once.
        var campaign = await Kit.CampaignAsync(new RewardConfig(0, [new RewardLevelRule(RewardTypes.Fixed, AmountFen: 1000)], RewardCaps.None));
        var referrer = await Kit.ParticipantAsync();
        var order = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        await using (var c = await Db.DataSource.OpenConnectionAsync())
        {
            var store = new SettlementStore(Options.Create(new SettlementOptions()), TimeProvider.System, NullLogger<SettlementStore>.Instance);
            await store.SettleAsync(c, SettlementKit.Payment(order.OutTradeNo, 9900), default);
        }

        var paid = await WithdrawAsync(referrer, 300, "W-paid");
        await FinishAsync(paid, WithdrawalStatus.Paid, (c, tx, w) => WithdrawalLedger.PayoutAsync(c, tx, w, "wechat transfer", "wechat", DateTime.UtcNow, default));
        var rejected = await WithdrawAsync(referrer, 200, null);
        await FinishAsync(rejected, WithdrawalStatus.Rejected, (c, tx, w) => WithdrawalLedger.ReleaseAsync(c, tx, w, "chaos", "admin", DateTime.UtcNow, default));

        await using var target = await TargetDatabase.CreateAsync(TargetKind.MySql);
        await using var customer = new MySqlDataSource(target.ConnectionString);
        foreach (var (stream, group) in new[] { (StreamNames.Payments, GroupNames.Settlement), (StreamNames.Sync, GroupNames.Syncer) })
        {
            await Kit.Redis.StreamCreateConsumerGroupAsync(Kit.Prefix + stream, group, "0", createStream: true);
        }

        var invariants = new Invariants(Db.DataSource, customer, Kit.Redis, Kit.Prefix);
        var scope = new CheckScope(campaign, 10m, [order.OrderId], DateTime.UtcNow.AddMinutes(-1))
        {
            Withdrawals = new Dictionary<long, long> { [paid] = referrer, [rejected] = referrer },
            WechatTransfers = new Dictionary<string, string> { ["W-paid"] = "SUCCESS" },
        };
        Assert.DoesNotContain(await invariants.CheckAsync(scope, default), v => v.Invariant.Contains("withdr", StringComparison.Ordinal)
            || v.Invariant.Contains("balance", StringComparison.Ordinal) || v.Invariant.Contains("WeChat", StringComparison.Ordinal));
        Assert.Equal(0, (await invariants.BacklogAsync(scope, default)).Withdrawing);

        // The payout once more under another key, balance and ledger moved together: paid out twice.
        await using (var c = await Db.DataSource.OpenConnectionAsync())
        {
            await RewardLedger.ApplyAsync(c, null, new LedgerEntry(referrer, LedgerKind.Payout, $"withdrawal:{paid}:payout:again", DateTime.UtcNow,
                AvailableDelta: -300, PaidOutDelta: 300), default);
        }

        var twice = Assert.Single(await invariants.CheckAsync(scope, default), v => v.Invariant.StartsWith("referrer whose withdrawing or paid-out", StringComparison.Ordinal));
        Assert.Equal([Id(referrer)], twice.FirstIds);

        // A request nobody reviews: not final, in the backlog, and reported.
        var stuck = await WithdrawAsync(referrer, 100, null);
        Assert.Equal(1, (await invariants.BacklogAsync(scope, default)).Withdrawing);
        var open = Assert.Single(await invariants.CheckAsync(scope, default), v => v.Invariant.StartsWith("withdrawal not final", StringComparison.Ordinal));
        Assert.Equal([Id(stuck)], open.FirstIds);
    }

    private static string Id(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A request and its hold in one transaction, as Ingress writes them.</summary>
    private async Task<long> WithdrawAsync(long userId, long amountFen, string? outBillNo)
    {
        await using var c = await Db.DataSource.OpenConnectionAsync();
        await using var tx = await c.BeginTransactionAsync();
        var id = await c.ExecuteScalarAsync<long>("""
            INSERT INTO withdrawals (user_id, amount_fen, status, mode, open_user_id, out_bill_no, beijing_day, created_at)
            VALUES (@userId, @amountFen, 'transferring', 'wechat', @userId, @outBillNo, UTC_DATE(), UTC_TIMESTAMP(3));
            SELECT LAST_INSERT_ID();
            """, new { userId, amountFen, outBillNo }, tx);
        Assert.True(await WithdrawalLedger.HoldAsync(c, tx, userId, id, amountFen, DateTime.UtcNow, default));
        await tx.CommitAsync();
        return id;
    }

    private async Task FinishAsync(long id, string status, Func<MySqlConnection, MySqlTransaction, WithdrawalRow, Task<bool>> ledger)
    {
        await using var c = await Db.DataSource.OpenConnectionAsync();
        await using var tx = await c.BeginTransactionAsync();
        var w = (await WithdrawalLedger.LockAsync(c, tx, id, default))!;
        Assert.True(await ledger(c, tx, w));
        await c.ExecuteAsync("UPDATE withdrawals SET status = @status, open_user_id = NULL WHERE id = @id", new { id, status }, tx);
        await tx.CommitAsync();
    }
}
