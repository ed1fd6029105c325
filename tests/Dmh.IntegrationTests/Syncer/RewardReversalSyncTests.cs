using Dapper;
using Dmh.Contracts;
using Dmh.Ingress.Payments;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.IntegrationTests.Settlement;
using Dmh.Platform.Rewards;
using Dmh.Settlement.Settling;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dmh.IntegrationTests.Syncer;

/// <summary>Issue 17: a refund's reversal of a reward reaches the customer's database as a new row of dmh_reward_reversals.</summary>
public sealed class RewardReversalSyncTests() : SyncTestBase(TargetKind.MySql)
{
    private async Task<string> RefundAsync(SettlementKit kit, long orderId, long fen, int n)
    {
        var outRefundNo = $"R{orderId}-{n}";
        await using (var c = await Db.DataSource.OpenConnectionAsync())
        {
            var (paymentId, outTradeNo, totalFen) = await c.QuerySingleAsync<(long, string, long)>(
                "SELECT id, out_trade_no, amount_fen FROM payments WHERE order_id = @orderId", new { orderId });
            await c.ExecuteAsync("""
                INSERT INTO refunds (order_id, payment_id, out_trade_no, out_refund_no, amount_fen, total_fen, status)
                VALUES (@orderId, @paymentId, @outTradeNo, @outRefundNo, @fen, @totalFen, 'processing')
                """, new { orderId, paymentId, outTradeNo, outRefundNo, fen, totalFen });
        }

        await NotifyAsync(outRefundNo);
        return outRefundNo;
    }

    private async Task NotifyAsync(string outRefundNo) =>
        Assert.True(await new PaymentStore(Db.DataSource, TimeProvider.System).RecordRefundNotifyAsync(outRefundNo, "50" + outRefundNo, RefundStatus.Success, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, default));

    private async Task<long> SyncedReversalsAsync()
    {
        await using var c = await Db.DataSource.OpenConnectionAsync();
        return await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM sync_records WHERE entity = 'reversal' AND status = 'synced'");
    }

    [Fact]
    public async Task A_refunds_reversal_lands_in_the_target_exactly_once_also_after_a_retry()
    {
        var kit = new SettlementKit(Db, Redis, Prefix);
        var campaign = await kit.CampaignAsync(new RewardConfig(7, [new RewardLevelRule(RewardTypes.Fixed, AmountFen: 1000)], RewardCaps.None));
        var referrer = await kit.ParticipantAsync();
        var order = await kit.OrderAsync(campaign, await kit.ParticipantAsync(), referrer, 9900);
        IReadOnlyList<SyncRequested> outboxOfSettlement;
        await using (var c = await Db.DataSource.OpenConnectionAsync())
        {
            var store = new SettlementStore(Options.Create(new SettlementOptions()), TimeProvider.System, NullLogger<SettlementStore>.Instance);
            var settled = await store.SettleAsync(c, SettlementKit.Payment(order.OutTradeNo, 9900), default);
            Assert.Equal(SettleOutcome.Settled, settled.Outcome);
            outboxOfSettlement = settled.Outbox;
        }

        var first = await RefundAsync(kit, order.OrderId, 3300, 1);
        await NotifyAsync(first);

        // Written with the reversal, in its transaction: one outbox row per reversal, not yet published.
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        var outbox = (await connection.QueryAsync<(long EntityId, long OrderId, DateTime? PublishedAt)>(
            "SELECT entity_id, order_id, published_at FROM sync_records WHERE entity = 'reversal'")).ToList();
        var record = Assert.Single(outbox);
        Assert.Equal(order.OrderId, record.OrderId);
        Assert.Null(record.PublishedAt);
        Assert.Equal(record.EntityId, await connection.ExecuteScalarAsync<long>(
            "SELECT id FROM reward_ledger WHERE kind = 'reversal' AND order_id = @OrderId", new { order.OrderId }));

        await using var syncer = new ServiceFactory<Dmh.Syncer.EntryPoint>(Db, Prefix, Target.SyncSettings());
        _ = syncer.Services;
        // The store commits its outbox rows as published; publishing them is the settlement handler's part, done here.
        foreach (var item in outboxOfSettlement)
        {
            await SyncSeed.PublishAsync(Redis.GetDatabase(), Prefix, item.Entity, [item.Id]);
        }

        await SyncSeed.WaitUntilAsync(async () => await SyncedReversalsAsync() == 1);

        await using var target = Target.Open();
        await target.OpenAsync();
        var row = await target.QuerySingleAsync<(long RewardId, long OrderId, string OutRefundNo, decimal Amount)>(
            "SELECT dmh_reward_id, dmh_order_id, out_refund_no, reversed_amount FROM dmh_reward_reversals WHERE dmh_reversal_id = @EntityId", new { record.EntityId });
        var rewardId = await connection.ExecuteScalarAsync<long>("SELECT id FROM rewards WHERE order_id = @OrderId", new { order.OrderId });
        Assert.Equal((rewardId, order.OrderId, first, 3.33m), row);
        // The reward's own row is never updated by a refund.
        Assert.Equal(10.00m, await target.ExecuteScalarAsync<decimal>("SELECT reward_amount FROM dmh_rewards WHERE dmh_reward_id = @rewardId", new { rewardId }));

        // An operator's retry and a duplicate request copy nothing twice.
        await connection.ExecuteAsync("UPDATE sync_records SET status = 'pending', published_at = NULL, committed_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE WHERE entity = 'reversal'");
        await SyncSeed.PublishAsync(Redis.GetDatabase(), Prefix, SyncEntities.Reversal, [record.EntityId, record.EntityId]);
        await SyncSeed.WaitUntilAsync(async () => await SyncedReversalsAsync() == 1);

        // The rest of the order refunded: a second reversal, a second row.
        await RefundAsync(kit, order.OrderId, 6600, 2);
        await SyncSeed.WaitUntilAsync(async () => await SyncedReversalsAsync() == 2);
        Assert.Equal(2, await Target.ScalarAsync("SELECT COUNT(*) FROM dmh_reward_reversals"));
        Assert.Equal(2, await Target.ScalarAsync("SELECT COUNT(DISTINCT dmh_reversal_id) FROM dmh_reward_reversals"));
        Assert.Equal(1000, await Target.ScalarAsync("SELECT CAST(SUM(reversed_amount) * 100 AS SIGNED) FROM dmh_reward_reversals"));
        await kit.AssertLedgerInvariantAsync();
    }
}
