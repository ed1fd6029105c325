using System.Collections.Concurrent;
using Dapper;
using Dmh.Contracts;
using Dmh.WechatPay;
using Microsoft.Extensions.DependencyInjection;

namespace Dmh.IntegrationTests.Settlement;

/// <summary>The reconciliation job with a fake provider (an external service); MySQL and Redis are real.</summary>
public sealed class ReconciliationTests : SettlementTestBase
{
    private readonly FakeProvider _provider = new();

    [Fact]
    public async Task Success_at_the_provider_settles_once_without_publishing_to_the_payments_stream()
    {
        var campaign = await Kit.CampaignAsync(fixedYuan: 8m);
        var referrer = await Kit.ParticipantAsync();
        var (orderId, outTradeNo) = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900, DateTime.UtcNow.AddMinutes(-10));
        var fresh = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        _provider.States[outTradeNo] = new TradeQueryResult(TradeQueryResult.Success, "4200009999", 9900, 9000, DateTimeOffset.UtcNow, "wx", "mch");
        _provider.States[fresh.OutTradeNo] = new TradeQueryResult(TradeQueryResult.Success, "4200008888", 9900, 9900, DateTimeOffset.UtcNow, "wx", "mch");

        using var worker = await StartAsync();
        await SettlementKit.WaitUntilAsync(async () => await Kit.ScalarAsync<string>("SELECT pay_status FROM orders WHERE id = @orderId", new { orderId }) == "paid");
        // A few more sweeps: a paid attempt is no longer asked about, and the duplicate would be a no-op anyway.
        await Task.Delay(500);
        Assert.Equal(1, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM rewards WHERE order_id = @orderId", new { orderId }));
        Assert.Equal(8m, await Kit.ScalarAsync<decimal>("SELECT balance FROM user_balances WHERE user_id = @referrer", new { referrer }));
        Assert.Equal("4200009999", await Kit.ScalarAsync<string>("SELECT trade_no FROM orders WHERE id = @orderId", new { orderId }));
        // Settled through the settlement handler directly: Settlement's Redis user may not add to the payments stream.
        Assert.Empty(await Kit.Redis.StreamRangeAsync(Kit.Prefix + StreamNames.Payments));
        Assert.Equal(9000, await Kit.ScalarAsync<long>("SELECT payer_total_fen FROM payments WHERE out_trade_no = @outTradeNo", new { outTradeNo }));
        await SettlementKit.WaitUntilAsync(async () => await Kit.Redis.StreamLengthAsync(Kit.Prefix + StreamNames.Sync) == 2);
        Assert.DoesNotContain(_provider.Queries, q => q == fresh.OutTradeNo);
        Assert.Equal("unpaid", await Kit.ScalarAsync<string>("SELECT pay_status FROM orders WHERE id = @id", new { id = fresh.OrderId }));
        await worker.StopAsync();
    }

