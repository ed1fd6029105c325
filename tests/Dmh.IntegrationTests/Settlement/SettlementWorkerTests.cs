using Dapper;
using Dmh.Contracts;
using Dmh.Settlement.Settling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.Settlement;

/// <summary>The settlement worker against the real Redis and MariaDB.</summary>
public sealed class SettlementWorkerTests : SettlementTestBase
{
    [Fact]
    public async Task Duplicate_notify_delivered_five_times_concurrently_and_sequentially_settles_once()
    {
        var campaign = await Kit.CampaignAsync(fixedYuan: 12.34m);
        var referrer = await Kit.ParticipantAsync();
        var concurrent = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        var sequential = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);

        using var a = await SettlementKit.StartWorkerAsync(Kit.Settings("a"));
        using var b = await SettlementKit.StartWorkerAsync(Kit.Settings("b"));
        var payment = SettlementKit.Payment(concurrent.OutTradeNo, 9900);
        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Kit.PublishAsync(payment)));
        var again = SettlementKit.Payment(sequential.OutTradeNo, 9900);
        for (var i = 0; i < 5; i++)
        {
            await Kit.PublishAsync(again);
            await SettlementKit.WaitUntilAsync(async () => await Kit.PendingAsync() == 0);
        }

        await SettlementKit.WaitUntilAsync(async () => await Kit.PendingAsync() == 0
            && await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM orders WHERE pay_status = 'paid'") == 2);
        Assert.Equal(2, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM rewards WHERE user_id = @referrer", new { referrer }));
        Assert.Equal(24.68m, await Kit.ScalarAsync<decimal>("SELECT balance FROM user_balances WHERE user_id = @referrer", new { referrer }));
        Assert.Equal(2, await Kit.ScalarAsync<long>("SELECT version FROM user_balances WHERE user_id = @referrer", new { referrer }));
        Assert.Equal(0, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM dead_letters"));

        // Direct, truly simultaneous transactions on a third order: still one reward.
        var direct = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        var store = a.Services.GetRequiredService<SettlementStore>();
        var results = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => SettleAsync(store, SettlementKit.Payment(direct.OutTradeNo, 9900))));
        Assert.Single(results, r => r.Outcome == SettleOutcome.Settled);
        Assert.Equal(3, await Kit.ScalarAsync<long>("SELECT version FROM user_balances WHERE user_id = @referrer", new { referrer }));
        await a.StopAsync();
        await b.StopAsync();
    }

    [Fact]
    public async Task A_balance_changed_after_settlement_read_it_is_a_version_conflict_retried_on_the_committed_version()
    {
        var campaign = await Kit.CampaignAsync(fixedYuan: 10m);
        var referrer = await Kit.ParticipantAsync();
        var first = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        var second = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        using var worker = await SettlementKit.StartWorkerAsync(Kit.Settings("w"));
        var store = worker.Services.GetRequiredService<SettlementStore>();
        await SettleAsync(store, SettlementKit.Payment(first.OutTradeNo, 9900));
        var conflictsBefore = SettlementMetrics.LockConflicts.Value;

        // Another writer changes the balance and holds it uncommitted: settlement reads the committed
        // version 1 without waiting, then its locking read of the balance (before the UPDATE ... WHERE
        // version = 1) waits for the row, finds version 2 once the writer commits, and must update under
        // that version rather than lose either change. The wait is found by its statement: InnoDB's
        // transaction list showed the waiting batch as 'LOCK WAIT' only seconds late, or not at all.
        await using var other = Db.OpenConnection();
        await using var tx = await other.BeginTransactionAsync();
        await other.ExecuteAsync("UPDATE user_balances SET balance = balance + 5, total_reward = total_reward + 5, version = version + 1 WHERE user_id = @referrer",
            new { referrer }, tx);
        var settling = SettleAsync(store, SettlementKit.Payment(second.OutTradeNo, 9900));
        await Db.WaitForLockWaitAsync(settling, "SELECT user_id, version FROM user_balances");
        await tx.CommitAsync();
        var result = await settling;

        Assert.Equal(SettleOutcome.Settled, result.Outcome);
        Assert.Equal(25m, await Kit.ScalarAsync<decimal>("SELECT balance FROM user_balances WHERE user_id = @referrer", new { referrer }));
        Assert.Equal(3, await Kit.ScalarAsync<long>("SELECT version FROM user_balances WHERE user_id = @referrer", new { referrer }));
        Assert.Equal(2, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM rewards WHERE user_id = @referrer", new { referrer }));
        Assert.True(SettlementMetrics.LockConflicts.Value > conflictsBefore, "the conflict was counted");
        await worker.StopAsync();
    }

    /// <summary>One settlement on a connection of its own, as a worker lane runs it.</summary>
    private async Task<SettleResult> SettleAsync(SettlementStore store, PaymentSucceeded payment)
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        return await store.SettleAsync(connection, payment, default);
    }

    [Fact]
    public async Task A_settled_order_is_paid_with_code_payment_outbox_and_sync_requests()
    {
        var campaign = await Kit.CampaignAsync(fixedYuan: 5m);
        var referrer = await Kit.ParticipantAsync();
        var (orderId, outTradeNo) = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        using var worker = await SettlementKit.StartWorkerAsync(Kit.Settings("w"));
        await Kit.PublishAsync(SettlementKit.Payment(outTradeNo, 9900, "4200000001"));

        await SettlementKit.WaitUntilAsync(async () => await Kit.Redis.StreamLengthAsync(Kit.Prefix + StreamNames.Sync) == 2);
        await using var c = await Db.DataSource.OpenConnectionAsync();
        var order = await c.QuerySingleAsync<(string Status, string PayStatus, string TradeNo, string Code, string SyncStatus, DateTime? PaidAt)>(
            "SELECT status, pay_status, trade_no, registration_code, sync_status, paid_at FROM orders WHERE id = @orderId", new { orderId });
        Assert.Equal(("paid", "paid", "4200000001", "pending"), (order.Status, order.PayStatus, order.TradeNo, order.SyncStatus));
        Assert.Matches("^[A-Z2-9]{10}$", order.Code);
        Assert.NotNull(order.PaidAt);
        var payment = await c.QuerySingleAsync<(string Status, string TransactionId, DateTime? ReceivedAt)>(
            "SELECT status, transaction_id, received_at FROM payments WHERE out_trade_no = @outTradeNo", new { outTradeNo });
        Assert.Equal(("succeeded", "4200000001"), (payment.Status, payment.TransactionId));
        Assert.NotNull(payment.ReceivedAt);
        var rewardId = await c.ExecuteScalarAsync<long>("SELECT id FROM rewards WHERE order_id = @orderId", new { orderId });
        var sync = await Kit.Redis.StreamRangeAsync(Kit.Prefix + StreamNames.Sync);
        Assert.Equal(new[] { $"order:{orderId}", $"reward:{rewardId}" }, sync.Select(e => (string)e["key"]!).Order());
        Assert.All(sync, e => Assert.Equal(MessageTypes.SyncRequested, (string)e["type"]!));
        Assert.Equal(2, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM sync_records WHERE order_id = @orderId AND status = 'pending'", new { orderId }));
        await worker.StopAsync();
    }

    [Fact]
    public async Task Outbox_rows_whose_publish_fails_are_handed_back_to_the_sweeper_and_a_duplicate_publishes_them()
    {
        var campaign = await Kit.CampaignAsync(fixedYuan: 5m);
        var (orderId, outTradeNo) = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), await Kit.ParticipantAsync(), 9900);
        // The sync stream's key holds a string: every XADD to it fails (WRONGTYPE) while the payments stream works.
        await Kit.Redis.StringSetAsync(Kit.Prefix + StreamNames.Sync, "not a stream");
        using var worker = await SettlementKit.StartWorkerAsync(Kit.Settings("w"));
        await Kit.PublishAsync(SettlementKit.Payment(outTradeNo, 9900, "4200000011"));

        // Committed as published, then marked unpublished again once the publish failed: the sweeper's (UnpublishedAfter).
        await SettlementKit.WaitUntilAsync(async () => await Kit.PendingAsync() == 0
            && await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM sync_records WHERE order_id = @orderId AND status = 'pending' AND published_at IS NULL", new { orderId }) == 2);
        Assert.Equal("paid", await Kit.ScalarAsync<string>("SELECT pay_status FROM orders WHERE id = @orderId", new { orderId }));

        // With the stream back, WeChat's repeated notify (a duplicate) publishes the still-pending rows.
        await Kit.Redis.KeyDeleteAsync(Kit.Prefix + StreamNames.Sync);
        await Kit.PublishAsync(SettlementKit.Payment(outTradeNo, 9900, "4200000011"));
        await SettlementKit.WaitUntilAsync(async () => await Kit.UnpublishedAsync() == 0 && await Kit.PendingAsync() == 0);
        Assert.Equal(2, await Kit.Redis.StreamLengthAsync(Kit.Prefix + StreamNames.Sync));
        await worker.StopAsync();
    }

    [Fact]
    public async Task No_referrer_and_self_referral_pay_the_order_without_reward_and_percentage_rounds_down()
    {
        var fixedCampaign = await Kit.CampaignAsync(fixedYuan: 10m);
        var percentCampaign = await Kit.CampaignAsync("percentage", 0m, 1234);
        var self = await Kit.ParticipantAsync();
        var referrer = await Kit.ParticipantAsync();
        var noReferrer = await Kit.OrderAsync(fixedCampaign, await Kit.ParticipantAsync(), 0, 9900);
        var selfReferral = await Kit.OrderAsync(fixedCampaign, self, self, 9900);
        var percent = await Kit.OrderAsync(percentCampaign, await Kit.ParticipantAsync(), referrer, 9999);

        using var worker = await SettlementKit.StartWorkerAsync(Kit.Settings("w"));
        await Kit.PublishAsync(SettlementKit.Payment(noReferrer.OutTradeNo, 9900));
        await Kit.PublishAsync(SettlementKit.Payment(selfReferral.OutTradeNo, 9900));
        await Kit.PublishAsync(SettlementKit.Payment(percent.OutTradeNo, 9999));

        await SettlementKit.WaitUntilAsync(async () => await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM orders WHERE pay_status = 'paid'") == 3);
        Assert.Equal(1, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM rewards"));
        // 9999 fen × 12.34 % = 1233.8766 fen → 1233 fen.
        Assert.Equal(12.33m, await Kit.ScalarAsync<decimal>("SELECT amount FROM rewards WHERE user_id = @referrer", new { referrer }));
        Assert.Equal(12.33m, await Kit.ScalarAsync<decimal>("SELECT balance FROM user_balances WHERE user_id = @referrer", new { referrer }));
        Assert.Equal(0, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM user_balances WHERE user_id = @self", new { self }));
        Assert.Equal(1, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM sync_records WHERE order_id = @id", new { id = noReferrer.OrderId }));
        await worker.StopAsync();
    }

    [Fact]
    public async Task A_poison_payment_is_dead_lettered_after_max_deliveries_while_others_flow()
    {
        var campaign = await Kit.CampaignAsync(fixedYuan: 1m);
        var referrer = await Kit.ParticipantAsync();
        var good = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            good.Add((await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900)).OutTradeNo);
        }

        var wrongAmount = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        using var worker = await SettlementKit.StartWorkerAsync(Kit.Settings("w", claimIdle: "00:00:00.200", maxDeliveries: 3));
        await Kit.PublishAsync(SettlementKit.Payment("NO-SUCH-ATTEMPT", 9900));
        await Kit.PublishAsync(SettlementKit.Payment(wrongAmount.OutTradeNo, 1));
        await Kit.Redis.StreamAddAsync(Kit.Prefix + StreamNames.Payments, [new NameValueEntry("garbage", "1")]);
        foreach (var outTradeNo in good)
        {
            await Kit.PublishAsync(SettlementKit.Payment(outTradeNo, 9900));
        }

        await SettlementKit.WaitUntilAsync(async () => await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM dead_letters") == 3
            && await Kit.PendingAsync() == 0);
        Assert.Equal(20, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM rewards"));
        Assert.Equal("unpaid", await Kit.ScalarAsync<string>("SELECT pay_status FROM orders WHERE id = @id", new { id = wrongAmount.OrderId }));
        var errors = (await (await Db.DataSource.OpenConnectionAsync()).QueryAsync<string>("SELECT error FROM dead_letters")).ToList();
        Assert.Contains(errors, e => e.Contains("No payment attempt", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("disagrees", StringComparison.Ordinal));
        await worker.StopAsync();
    }

    [Fact]
    public async Task A_payment_for_an_attempt_never_prepaid_is_dead_lettered_at_once_and_logged()
    {
        var campaign = await Kit.CampaignAsync(fixedYuan: 1m);
        var referrer = await Kit.ParticipantAsync();
        var (orderId, outTradeNo) = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        {
            // The attempt row exists but prepay never answered: nobody can have paid it.
            await connection.ExecuteAsync("UPDATE payments SET status = 'created' WHERE out_trade_no = @outTradeNo", new { outTradeNo });
        }

        var logs = new CapturedLogs();
        using var worker = await SettlementKit.StartWorkerAsync(Kit.Settings("w", claimIdle: "01:00:00"), s => s.AddSingleton<ILoggerProvider>(logs));
        await Kit.PublishAsync(SettlementKit.Payment(outTradeNo, 9900));

        await SettlementKit.WaitUntilAsync(async () => await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM dead_letters") == 1 && await Kit.PendingAsync() == 0);
        var letter = await Kit.ScalarAsync<string>("SELECT CONCAT(deliveries, ' ', error) FROM dead_letters");
        Assert.StartsWith("1 ", letter, StringComparison.Ordinal);
        Assert.Contains("never prepaid", letter, StringComparison.Ordinal);
        Assert.Equal("unpaid", await Kit.ScalarAsync<string>("SELECT pay_status FROM orders WHERE id = @orderId", new { orderId }));
        Assert.Equal("created", await Kit.ScalarAsync<string>("SELECT status FROM payments WHERE out_trade_no = @outTradeNo", new { outTradeNo }));
        Assert.Equal(0, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM rewards"));
        Assert.Contains(logs.Errors, e => e.Contains(outTradeNo, StringComparison.Ordinal) && e.Contains("never prepaid", StringComparison.Ordinal));
        await worker.StopAsync();
    }

    [Fact]
    public async Task Payments_are_not_dead_lettered_while_MySQL_is_unreachable()
    {
        var campaign = await Kit.CampaignAsync(fixedYuan: 1m);
        var (orderId, outTradeNo) = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), await Kit.ParticipantAsync(), 9900);
        await Kit.PublishAsync(SettlementKit.Payment(outTradeNo, 9900));

        // MaxDeliveries 1: before issue 15 the second delivery of the outage dead-lettered the payment.
        var outage = Kit.Settings("w-outage", claimIdle: "00:00:00.100", maxDeliveries: 1);
        outage["Database:ConnectionString"] = "Server=127.0.0.1;Port=1;User ID=dmh;Password=none;Database=dmh;Connect Timeout=2";
        outage["Settlement:Consumer:ErrorBackoff"] = "00:00:00.020";
        outage["Settlement:Consumer:MaxUnavailableBackoff"] = "00:00:00.100";
        var logs = new CapturedLogs();
        using (var worker = await SettlementKit.StartWorkerAsync(outage, s => s.AddSingleton<ILoggerProvider>(logs)))
        {
            await SettlementKit.WaitUntilAsync(() => Task.FromResult(logs.Warnings.Count(w => w.Contains("postponed", StringComparison.Ordinal) && w.Contains(outTradeNo, StringComparison.Ordinal)) >= 4));
            await worker.StopAsync();
        }

        Assert.Equal(0, await Kit.Redis.StreamLengthAsync(Kit.Prefix + StreamNames.DeadLetters));
        var pending = await Kit.Redis.StreamPendingMessagesAsync(Kit.Prefix + StreamNames.Payments, GroupNames.Settlement, 10, RedisValue.Null);
        Assert.True(Assert.Single(pending).DeliveryCount <= 1, $"delivery count {pending[0].DeliveryCount}");

        // MySQL is back: the payment settles, nothing was dead-lettered.
        using var recovered = await SettlementKit.StartWorkerAsync(Kit.Settings("w-back", claimIdle: "00:00:00.100", maxDeliveries: 1));
        await SettlementKit.WaitUntilAsync(async () => await Kit.ScalarAsync<string>("SELECT pay_status FROM orders WHERE id = @orderId", new { orderId }) == "paid"
            && await Kit.PendingAsync() == 0);
        Assert.Equal(0, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM dead_letters"));
        await recovered.StopAsync();
    }

    [Fact]
    public async Task Four_workers_settle_2000_payments_for_50_referrers_with_exact_balances_and_versions()
    {
        var campaign = await Kit.CampaignAsync("percentage", 0m, 1500);
        var referrers = new List<long>();
        for (var i = 0; i < 50; i++)
        {
            referrers.Add(await Kit.ParticipantAsync());
        }

        var registrant = await Kit.ParticipantAsync();
        await using (var c = await Db.DataSource.OpenConnectionAsync())
        {
            // Bulk seed: 2,000 orders and attempts, prices 1.00..20.99 yuan so rewards vary.
            var rows = Enumerable.Range(0, 2000).Select(i => (Referrer: referrers[i % 50], Fen: 100 + (i * 37 % 2000))).ToList();
            foreach (var chunk in rows.Select((r, i) => (r, i)).Chunk(500))
            {
                var values = string.Join(",", chunk.Select(x => $"({campaign}, {registrant}, 'bulk-{x.i}', {x.r.Referrer}, {(x.r.Fen / 100m).ToString(System.Globalization.CultureInfo.InvariantCulture)})"));
                await c.ExecuteAsync($"INSERT INTO orders (campaign_id, participant_id, phone, referrer_id, amount) VALUES {values}");
            }

            await c.ExecuteAsync("""
                INSERT INTO payments (order_id, attempt, out_trade_no, channel, amount_fen, status)
                SELECT id, 1, CONCAT('B', id, 'A1'), 'jsapi', ROUND(amount * 100), 'prepaid' FROM orders WHERE phone LIKE 'bulk-%'
                """);
        }

        var payments = (await (await Db.DataSource.OpenConnectionAsync()).QueryAsync<(string OutTradeNo, long Fen)>(
            "SELECT out_trade_no, amount_fen FROM payments WHERE out_trade_no LIKE 'B%'")).ToList();
        Assert.Equal(2000, payments.Count);
        var workers = new List<IHost>();
        for (var i = 0; i < 4; i++)
        {
            workers.Add(await SettlementKit.StartWorkerAsync(Kit.Settings($"settlement-w{i}")));
        }

        // Every payment twice (a notify and a callback), from concurrent publishers.
        await Parallel.ForEachAsync(payments.Concat(payments), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (p, _) => await Kit.PublishAsync(SettlementKit.Payment(p.OutTradeNo, p.Fen)));

        await SettlementKit.WaitUntilAsync(async () =>
            await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM orders WHERE phone LIKE 'bulk-%' AND pay_status = 'paid'") == 2000
            && await Kit.PendingAsync() == 0, seconds: 120);
        await using var check = await Db.DataSource.OpenConnectionAsync();
        var balances = (await check.QueryAsync<(long UserId, decimal Balance, decimal Total, long Version, decimal Sum, long Count)>("""
            SELECT b.user_id, b.balance, b.total_reward, b.version, SUM(r.amount), COUNT(r.id)
            FROM user_balances b JOIN rewards r ON r.user_id = b.user_id
            GROUP BY b.user_id, b.balance, b.total_reward, b.version
            """)).ToList();
        Assert.Equal(50, balances.Count);
        Assert.All(balances, b =>
        {
            Assert.Equal(b.Sum, b.Balance);
            Assert.Equal(b.Sum, b.Total);
            Assert.Equal(b.Count, b.Version);
            Assert.Equal(40, b.Count);
        });
        var expected = payments.Sum(p => p.Fen * 1500 / 10_000) / 100m;
        Assert.Equal(expected, balances.Sum(b => b.Balance));
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM dead_letters"));
        foreach (var worker in workers)
        {
            await worker.StopAsync();
            worker.Dispose();
        }
    }

    /// <summary>Formatted log lines of a worker, by level.</summary>
    private sealed class CapturedLogs : ILoggerProvider
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(LogLevel Level, string Text)> _lines = new();

        public IEnumerable<string> Errors => _lines.Where(l => l.Level >= LogLevel.Error).Select(l => l.Text);

        public IEnumerable<string> Warnings => _lines.Where(l => l.Level == LogLevel.Warning).Select(l => l.Text);

        public ILogger CreateLogger(string categoryName) => new Logger(_lines);

        public void Dispose()
        {
        }

        private sealed class Logger(System.Collections.Concurrent.ConcurrentQueue<(LogLevel, string)> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue((logLevel, formatter(state, exception)));
        }
    }
}
