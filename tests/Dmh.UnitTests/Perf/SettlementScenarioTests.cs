using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dmh.Perf;
using Dmh.WechatPay;

namespace Dmh.UnitTests.Perf;

public sealed class SettlementScenarioTests
{
    [Fact]
    public void Every_tenth_notify_repeats_the_one_nine_before_and_the_rest_are_distinct_attempts()
    {
        var attempts = Enumerable.Range(0, 1000).Select(i => SettlementScenario.AttemptIndex(i)).ToList();
        Assert.Equal(900, attempts.Distinct().Count());
        Assert.Equal(SettlementScenario.AttemptCount(1000), attempts.Max() + 1);
        Assert.Equal(attempts[0], attempts[9]);
        Assert.Equal(attempts[10], attempts[19]);
        Assert.Equal(Enumerable.Range(0, 900).Select(i => (long)i), attempts.Distinct().Order());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(25)]
    [InlineData(35_000)]
    public void The_seeded_attempts_cover_every_request(long requests)
    {
        var needed = Enumerable.Range(0, (int)requests).Select(i => SettlementScenario.AttemptIndex(i)).Max() + 1;
        Assert.Equal(needed, SettlementScenario.AttemptCount(requests));
    }

    [Theory]
    [InlineData(100, 60)]
    [InlineData(1000, 999)]
    [InlineData(22_500, 15_000)]
    public void The_warm_up_s_attempts_are_exactly_those_before_the_first_measured_one(long requests, long measured)
    {
        var warmup = requests - measured;
        var first = SettlementScenario.FirstMeasuredAttempt(requests, measured);
        Assert.All(Enumerable.Range(0, (int)warmup), i => Assert.True(SettlementScenario.AttemptIndex(i) < first));
        Assert.Equal(first, SettlementScenario.AttemptIndex(warmup));
        // Later requests repeat warm-up attempts only as duplicates (every tenth, of the one nine before).
        Assert.All(Enumerable.Range((int)warmup, (int)measured).Where(i => i % 10 != 9), i => Assert.True(SettlementScenario.AttemptIndex(i) >= first));
    }

    [Fact]
    public void A_runner_signed_notify_verifies_and_decrypts_as_WeChat_s_would()
    {
        using var key = RSA.Create(2048);
        var apiV3Key = Encoding.UTF8.GetBytes("0123456789abcdef0123456789abcdef");
        using var signer = new NotifySigner(RSA.Create(key.ExportParameters(true)), "PUB_KEY_ID_SIM_TEST", apiV3Key, "wx-app", "1900000109");
        var attempt = new Attempt(1234, "D1234A1", 9900);

        var notify = signer.Sign(attempt, DateTimeOffset.UtcNow);

        Assert.True(WechatPayCrypto.Verify(key, WechatPayCrypto.ResponseMessage(notify.Timestamp, notify.Nonce, notify.Body), notify.Signature));
        var resource = JsonDocument.Parse(notify.Body).RootElement.GetProperty("resource");
        var plain = WechatPayCrypto.Decrypt(apiV3Key, resource.GetProperty("nonce").GetString()!, "transaction", resource.GetProperty("ciphertext").GetString()!);
        var tx = JsonDocument.Parse(plain).RootElement;
        Assert.Equal("D1234A1", tx.GetProperty("out_trade_no").GetString());
        Assert.Equal(9900, tx.GetProperty("amount").GetProperty("total").GetInt64());
        Assert.Equal("1900000109", tx.GetProperty("mchid").GetString());
        Assert.Equal(NotifySigner.TransactionId(attempt), tx.GetProperty("transaction_id").GetString());
        Assert.Equal(28, NotifySigner.TransactionId(attempt).Length);

        using var request = notify.ToRequest(new Uri("http://127.0.0.1:5080"));
        Assert.Equal("/api/v1/orders/payment/notify", request.RequestUri!.AbsolutePath);
        Assert.Equal("PUB_KEY_ID_SIM_TEST", request.Headers.GetValues("Wechatpay-Serial").Single());
    }

    [Fact]
    public void Targets_pass_only_when_every_payment_settled_once_within_two_seconds()
    {
        var fast = new SettlementFigures(100, 100, 100, Landing.Histogram(Enumerable.Repeat(50_000L, 100)), Landing.Histogram(Enumerable.Repeat(50_000L, 100)), 0, 0);
        Assert.All(Landing.Targets(fast), t => Assert.True(t.Pass, t.Target));

        // Warm-up is discarded from the target as from the HTTP figures (and reported beside it).
        var slowWarmup = fast with { DelayWithWarmup = Landing.Histogram(Enumerable.Repeat(50_000L, 100).Concat(Enumerable.Repeat(9_000_000L, 50))) };
        Assert.All(Landing.Targets(slowWarmup), t => Assert.True(t.Pass, t.Target));
        Assert.Contains("warm-up's 50 too: p99 9.00 s", Assert.Single(Landing.Describe(slowWarmup)), StringComparison.Ordinal);
        Assert.DoesNotContain("warm-up", Assert.Single(Landing.Describe(fast)), StringComparison.Ordinal);

        var slow = fast with { Delay = Landing.Histogram(Enumerable.Repeat(2_500_000L, 100)) };
        Assert.Contains(Landing.Targets(slow), t => !t.Pass && t.Target.Contains("2 s", StringComparison.Ordinal));

        var missing = fast with { Paid = 99, Rewards = 99 };
        Assert.Contains(Landing.Targets(missing), t => !t.Pass && t.Target.Contains("exactly once", StringComparison.Ordinal));

        var balances = fast with { BalancesWrong = 1 };
        Assert.Contains(Landing.Targets(balances), t => !t.Pass && t.Target.Contains("balance", StringComparison.Ordinal));

        var ledger = fast with { LedgerWrong = 2 };
        Assert.Contains(Landing.Targets(ledger), t => !t.Pass && t.Target.Contains("sum(ledger)", StringComparison.Ordinal) && t.Measured == "2 referrers off");
    }

    [Fact]
    public void Sync_targets_need_a_minute_at_p99_and_more_than_95_percent_synced()
    {
        var measured = Landing.Histogram(Enumerable.Repeat(3_000_000L, 196));
        var good = new SyncFigures(200, 196, 4, measured, measured, 150);
        Assert.All(Landing.Targets(good, 200), t => Assert.True(t.Pass, t.Target));
        Assert.Contains(Landing.Targets(good with { Synced = 190 }, 200), t => !t.Pass && t.Target.Contains("95", StringComparison.Ordinal));
        Assert.Contains(Landing.Targets(good with { Delay = Landing.Histogram([61_000_000L]) }, 200), t => !t.Pass && t.Target.Contains("1 min", StringComparison.Ordinal));
        // The warm-up's rows (a cold syncer) are shown beside the figure, not judged: as for settlement.
        var coldStart = good with { DelayWithWarmup = Landing.Histogram([.. Enumerable.Repeat(3_000_000L, 196), .. Enumerable.Repeat(61_000_000L, 50)]) };
        Assert.All(Landing.Targets(coldStart, 200), t => Assert.True(t.Pass, t.Target));
        Assert.Contains("with the warm-up's 50 too", Landing.Describe(coldStart).Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_drain_timeout_is_an_option()
    {
        Assert.Equal(TimeSpan.FromMinutes(5), RunOptions.Parse(["settlement"]).DrainTimeout);
        Assert.Equal(TimeSpan.FromSeconds(90), RunOptions.Parse(["settlement", "--drain-timeout", "90s"]).DrainTimeout);
    }
}
