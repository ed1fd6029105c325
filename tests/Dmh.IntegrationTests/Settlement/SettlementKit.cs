using System.Text.Json;
using Dapper;
using Dmh.Contracts;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.Platform.Database;
using Dmh.Platform.Redis;
using Dmh.Platform.Streams;
using Dmh.Settlement.Reconciliation;
using Dmh.Settlement.Settling;
using Dmh.WechatPay;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.Settlement;

/// <summary>Seeds campaigns, participants, orders and payment attempts with SQL and runs settlement workers in process.</summary>
public sealed class SettlementKit(TestDatabase db, IConnectionMultiplexer redis, string prefix)
{
    private static int _phone = Random.Shared.Next(10_000_000, 50_000_000);

    public TestDatabase Db { get; } = db;

    public string Prefix { get; } = prefix;

    public IDatabase Redis => redis.GetDatabase();

    public async Task<long> CampaignAsync(string rewardType = "fixed", decimal fixedYuan = 10m, int bps = 0, decimal priceYuan = 99m)
    {
        await using var c = await Db.DataSource.OpenConnectionAsync();
        return await c.ExecuteScalarAsync<long>("""
            INSERT INTO campaigns (name, price, reward_type, reward_rule, reward_bps, status) VALUES ('test', @priceYuan, @rewardType, @fixedYuan, @bps, 'active');
            SELECT LAST_INSERT_ID();
            """, new { priceYuan, rewardType, fixedYuan, bps });
    }

    /// <summary>A campaign with an issue-17 rule (levels, caps, hold days).</summary>
    public async Task<long> CampaignAsync(Dmh.Platform.Rewards.RewardConfig config, decimal priceYuan = 99m)
    {
        await using var c = await Db.DataSource.OpenConnectionAsync();
        return await c.ExecuteScalarAsync<long>("""
            INSERT INTO campaigns (name, price, reward_config, hold_days, status) VALUES ('test', @priceYuan, @json, @holdDays, 'active');
            SELECT LAST_INSERT_ID();
            """, new { priceYuan, json = config.ToStoredJson(), holdDays = config.HoldDays });
    }

    /// <summary>An unpaid order whose referrer chain (levels 2 and 3) is as given.</summary>
    public async Task<(long OrderId, string OutTradeNo)> ChainOrderAsync(long campaignId, long participantId, long amountFen, long referrer, long referrer2 = 0, long referrer3 = 0)
    {
        var order = await OrderAsync(campaignId, participantId, referrer, amountFen);
        await using var c = await Db.DataSource.OpenConnectionAsync();
        await c.ExecuteAsync("UPDATE orders SET referrer2_id = @referrer2, referrer3_id = @referrer3 WHERE id = @OrderId", new { order.OrderId, referrer2, referrer3 });
        return order;
    }

    /// <summary>
    /// The ledger invariant: every balance bucket equals the sum of its ledger rows, the version equals
    /// the number of rows, and the yuan columns mirror the buckets.
    /// </summary>
    public async Task AssertLedgerInvariantAsync()
    {
        await using var c = await Db.DataSource.OpenConnectionAsync();
        var broken = (await c.QueryAsync<long>("""
            SELECT b.user_id FROM user_balances b
            LEFT JOIN (SELECT user_id, SUM(frozen_delta_fen) AS f, SUM(available_delta_fen) AS a, SUM(withdrawing_delta_fen) AS w,
                              SUM(paid_out_delta_fen) AS p, SUM(earned_delta_fen) AS e, COUNT(*) AS n
                       FROM reward_ledger GROUP BY user_id) l ON l.user_id = b.user_id
            WHERE b.frozen_fen <> COALESCE(l.f, 0) OR b.available_fen <> COALESCE(l.a, 0) OR b.withdrawing_fen <> COALESCE(l.w, 0)
               OR b.paid_out_fen <> COALESCE(l.p, 0) OR b.total_earned_fen <> COALESCE(l.e, 0) OR b.version <> COALESCE(l.n, 0)
               OR b.balance * 100 <> b.frozen_fen + b.available_fen OR b.total_reward * 100 <> b.total_earned_fen
            """)).ToList();
        Xunit.Assert.Empty(broken);
    }

    public async Task<long> ParticipantAsync()
    {
        var phone = "139" + Interlocked.Increment(ref _phone).ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
        await using var c = await Db.DataSource.OpenConnectionAsync();
        return await c.ExecuteScalarAsync<long>("""
            INSERT INTO participants (phone, referral_code) VALUES (@phone, @code);
            SELECT LAST_INSERT_ID();
            """, new { phone, code = "r" + Guid.NewGuid().ToString("N")[..12] });
    }

