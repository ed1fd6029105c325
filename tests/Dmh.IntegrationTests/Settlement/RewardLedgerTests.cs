using Dapper;
using Dmh.Contracts;
using Dmh.Ingress.Payments;
using Dmh.Platform.Rewards;
using Dmh.Settlement.Rewards;
using Dmh.Settlement.Settling;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Dmh.IntegrationTests.Settlement;

/// <summary>Issue 17: the ledger, the hold, refunds that reverse rewards, levels, tiers and caps, against the real MariaDB.</summary>
public sealed class RewardLedgerTests : SettlementTestBase
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);

    private static RewardConfig Fixed(long fen, int holdDays = 7, RewardCaps? caps = null) =>
        new(holdDays, [new RewardLevelRule(RewardTypes.Fixed, AmountFen: fen)], caps ?? RewardCaps.None);

    private SettlementStore Store(TimeProvider? time = null) =>
        new(Options.Create(new SettlementOptions()), time ?? _time, NullLogger<SettlementStore>.Instance);

    private HoldReleaseService Hold(int batchSize = 2) =>
        new(Db.DataSource, Options.Create(new HoldReleaseOptions { BatchSize = batchSize }), _time, NullLogger<HoldReleaseService>.Instance);

    private async Task<SettleResult> SettleAsync((long OrderId, string OutTradeNo) order, long fen, SettlementStore? store = null)
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        return await (store ?? Store()).SettleAsync(connection, SettlementKit.Payment(order.OutTradeNo, fen), default);
    }

    /// <summary>A refund requested earlier and now confirmed by WeChat's verified REFUND.SUCCESS notify.</summary>
    private async Task<string> RefundAsync(long orderId, long fen, int n, TimeProvider? time = null)
    {
        var outRefundNo = $"R{orderId}-{n}";
        await using (var c = await Db.DataSource.OpenConnectionAsync())
        {
            await c.ExecuteAsync("""
                INSERT IGNORE INTO refunds (order_id, payment_id, out_trade_no, out_refund_no, amount_fen, total_fen, status)
                SELECT o.id, p.id, p.out_trade_no, @outRefundNo, @fen, p.amount_fen, 'processing' FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.id = @orderId
                """, new { orderId, fen, outRefundNo });
        }

        await NotifyAsync(outRefundNo, time);
        return outRefundNo;
    }

    private async Task NotifyAsync(string outRefundNo, TimeProvider? time = null) =>
        Assert.True(await new PaymentStore(Db.DataSource, time ?? _time).RecordRefundNotifyAsync(outRefundNo, "50" + outRefundNo, RefundStatus.Success, Start, (time ?? _time).GetUtcNow(), default));

    private async Task<(long Frozen, long Available, long Earned, long Version)> BalanceAsync(long userId)
    {
        await using var c = await Db.DataSource.OpenConnectionAsync();
        return await c.QuerySingleOrDefaultAsync<(long, long, long, long)>(
            "SELECT frozen_fen, available_fen, total_earned_fen, version FROM user_balances WHERE user_id = @userId", new { userId });
    }

    private async Task<(string Status, long Amount, long Reversed)> RewardAsync(long orderId, long userId)
    {
        await using var c = await Db.DataSource.OpenConnectionAsync();
        return await c.QuerySingleAsync<(string, long, long)>(
            "SELECT status, amount_fen, reversed_fen FROM rewards WHERE order_id = @orderId AND user_id = @userId", new { orderId, userId });
    }

    [Fact]
    public async Task A_payment_settles_a_frozen_reward_that_the_job_makes_available_at_exactly_hold_days()
    {
        var campaign = await Kit.CampaignAsync(Fixed(1000, holdDays: 7));
        var referrer = await Kit.ParticipantAsync();
        var orders = new List<(long, string)>();
        for (var i = 0; i < 3; i++)
        {
            orders.Add(await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900));
        }

        foreach (var order in orders)
        {
            Assert.Equal(SettleOutcome.Settled, (await SettleAsync(order, 9900)).Outcome);
        }

        Assert.Equal((3000L, 0L, 3000L, 3L), await BalanceAsync(referrer));
        Assert.Equal(Start.UtcDateTime.AddDays(7), await Kit.ScalarAsync<DateTime>("SELECT MIN(available_at) FROM rewards WHERE user_id = @referrer", new { referrer }));

        _time.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, await Hold().SweepAsync(default));
        Assert.Equal((3000L, 0L, 3000L, 3L), await BalanceAsync(referrer));

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(3, await Hold(batchSize: 2).SweepAsync(default));
        Assert.Equal((0L, 3000L, 3000L, 6L), await BalanceAsync(referrer));
        Assert.Equal(3, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM rewards WHERE user_id = @referrer AND status = 'available'", new { referrer }));
        Assert.Equal(3, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM reward_ledger WHERE user_id = @referrer AND kind = 'unfreeze' AND business_key LIKE 'reward:%:unfreeze'", new { referrer }));

        // A second sweep (or a second instance) finds nothing to do.
        Assert.Equal(0, await Hold().SweepAsync(default));
        Assert.Equal((0L, 3000L, 3000L, 6L), await BalanceAsync(referrer));
        await Kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task A_reward_with_hold_0_is_available_at_once()
    {
        var campaign = await Kit.CampaignAsync(Fixed(1000, holdDays: 0));
        var referrer = await Kit.ParticipantAsync();
        await SettleAsync(await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900), 9900);

        Assert.Equal((0L, 1000L, 1000L, 1L), await BalanceAsync(referrer));
        Assert.Equal("available", await Kit.ScalarAsync<string>("SELECT status FROM rewards WHERE user_id = @referrer", new { referrer }));
        Assert.Equal(0, await Hold().SweepAsync(default));
        await Kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task A_partial_then_a_full_refund_reverse_in_proportion_and_a_repeated_notify_changes_nothing()
    {
        var campaign = await Kit.CampaignAsync(Fixed(1000));
        var referrer = await Kit.ParticipantAsync();
        var order = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        await SettleAsync(order, 9900);

        var first = await RefundAsync(order.OrderId, 3300, 1);
        Assert.Equal(("frozen", 1000L, 333L), await RewardAsync(order.OrderId, referrer));
        Assert.Equal((667L, 0L, 667L, 2L), await BalanceAsync(referrer));
        Assert.Equal("paid", await Kit.ScalarAsync<string>("SELECT status FROM orders WHERE id = @OrderId", new { order.OrderId }));

        await NotifyAsync(first);
        Assert.Equal((667L, 0L, 667L, 2L), await BalanceAsync(referrer));

        await RefundAsync(order.OrderId, 6600, 2);
        Assert.Equal(("reversed", 1000L, 1000L), await RewardAsync(order.OrderId, referrer));
        Assert.Equal((0L, 0L, 0L, 3L), await BalanceAsync(referrer));
        Assert.Equal("refunded", await Kit.ScalarAsync<string>("SELECT status FROM orders WHERE id = @OrderId", new { order.OrderId }));

        // A fully reversed reward is never made available.
        _time.Advance(TimeSpan.FromDays(8));
        Assert.Equal(0, await Hold().SweepAsync(default));
        Assert.Equal((0L, 0L, 0L, 3L), await BalanceAsync(referrer));
        await Kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task A_partly_reversed_frozen_reward_becomes_available_with_what_is_left()
    {
        var campaign = await Kit.CampaignAsync(Fixed(1000, holdDays: 1));
        var referrer = await Kit.ParticipantAsync();
        var order = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        await SettleAsync(order, 9900);
        await RefundAsync(order.OrderId, 990, 1);

        _time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, await Hold().SweepAsync(default));
        Assert.Equal((0L, 900L, 900L, 3L), await BalanceAsync(referrer));
        Assert.Equal(("available", 1000L, 100L), await RewardAsync(order.OrderId, referrer));
        await Kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task A_refund_of_an_available_reward_makes_available_negative_and_blocks_withdrawal_until_later_rewards_pay_the_debt()
    {
        var campaign = await Kit.CampaignAsync(Fixed(1000, holdDays: 0));
        var referrer = await Kit.ParticipantAsync();
        var order = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        await SettleAsync(order, 9900);
        Assert.Equal(WithdrawalCheck.Allowed, await CheckWithdrawalAsync(referrer, 500));
        // The reward is paid out (as the withdrawal issue will do through the ledger).
        await using (var c = await Db.DataSource.OpenConnectionAsync())
        {
            await RewardLedger.ApplyAsync(c, null, new LedgerEntry(referrer, "payout", $"test-payout:{referrer}", Start.UtcDateTime,
                AvailableDelta: -1000, PaidOutDelta: 1000), default);
        }

        await RefundAsync(order.OrderId, 9900, 1);
        Assert.Equal((0L, -1000L, 0L, 3L), await BalanceAsync(referrer));
        Assert.Equal(WithdrawalCheck.RefusedNegativeBalance, await CheckWithdrawalAsync(referrer, 1));

        // The next rewards pay the debt first.
        await SettleAsync(await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900), 9900);
        Assert.Equal((0L, 0L, 1000L, 4L), await BalanceAsync(referrer));
        Assert.Equal(WithdrawalCheck.RefusedInsufficient, await CheckWithdrawalAsync(referrer, 1));
        await SettleAsync(await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900), 9900);
        Assert.Equal(WithdrawalCheck.Allowed, await CheckWithdrawalAsync(referrer, 1000));
        await Kit.AssertLedgerInvariantAsync();
    }

    private async Task<WithdrawalCheck> CheckWithdrawalAsync(long userId, long fen)
    {
        await using var c = await Db.DataSource.OpenConnectionAsync();
        await using var tx = await c.BeginTransactionAsync();
        return await RewardLedger.CheckWithdrawalAsync(c, tx, userId, fen, default);
    }

    [Fact]
    public async Task A_refund_recorded_before_the_settlement_is_reversed_by_the_settlement()
    {
        var campaign = await Kit.CampaignAsync(Fixed(1000));
        var referrer = await Kit.ParticipantAsync();
        var order = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);

        await RefundAsync(order.OrderId, 4950, 1);
        await SettleAsync(order, 9900);

        Assert.Equal(("frozen", 1000L, 500L), await RewardAsync(order.OrderId, referrer));
        Assert.Equal((500L, 0L, 500L, 2L), await BalanceAsync(referrer));
        await Kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task Refunds_racing_the_settlement_of_their_orders_end_with_the_right_balances()
    {
        var campaign = await Kit.CampaignAsync(Fixed(1000));
        var referrer = await Kit.ParticipantAsync();
        var orders = new List<(long OrderId, string OutTradeNo)>();
        for (var i = 0; i < 20; i++)
        {
            orders.Add(await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900));
        }

        // Each order's settlement and its half refund's notify at the same moment, in either order of start.
        var store = Store(TimeProvider.System);
        await Task.WhenAll(orders.Select((o, i) => i % 2 == 0
            ? Task.WhenAll(SettleAsync(o, 9900, store), RefundAsync(o.OrderId, 4950, 1, TimeProvider.System))
            : Task.WhenAll(RefundAsync(o.OrderId, 4950, 1, TimeProvider.System), SettleAsync(o, 9900, store))));

        foreach (var o in orders)
        {
            Assert.Equal(("frozen", 1000L, 500L), await RewardAsync(o.OrderId, referrer));
        }

        Assert.Equal((10_000L, 0L, 10_000L, 40L), await BalanceAsync(referrer));
        await Kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task Three_levels_pay_three_beneficiaries_and_a_cycle_pays_none_twice()
    {
        var config = new RewardConfig(0, [
            new RewardLevelRule(RewardTypes.Fixed, AmountFen: 500),
            new RewardLevelRule(RewardTypes.Percentage, BasisPoints: 1000),
            new RewardLevelRule(RewardTypes.Fixed, AmountFen: 100),
        ], RewardCaps.None);
        var campaign = await Kit.CampaignAsync(config);
        var (a, b, c, d) = (await Kit.ParticipantAsync(), await Kit.ParticipantAsync(), await Kit.ParticipantAsync(), await Kit.ParticipantAsync());

        var chain = await Kit.ChainOrderAsync(campaign, d, 9900, c, b, a);
        var result = await SettleAsync(chain, 9900);
        Assert.Equal(4, result.Outbox.Count);
        Assert.Equal(("available", 500L, 0L), await RewardAsync(chain.OrderId, c));
        Assert.Equal(("available", 990L, 0L), await RewardAsync(chain.OrderId, b));
        Assert.Equal(("available", 100L, 0L), await RewardAsync(chain.OrderId, a));
        Assert.Equal(new long[] { 1, 2, 3 }, (await (await Db.DataSource.OpenConnectionAsync()).QueryAsync<long>(
            "SELECT level FROM rewards WHERE order_id = @OrderId ORDER BY level", new { chain.OrderId })).ToArray());

        // a registers through b, whose recorded chain leads back to a: the chain stops before a.
        var cycle = await Kit.ChainOrderAsync(campaign, a, 9900, b, a, c);
        await SettleAsync(cycle, 9900);
        Assert.Equal(1, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM rewards WHERE order_id = @OrderId", new { cycle.OrderId }));
        // A repeated beneficiary is paid once.
        var repeat = await Kit.ChainOrderAsync(campaign, d, 9900, b, c, b);
        await SettleAsync(repeat, 9900);
        Assert.Equal(new[] { b, c }, (await (await Db.DataSource.OpenConnectionAsync()).QueryAsync<long>(
            "SELECT user_id FROM rewards WHERE order_id = @OrderId ORDER BY level", new { repeat.OrderId })).ToArray());
        await Kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task Tiers_count_this_referral_and_caps_hold_at_their_edges()
    {
        var tiered = await Kit.CampaignAsync(new RewardConfig(0,
            [new RewardLevelRule(RewardTypes.Tiered, Tiers: [new RewardTier(1, 500), new RewardTier(3, 800)])], RewardCaps.None));
        var byCount = await Kit.CampaignAsync(Fixed(500, 0, new RewardCaps(Count: 2)));
        var byTotal = await Kit.CampaignAsync(Fixed(500, 0, new RewardCaps(TotalFen: 1200)));
        var referrer = await Kit.ParticipantAsync();

        Assert.Equal(new long[] { 500, 500, 800, 800 }, await RewardsOfAsync(tiered, referrer, 4));
        Assert.Equal(new long[] { 500, 500, 0 }, await RewardsOfAsync(byCount, referrer, 3));
        Assert.Equal(new long[] { 500, 500, 200, 0 }, await RewardsOfAsync(byTotal, referrer, 4));
        await Kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task The_daily_cap_is_per_Beijing_day()
    {
        var campaign = await Kit.CampaignAsync(Fixed(500, 0, new RewardCaps(DailyFen: 700)));
        var referrer = await Kit.ParticipantAsync();
        // 23:59:59.999 in Beijing, then midnight.
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 6, 15, 59, 59, 999, TimeSpan.Zero));
        Assert.Equal(new long[] { 500, 200, 0 }, await RewardsOfAsync(campaign, referrer, 3));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(new long[] { 500, 200 }, await RewardsOfAsync(campaign, referrer, 2));
        await Kit.AssertLedgerInvariantAsync();
    }

    /// <summary>Settles <paramref name="count"/> referrals of one referrer; the reward of each (0 when none).</summary>
    private async Task<long[]> RewardsOfAsync(long campaign, long referrer, int count)
    {
        var amounts = new List<long>();
        for (var i = 0; i < count; i++)
        {
            var order = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
            await SettleAsync(order, 9900);
            amounts.Add(await Kit.ScalarAsync<long>("SELECT COALESCE(SUM(amount_fen), 0) FROM rewards WHERE order_id = @OrderId", new { order.OrderId }));
        }

        return amounts.ToArray();
    }

    [Fact]
    public async Task Concurrent_settlements_and_reversals_for_50_hot_referrers_keep_balance_equal_to_the_ledger_and_version_to_its_rows()
    {
        var config = new RewardConfig(3, [new RewardLevelRule(RewardTypes.Fixed, AmountFen: 700), new RewardLevelRule(RewardTypes.Percentage, BasisPoints: 333)],
            new RewardCaps(TotalFen: 1_000_000));
        var campaign = await Kit.CampaignAsync(config);
        var referrers = new List<long>();
        for (var i = 0; i < 50; i++)
        {
            referrers.Add(await Kit.ParticipantAsync());
        }

        var registrant = await Kit.ParticipantAsync();
        var orders = new List<(long OrderId, string OutTradeNo)>();
        for (var i = 0; i < 400; i++)
        {
            orders.Add(await Kit.ChainOrderAsync(campaign, registrant, 9900, referrers[i % 50], referrers[(i + 7) % 50]));
        }

        var store = Store(TimeProvider.System);
        var work = orders.SelectMany<(long OrderId, string OutTradeNo), Func<Task>>((o, i) => i % 3 == 0
            ? [() => SettleAsync(o, 9900, store), () => RefundAsync(o.OrderId, 1234, 1, TimeProvider.System), () => RefundAsync(o.OrderId, 9900 - 1234, 2, TimeProvider.System)]
            : i % 3 == 1 ? [() => SettleAsync(o, 9900, store), () => RefundAsync(o.OrderId, 5000, 1, TimeProvider.System)]
            : [() => SettleAsync(o, 9900, store)]).ToList();
        await Parallel.ForEachAsync(work.OrderBy(_ => Random.Shared.Next()), new ParallelOptions { MaxDegreeOfParallelism = 12 }, async (w, _) => await w());

        await Kit.AssertLedgerInvariantAsync();
        await using var c = await Db.DataSource.OpenConnectionAsync();
        Assert.Equal(800, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rewards"));
        var wrong = (await c.QueryAsync<(long Id, long Amount, long Reversed, long Refunded)>("""
            SELECT r.id, r.amount_fen, r.reversed_fen, (SELECT COALESCE(SUM(amount_fen), 0) FROM refunds f WHERE f.order_id = r.order_id AND f.status = 'success')
            FROM rewards r
            """)).Where(r => r.Reversed != RewardLedger.Target(r.Amount, r.Refunded, 9900)).ToList();
        Assert.Empty(wrong);
        Assert.Equal(50, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM user_balances"));
    }
}
