using Dapper;
using Dmh.Contracts;
using Dmh.Platform.Rewards;
using Dmh.Settlement.Settling;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dmh.IntegrationTests.Settlement;

/// <summary>Issue 23: many payments settled in one transaction, against the real MariaDB and Redis.</summary>
public sealed class SettlementBatchTests : SettlementTestBase
{
    private static SettlementStore Store(SettlementOptions? options = null) =>
        new(Options.Create(options ?? new SettlementOptions()), TimeProvider.System, NullLogger<SettlementStore>.Instance);

    private async Task<IReadOnlyList<PaymentOutcome>> SettleBatchAsync(IReadOnlyList<PaymentSucceeded> payments)
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        return await Store().SettleBatchAsync(connection, payments, default);
    }

    private static RewardConfig Fixed(long fen, int holdDays = 7, RewardCaps? caps = null) =>
        new(holdDays, [new RewardLevelRule(RewardTypes.Fixed, AmountFen: fen)], caps ?? RewardCaps.None);

    [Fact]
    public async Task Duplicates_inside_one_batch_settle_once_and_a_second_attempt_of_a_settled_order_is_a_repeated_payment()
    {
        var campaign = await Kit.CampaignAsync(Fixed(1000));
        var referrer = await Kit.ParticipantAsync();
        var a = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        var b = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        var c = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        var secondAttempt = $"D{b.OrderId}A2";
        await using (var seed = await Db.DataSource.OpenConnectionAsync())
        {
            await seed.ExecuteAsync("""
                INSERT INTO payments (order_id, attempt, out_trade_no, channel, amount_fen, status) VALUES (@OrderId, 2, @secondAttempt, 'jsapi', 9900, 'prepaid')
                """, new { b.OrderId, secondAttempt });
        }

        var doubleBefore = SettlementMetrics.DoublePayments.Value;
        var outcomes = await SettleBatchAsync([
            SettlementKit.Payment(a.OutTradeNo, 9900), SettlementKit.Payment(b.OutTradeNo, 9900), SettlementKit.Payment(a.OutTradeNo, 9900),
            SettlementKit.Payment(c.OutTradeNo, 9900), SettlementKit.Payment(secondAttempt, 9900), SettlementKit.Payment(a.OutTradeNo, 9900),
        ]);

        Assert.All(outcomes, o => Assert.Null(o.Error));
        Assert.Equal(
            [SettleOutcome.Settled, SettleOutcome.Settled, SettleOutcome.Duplicate, SettleOutcome.Settled, SettleOutcome.Duplicate, SettleOutcome.Duplicate],
            outcomes.Select(o => o.Result!.Outcome).ToArray());
        Assert.Equal([a.OrderId, b.OrderId, a.OrderId, c.OrderId, b.OrderId, a.OrderId], outcomes.Select(o => o.Result!.OrderId).ToArray());
        Assert.All(outcomes.Where(o => o.Result!.Outcome == SettleOutcome.Settled), o => Assert.Equal(2, o.Result!.Outbox.Count));
        Assert.Equal(3, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM rewards WHERE user_id = @referrer", new { referrer }));
        Assert.Equal(3, await Kit.ScalarAsync<long>("SELECT version FROM user_balances WHERE user_id = @referrer", new { referrer }));
        Assert.Equal(3000, await Kit.ScalarAsync<long>("SELECT frozen_fen FROM user_balances WHERE user_id = @referrer", new { referrer }));
        Assert.Equal(6, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM sync_records"));
        // The second attempt of b was paid too: recorded as succeeded and counted as a double payment (an operator refunds one).
        Assert.Equal("succeeded", await Kit.ScalarAsync<string>("SELECT status FROM payments WHERE out_trade_no = @secondAttempt", new { secondAttempt }));
        Assert.Equal(doubleBefore + 1, SettlementMetrics.DoublePayments.Value);
        await Kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task Tiers_and_caps_count_the_payments_before_them_in_the_same_batch()
    {
        var tiered = await Kit.CampaignAsync(new RewardConfig(0,
            [new RewardLevelRule(RewardTypes.Tiered, Tiers: [new RewardTier(1, 500), new RewardTier(3, 800)])], RewardCaps.None));
        var byTotal = await Kit.CampaignAsync(Fixed(500, 0, new RewardCaps(TotalFen: 1200)));
        var referrer = await Kit.ParticipantAsync();
        var orders = new List<(long OrderId, string OutTradeNo)>();
        for (var i = 0; i < 4; i++)
        {
            orders.Add(await Kit.OrderAsync(tiered, await Kit.ParticipantAsync(), referrer, 9900));
            orders.Add(await Kit.OrderAsync(byTotal, await Kit.ParticipantAsync(), referrer, 9900));
        }

        var outcomes = await SettleBatchAsync([.. orders.Select(o => SettlementKit.Payment(o.OutTradeNo, 9900))]);

        Assert.All(outcomes, o => Assert.Equal(SettleOutcome.Settled, o.Result?.Outcome));
        var amounts = new List<long>();
        foreach (var order in orders)
        {
            amounts.Add(await Kit.ScalarAsync<long>("SELECT COALESCE(SUM(amount_fen), 0) FROM rewards WHERE order_id = @OrderId", new { order.OrderId }));
        }

        // The same as settling them one by one (RewardLedgerTests.Tiers_count_this_referral_and_caps_hold_at_their_edges).
        Assert.Equal(new long[] { 500, 500, 500, 500, 800, 200, 800, 0 }, amounts.ToArray());
        Assert.Equal(7, await Kit.ScalarAsync<long>("SELECT version FROM user_balances WHERE user_id = @referrer", new { referrer }));
        await Kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task A_statement_failing_after_the_first_result_set_fails_the_transaction_without_killing_the_query()
    {
        // The sync outbox insert runs after the balances' locked read, the first result set of the
        // transaction's second round trip: a deadlock there used to make Dapper cancel the command on
        // disposal (KILL QUERY, then a blocking wait for SLEEP(0) that under load never ended).
        var campaign = await Kit.CampaignAsync(Fixed(1000));
        var referrer = await Kit.ParticipantAsync();
        var good = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        var poisoned = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        await using var admin = await Db.DataSource.OpenConnectionAsync();
        await admin.ExecuteAsync($"""
            CREATE TRIGGER test_sync_records_deadlock BEFORE INSERT ON sync_records FOR EACH ROW
            BEGIN
              IF NEW.order_id = {poisoned.OrderId} THEN
                SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'test: deadlock in the outbox insert';
              END IF;
            END
            """);
        try
        {
            var killsBefore = await KillsAsync(admin);
            var store = Store(new SettlementOptions { MaxTransactionRetries = 1 });
            IReadOnlyList<PaymentOutcome> outcomes;
            await using (var connection = await Db.DataSource.OpenConnectionAsync())
            {
                var settling = store.SettleBatchAsync(connection,
                    [SettlementKit.Payment(good.OutTradeNo, 9900), SettlementKit.Payment(poisoned.OutTradeNo, 9900)], default);
                // Answers at all: before the fix it could wait forever on the killed query.
                Assert.Same(settling, await Task.WhenAny(settling, Task.Delay(TimeSpan.FromSeconds(60))));
                outcomes = await settling;
            }

            Assert.Equal(0, await KillsAsync(admin) - killsBefore);
            Assert.Equal(SettleOutcome.Settled, outcomes[0].Result?.Outcome);
            Assert.Contains("test: deadlock", outcomes[1].Error?.Message, StringComparison.Ordinal);
            Assert.Equal("paid", await Kit.ScalarAsync<string>("SELECT pay_status FROM orders WHERE id = @OrderId", new { good.OrderId }));
            Assert.Equal("unpaid", await Kit.ScalarAsync<string>("SELECT pay_status FROM orders WHERE id = @OrderId", new { poisoned.OrderId }));
            Assert.Equal(1, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM rewards WHERE user_id = @referrer", new { referrer }));
        }
        finally
        {
            await admin.ExecuteAsync("DROP TRIGGER IF EXISTS test_sync_records_deadlock");
        }

        await Kit.AssertLedgerInvariantAsync();
    }

    private static async Task<long> KillsAsync(MySqlConnector.MySqlConnection connection) =>
        long.Parse((await connection.QuerySingleAsync<(string Name, string Value)>("SHOW GLOBAL STATUS LIKE 'Com_kill'")).Value, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_poison_entry_in_a_batch_of_100_is_dead_lettered_alone_while_the_other_99_settle()
    {
        var campaign = await Kit.CampaignAsync(fixedYuan: 1m);
        var referrers = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            referrers.Add(await Kit.ParticipantAsync());
        }

        var registrant = await Kit.ParticipantAsync();
        var payments = new List<PaymentSucceeded>();
        for (var i = 0; i < 100; i++)
        {
            var (_, outTradeNo) = await Kit.OrderAsync(campaign, registrant, referrers[i % 5], 9900);
            payments.Add(SettlementKit.Payment(outTradeNo, 9900));
        }

        // Entry 60 carries the transaction id of entry 10: orders.trade_no is unique, so the batch's
        // statement fails as a whole; nothing in the entry itself says so before it is written.
        var poison = payments[60] = payments[60] with { TransactionId = payments[10].TransactionId };
        foreach (var payment in payments)
        {
            await Kit.PublishAsync(payment);
        }

        var splitsBefore = SettlementMetrics.Splits.Value;
        var settings = Kit.Settings("w", claimIdle: "00:00:00.200", maxDeliveries: 2);
        settings["Settlement:MaxParallelism"] = "1";
        settings["Settlement:MaxPaymentsPerTransaction"] = "100";
        using var worker = await SettlementKit.StartWorkerAsync(settings);
        await SettlementKit.WaitUntilAsync(async () => await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM dead_letters") == 1 && await Kit.PendingAsync() == 0);
        await worker.StopAsync();

        Assert.Equal(99, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM orders WHERE pay_status = 'paid'"));
        Assert.Equal("unpaid", await Kit.ScalarAsync<string>("SELECT o.pay_status FROM orders o JOIN payments p ON p.order_id = o.id WHERE p.out_trade_no = @OutTradeNo",
            new { poison.OutTradeNo }));
        Assert.Equal(99, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM rewards"));
        Assert.Contains("uk_orders_trade_no", await Kit.ScalarAsync<string>("SELECT error FROM dead_letters"), StringComparison.Ordinal);
        Assert.True(SettlementMetrics.Splits.Value > splitsBefore, "the batch was settled in halves");
        await Kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task A_batch_waiting_on_a_concurrent_reversal_credits_on_top_of_it()
    {
        var campaign = await Kit.CampaignAsync(Fixed(1000));
        var referrer = await Kit.ParticipantAsync();
        var other = await Kit.ParticipantAsync();
        var refunded = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        Assert.Single(await SettleBatchAsync([SettlementKit.Payment(refunded.OutTradeNo, 9900)]), o => o.Result?.Outcome == SettleOutcome.Settled);
        var batch = new List<PaymentSucceeded>();
        for (var i = 0; i < 10; i++)
        {
            batch.Add(SettlementKit.Payment((await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), i % 2 == 0 ? referrer : other, 9900)).OutTradeNo, 9900));
        }

        // A refund's reversal of the first order holds the referrer's balance, uncommitted, while the
        // batch reads the version and then waits for the row.
        await using var refund = await Db.DataSource.OpenConnectionAsync();
        await using var tx = await refund.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted);
        var (paymentId, outTradeNo) = await refund.QuerySingleAsync<(long, string)>("SELECT id, out_trade_no FROM payments WHERE order_id = @OrderId", new { refunded.OrderId }, tx);
        var refundId = await refund.ExecuteScalarAsync<long>("""
            INSERT INTO refunds (order_id, payment_id, out_trade_no, out_refund_no, amount_fen, total_fen, status)
            VALUES (@OrderId, @paymentId, @outTradeNo, @outRefundNo, 4950, 9900, 'success');
            SELECT LAST_INSERT_ID();
            """, new { refunded.OrderId, paymentId, outTradeNo, outRefundNo = $"R{refunded.OrderId}" }, tx);
        Assert.Single(await RewardLedger.ReverseOrderAsync(refund, tx, refunded.OrderId, refundId.ToString(System.Globalization.CultureInfo.InvariantCulture), refundId, DateTime.UtcNow, default));

        var conflictsBefore = SettlementMetrics.LockConflicts.Value;
        var settling = SettleBatchAsync(batch);
        // The batch waits where it first meets the held row: creating the other beneficiary's balance, or locking both.
        await Db.WaitForLockWaitAsync(settling, "INSERT INTO user_balances", "SELECT user_id, version FROM user_balances");
        await tx.CommitAsync();
        var outcomes = await settling;

        Assert.All(outcomes, o => Assert.Equal(SettleOutcome.Settled, o.Result?.Outcome));
        Assert.True(SettlementMetrics.LockConflicts.Value > conflictsBefore, "the changed version was seen and the balance updated again");
        await using var c = await Db.DataSource.OpenConnectionAsync();
        // 1,000 frozen, half reversed, then five more rewards: 5,500 fen in 1 + 1 + 5 ledger rows.
        Assert.Equal((5500L, 7L), await c.QuerySingleAsync<(long, long)>("SELECT frozen_fen, version FROM user_balances WHERE user_id = @referrer", new { referrer }));
        Assert.Equal((5000L, 5L), await c.QuerySingleAsync<(long, long)>("SELECT frozen_fen, version FROM user_balances WHERE user_id = @other", new { other }));
        await Kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task A_batch_with_entries_that_cannot_settle_commits_the_rest_in_one_transaction()
    {
        var campaign = await Kit.CampaignAsync(fixedYuan: 2m);
        var referrer = await Kit.ParticipantAsync();
        var good = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        var wrongAmount = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        var neverPrepaid = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        await using (var seed = await Db.DataSource.OpenConnectionAsync())
        {
            await seed.ExecuteAsync("UPDATE payments SET status = 'created' WHERE order_id = @OrderId", new { neverPrepaid.OrderId });
        }

        var splitsBefore = SettlementMetrics.Splits.Value;
        var outcomes = await SettleBatchAsync([
            SettlementKit.Payment("NO-SUCH-ATTEMPT", 9900), SettlementKit.Payment(wrongAmount.OutTradeNo, 1),
            SettlementKit.Payment(neverPrepaid.OutTradeNo, 9900), SettlementKit.Payment(good.OutTradeNo, 9900),
        ]);

        Assert.IsType<SettlementRejectedException>(outcomes[0].Error);
        Assert.Contains("disagrees", Assert.IsType<SettlementRejectedException>(outcomes[1].Error).Message, StringComparison.Ordinal);
        Assert.IsType<AttemptNeverPrepaidException>(outcomes[2].Error);
        Assert.Equal(SettleOutcome.Settled, outcomes[3].Result?.Outcome);
        Assert.Equal(splitsBefore, SettlementMetrics.Splits.Value);
        Assert.Equal(1, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM orders WHERE pay_status = 'paid'"));
        await Kit.AssertLedgerInvariantAsync();
    }
}