    /// <summary>An unpaid order with one prepaid attempt; returns the attempt's out_trade_no.</summary>
    public async Task<(long OrderId, string OutTradeNo)> OrderAsync(long campaignId, long participantId, long referrerId, long amountFen, DateTime? createdAt = null)
    {
        await using var c = await Db.DataSource.OpenConnectionAsync();
        var orderId = await c.ExecuteScalarAsync<long>("""
            INSERT INTO orders (campaign_id, participant_id, phone, referrer_id, amount) VALUES (@campaignId, @participantId, @phone, @referrerId, @amount);
            SELECT LAST_INSERT_ID();
            """, new { campaignId, participantId, phone = "p" + participantId + "-" + Guid.NewGuid().ToString("N")[..8], referrerId, amount = amountFen / 100m });
        var outTradeNo = $"D{orderId}A1";
        await c.ExecuteAsync("""
            INSERT INTO payments (order_id, attempt, out_trade_no, channel, amount_fen, status, created_at)
            VALUES (@orderId, 1, @outTradeNo, 'jsapi', @amountFen, 'prepaid', @createdAt)
            """, new { orderId, outTradeNo, amountFen, createdAt = createdAt ?? DateTime.UtcNow });
        return (orderId, outTradeNo);
    }

    public static PaymentSucceeded Payment(string outTradeNo, long totalFen, string? transactionId = null) =>
        new(outTradeNo, transactionId ?? "42" + outTradeNo, totalFen, totalFen, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, PaymentSources.Notify);

    public Task<RedisValue> PublishAsync(PaymentSucceeded payment) =>
        Redis.StreamAddAsync(Prefix + StreamNames.Payments, StreamPublisher.ToFields(new Envelope(
            MessageTypes.PaymentSucceeded, 1, payment.OutTradeNo, JsonSerializer.Serialize(payment, StreamPublisher.Json), DateTimeOffset.UtcNow)));

    public Dictionary<string, string?> Settings(string consumer, string claimIdle = "00:00:01", int maxDeliveries = 5)
    {
        // A valid WeChat Pay configuration that is never called; reconciliation only where a test turns it on.
        var settings = new Dictionary<string, string?>(WechatPayTestKeys.DefaultSettings())
        {
            ["Reconciliation:Enabled"] = "false",
            ["Database:ConnectionString"] = Db.ConnectionString,
            ["Redis:Configuration"] = TestEnvironment.Redis,
            ["Redis:KeyPrefix"] = Prefix,
            ["Settlement:Consumer:ConsumerName"] = consumer,
            ["Settlement:Consumer:ClaimIdle"] = claimIdle,
            ["Settlement:Consumer:ClaimInterval"] = "00:00:00.100",
            ["Settlement:Consumer:PollInterval"] = "00:00:00.005",
            ["Settlement:Consumer:MaxDeliveries"] = maxDeliveries.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return settings;
    }

    /// <summary>A settlement worker wired as Program.cs does, with the given settings (and services, e.g. a fake provider).</summary>
    public static async Task<IHost> StartWorkerAsync(Dictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddDmhDatabase();
        builder.AddDmhRedis();
        builder.AddSettlement();
        builder.AddWechatPay();
        builder.AddStreamConsumer<PaymentSettlementHandler>("Settlement:Consumer", StreamNames.Payments, GroupNames.Settlement);
        builder.AddReconciliation();
        services?.Invoke(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var c = await Db.DataSource.OpenConnectionAsync();
        return (await c.ExecuteScalarAsync<T>(sql, args))!;
    }

    public async Task<long> PendingAsync()
    {
        try
        {
            return (await Redis.StreamPendingAsync(Prefix + StreamNames.Payments, GroupNames.Settlement)).PendingMessageCount;
        }
        catch (RedisServerException)
        {
            return -1;
        }
    }

    /// <summary>Sync outbox rows with no request for them in the sync stream (published_at alone cannot say: it is set with the commit).</summary>
    public async Task<long> UnpublishedAsync()
    {
        var published = (await Redis.StreamRangeAsync(Prefix + StreamNames.Sync)).Select(e => (string)e["key"]!).ToHashSet();
        await using var c = await Db.DataSource.OpenConnectionAsync();
        var rows = await c.QueryAsync<string>("SELECT CONCAT(entity, ':', entity_id) FROM sync_records");
        return rows.Count(r => !published.Contains(r));
    }

    public Task DeleteKeysAsync() =>
        Redis.KeyDeleteAsync([Prefix + StreamNames.Payments, Prefix + StreamNames.Sync, Prefix + StreamNames.DeadLetters]);

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met within {seconds} s");
            await Task.Delay(50);
        }
    }
}