    [Fact]
    public async Task Notpay_past_expiry_closes_at_the_provider_then_locally_and_order_not_exist_leaves_the_order()
    {
        var campaign = await Kit.CampaignAsync();
        var expired = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), 0, 9900, DateTime.UtcNow.AddHours(-3));
        var young = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), 0, 9900, DateTime.UtcNow.AddMinutes(-10));
        var unknown = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), 0, 9900, DateTime.UtcNow.AddHours(-3));
        var refunded = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), 0, 9900, DateTime.UtcNow.AddHours(-3));
        _provider.States[expired.OutTradeNo] = new TradeQueryResult(TradeQueryResult.NotPay, null, null, null, null, null, null);
        _provider.States[young.OutTradeNo] = new TradeQueryResult(TradeQueryResult.NotPay, null, null, null, null, null, null);
        _provider.States[unknown.OutTradeNo] = new TradeQueryResult(TradeQueryResult.OrderNotExist, null, null, null, null, null, null);
        _provider.States[refunded.OutTradeNo] = new TradeQueryResult(TradeQueryResult.Refund, "42000077", 9900, 9900, null, null, null);

        using var worker = await StartAsync();
        await SettlementKit.WaitUntilAsync(async () => await Kit.ScalarAsync<string>("SELECT status FROM orders WHERE id = @id", new { id = expired.OrderId }) == "closed");
        await SettlementKit.WaitUntilAsync(() => Task.FromResult(_provider.Queries.Contains(unknown.OutTradeNo) && _provider.Queries.Contains(refunded.OutTradeNo)));
        // Several more sweeps: each attempt is asked about once per QueryAfter, not on every sweep.
        await Task.Delay(500);
        Assert.Equal(1, _provider.Queries.Count(q => q == unknown.OutTradeNo));

        Assert.Equal([expired.OutTradeNo], _provider.Closed.ToArray());
        Assert.Equal("closed", await Kit.ScalarAsync<string>("SELECT status FROM payments WHERE out_trade_no = @o", new { o = expired.OutTradeNo }));
        Assert.Equal("unpaid", await Kit.ScalarAsync<string>("SELECT pay_status FROM orders WHERE id = @id", new { id = expired.OrderId }));
        foreach (var untouched in new[] { young, unknown, refunded })
        {
            Assert.Equal("pending", await Kit.ScalarAsync<string>("SELECT status FROM orders WHERE id = @id", new { id = untouched.OrderId }));
            Assert.Equal("prepaid", await Kit.ScalarAsync<string>("SELECT status FROM payments WHERE out_trade_no = @o", new { o = untouched.OutTradeNo }));
        }

        await worker.StopAsync();
    }

    [Fact]
    public async Task An_attempt_settlement_keeps_refusing_is_asked_about_with_growing_pauses_then_marked()
    {
        var campaign = await Kit.CampaignAsync();
        var (orderId, outTradeNo) = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), 0, 9900, DateTime.UtcNow.AddMinutes(-10));
        // The provider's amount disagrees with the attempt's: settlement refuses it every time.
        _provider.States[outTradeNo] = new TradeQueryResult(TradeQueryResult.Success, "4200007777", 9800, 9800, DateTimeOffset.UtcNow, "wx", "mch");

        using var worker = await StartAsync(queryAfter: "00:00:00.050", maxRefusals: 3);
        await SettlementKit.WaitUntilAsync(async () => await Kit.ScalarAsync<DateTime?>(
            "SELECT reconcile_stopped_at FROM payments WHERE out_trade_no = @outTradeNo", new { outTradeNo }) is not null);
        Assert.Equal(3, await Kit.ScalarAsync<int>("SELECT reconcile_refusals FROM payments WHERE out_trade_no = @outTradeNo", new { outTradeNo }));
        var asked = _provider.Queries.Count(q => q == outTradeNo);
        // Many more sweeps: a marked attempt is asked about no more.
        await Task.Delay(1000);
        Assert.Equal(3, asked);
        Assert.Equal(asked, _provider.Queries.Count(q => q == outTradeNo));
        Assert.Equal("unpaid", await Kit.ScalarAsync<string>("SELECT pay_status FROM orders WHERE id = @orderId", new { orderId }));
        Assert.Empty(await Kit.Redis.StreamRangeAsync(Kit.Prefix + StreamNames.Payments));
        await worker.StopAsync();
    }

    [Fact]
    public async Task Reconciliation_runs_when_no_setting_mentions_it()
    {
        var campaign = await Kit.CampaignAsync();
        var (orderId, outTradeNo) = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), 0, 9900, DateTime.UtcNow.AddMinutes(-10));
        _provider.States[outTradeNo] = new TradeQueryResult(TradeQueryResult.Success, "4200007777", 9900, 9900, DateTimeOffset.UtcNow, "wx", "mch");
        var settings = new Dictionary<string, string?>(Kit.Settings("recon-default"))
        {
            ["Reconciliation:Interval"] = "00:00:00.050",
            ["Reconciliation:QueryAfter"] = "00:05:00",
        };
        settings.Remove("Reconciliation:Enabled");

        using var worker = await SettlementKit.StartWorkerAsync(settings, services => services.AddSingleton<IPaymentProvider>(_provider));
        await SettlementKit.WaitUntilAsync(async () => await Kit.ScalarAsync<string>("SELECT pay_status FROM orders WHERE id = @orderId", new { orderId }) == "paid");
        await worker.StopAsync();
    }

    [Fact]
    public async Task Reconciliation_set_off_explicitly_asks_nothing()
    {
        var campaign = await Kit.CampaignAsync();
        var (_, outTradeNo) = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), 0, 9900, DateTime.UtcNow.AddMinutes(-10));
        _provider.States[outTradeNo] = new TradeQueryResult(TradeQueryResult.NotPay, null, null, null, null, null, null);

        using var worker = await SettlementKit.StartWorkerAsync(new Dictionary<string, string?>(Kit.Settings("recon-off"))
        {
            ["Reconciliation:Interval"] = "00:00:00.050",
        }, services => services.AddSingleton<IPaymentProvider>(_provider));
        await Task.Delay(500);
        Assert.Empty(_provider.Queries);
        await worker.StopAsync();
    }

    [Fact]
    public async Task A_sweep_is_skipped_while_another_instance_holds_the_lock()
    {
        var campaign = await Kit.CampaignAsync();
        var (_, outTradeNo) = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), 0, 9900, DateTime.UtcNow.AddMinutes(-10));
        _provider.States[outTradeNo] = new TradeQueryResult(TradeQueryResult.NotPay, null, null, null, null, null, null);
        await using var holder = await Db.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await holder.ExecuteScalarAsync<long>("SELECT GET_LOCK(CONCAT('dmh_reconciliation:', DATABASE()), 0)"));

        using var worker = await StartAsync();
        await Task.Delay(600);
        Assert.Empty(_provider.Queries);
        await holder.ExecuteScalarAsync<long>("SELECT RELEASE_LOCK(CONCAT('dmh_reconciliation:', DATABASE()))");
        await SettlementKit.WaitUntilAsync(() => Task.FromResult(!_provider.Queries.IsEmpty));
        await worker.StopAsync();
    }

    [Fact]
    public async Task A_refund_whose_notify_was_lost_is_found_at_the_provider_and_reverses_the_rewards_once()
    {
        var campaign = await Kit.CampaignAsync(new Dmh.Platform.Rewards.RewardConfig(7,
            [new Dmh.Platform.Rewards.RewardLevelRule(RewardTypes.Fixed, AmountFen: 1000)], Dmh.Platform.Rewards.RewardCaps.None));
        var referrer = await Kit.ParticipantAsync();
        var order = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        await using (var c = await Db.DataSource.OpenConnectionAsync())
        {
            var store = new Dmh.Settlement.Settling.SettlementStore(Microsoft.Extensions.Options.Options.Create(new Dmh.Settlement.Settling.SettlementOptions()),
                TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<Dmh.Settlement.Settling.SettlementStore>.Instance);
            await store.SettleAsync(c, SettlementKit.Payment(order.OutTradeNo, 9900), default);
            // Three refunds WeChat accepted (processing) whose notify never came, asked about after QueryAfter.
            await c.ExecuteAsync("""
                INSERT INTO refunds (order_id, payment_id, out_trade_no, out_refund_no, amount_fen, total_fen, status, created_at)
                SELECT order_id, id, out_trade_no, CONCAT('R', order_id, '-', n.n), n.fen, amount_fen, 'processing', UTC_TIMESTAMP(3) - INTERVAL 10 MINUTE
                FROM payments, (SELECT 1 AS n, 3300 AS fen UNION ALL SELECT 2, 1100 UNION ALL SELECT 3, 2200) n
                WHERE payments.order_id = @OrderId
                """, new { order.OrderId });
        }

        var success = $"R{order.OrderId}-1";
        _provider.Refunds[success] = new RefundQueryResult("SUCCESS", "5030001", DateTimeOffset.UtcNow);
        _provider.Refunds[$"R{order.OrderId}-2"] = new RefundQueryResult("PROCESSING", "5030002", null);
        _provider.Refunds[$"R{order.OrderId}-3"] = new RefundQueryResult("CLOSED", "5030003", null);

        using var worker = await StartAsync();
        await SettlementKit.WaitUntilAsync(async () => await Kit.ScalarAsync<string>("SELECT status FROM refunds WHERE out_refund_no = @success", new { success }) == "success");
        await SettlementKit.WaitUntilAsync(async () => await Kit.ScalarAsync<string>("SELECT status FROM refunds WHERE out_refund_no = @o", new { o = $"R{order.OrderId}-3" }) == "closed");
        await Task.Delay(500);

        // 3300 of 9900 refunded: a third of the 10.00 reward, floored, reversed once however many sweeps ran.
        Assert.Equal(333, await Kit.ScalarAsync<long>("SELECT reversed_fen FROM rewards WHERE order_id = @OrderId", new { order.OrderId }));
        Assert.Equal(1, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM reward_ledger WHERE kind = 'reversal' AND order_id = @OrderId", new { order.OrderId }));
        Assert.Equal(667, await Kit.ScalarAsync<long>("SELECT frozen_fen FROM user_balances WHERE user_id = @referrer", new { referrer }));
        Assert.Equal("processing", await Kit.ScalarAsync<string>("SELECT status FROM refunds WHERE out_refund_no = @o", new { o = $"R{order.OrderId}-2" }));
        Assert.Equal("5030001", await Kit.ScalarAsync<string>("SELECT refund_id FROM refunds WHERE out_refund_no = @success", new { success }));
        // Asked about once per QueryAfter (5 min here), not on every sweep.
        Assert.Equal(1, _provider.RefundQueries.Count(q => q == $"R{order.OrderId}-2"));

        // The notify arriving late after all changes nothing more.
        Assert.True(await new Dmh.Ingress.Payments.PaymentStore(Db.DataSource, TimeProvider.System)
            .RecordRefundNotifyAsync(success, "5030001", "success", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, default));
        Assert.Equal(1, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM reward_ledger WHERE kind = 'reversal' AND order_id = @OrderId", new { order.OrderId }));
        await Kit.AssertLedgerInvariantAsync();
        await worker.StopAsync();
    }

    private Task<Microsoft.Extensions.Hosting.IHost> StartAsync(string queryAfter = "00:05:00", int maxRefusals = 5) =>
        SettlementKit.StartWorkerAsync(new Dictionary<string, string?>(Kit.Settings("recon"))
        {
            ["Reconciliation:Enabled"] = "true",
            ["Reconciliation:Interval"] = "00:00:00.050",
            ["Reconciliation:QueryAfter"] = queryAfter,
            ["Reconciliation:ExpireAfter"] = "02:00:00",
            ["Reconciliation:MaxRefusals"] = maxRefusals.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, services => services.AddSingleton<IPaymentProvider>(_provider));

    private sealed class FakeProvider : IPaymentProvider
    {
        public ConcurrentDictionary<string, TradeQueryResult> States { get; } = new();

        public ConcurrentQueue<string> Queries { get; } = new();

        public ConcurrentQueue<string> Closed { get; } = new();

        public Task<TradeQueryResult> QueryAsync(string outTradeNo, CancellationToken ct)
        {
            Queries.Enqueue(outTradeNo);
            return Task.FromResult(States.TryGetValue(outTradeNo, out var state)
                ? state
                : new TradeQueryResult(TradeQueryResult.OrderNotExist, null, null, null, null, null, null));
        }

        public Task CloseAsync(string outTradeNo, CancellationToken ct)
        {
            Closed.Enqueue(outTradeNo);
            States[outTradeNo] = new TradeQueryResult(TradeQueryResult.Closed, null, null, null, null, null, null);
            return Task.CompletedTask;
        }

        public Task<JsapiPrepay> PrepayJsapiAsync(PrepayRequest request, string openid, CancellationToken ct) =>
            throw new InvalidOperationException("not used by reconciliation");

        public Task<H5Prepay> PrepayH5Async(PrepayRequest request, string payerClientIp, CancellationToken ct) =>
            throw new InvalidOperationException("not used by reconciliation");

        public Task<RefundResult> RefundAsync(RefundRequest request, CancellationToken ct) =>
            throw new InvalidOperationException("not used by reconciliation");

        public ConcurrentDictionary<string, RefundQueryResult> Refunds { get; } = new();

        public ConcurrentQueue<string> RefundQueries { get; } = new();

        public Task<RefundQueryResult> QueryRefundAsync(string outRefundNo, CancellationToken ct)
        {
            RefundQueries.Enqueue(outRefundNo);
            return Task.FromResult(Refunds.TryGetValue(outRefundNo, out var refund) ? refund : new RefundQueryResult(RefundQueryResult.NotExist, null, null));
        }
    }
}
