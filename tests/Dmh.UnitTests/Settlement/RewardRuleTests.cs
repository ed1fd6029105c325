using Dmh.Contracts;
using Dmh.Platform.Rewards;

namespace Dmh.UnitTests.Settlement;

public sealed class RewardRuleTests
{
    private static long Amount(RewardLevelRule rule, long priceFen = 9900, BeneficiaryStats? stats = null, RewardCaps? caps = null) =>
        RewardRuleEngine.AmountFen(rule, caps ?? RewardCaps.None, priceFen, stats ?? BeneficiaryStats.Empty);

    [Theory]
    [InlineData(1500, 9900, 1485)]
    [InlineData(1, 99, 0)]
    [InlineData(3333, 1, 0)]
    [InlineData(10_000, 9900, 9900)]
    public void Percentage_is_rounded_down_to_the_fen(int bps, long totalFen, long expected) =>
        Assert.Equal(expected, Amount(new RewardLevelRule(RewardTypes.Percentage, BasisPoints: bps), totalFen));

    [Theory]
    [InlineData(1, 500)]
    [InlineData(5, 500)]
    [InlineData(6, 800)]
    [InlineData(20, 800)]
    [InlineData(21, 1000)]
    [InlineData(500, 1000)]
    public void A_tier_is_chosen_by_the_count_including_this_referral(int nth, long expected)
    {
        var rule = new RewardLevelRule(RewardTypes.Tiered, Tiers: [new RewardTier(1, 500), new RewardTier(6, 800), new RewardTier(21, 1000)]);
        Assert.Equal(expected, Amount(rule, stats: new BeneficiaryStats(nth - 1, nth - 1, 0, 0)));
    }

    [Theory]
    [InlineData(0, 0, 500)]
    [InlineData(1, 500, 500)]
    [InlineData(2, 1000, 0)]
    public void The_count_cap_stops_rewards_once_reached(int count, long total, long expected) =>
        Assert.Equal(expected, Amount(new RewardLevelRule(RewardTypes.Fixed, AmountFen: 500), stats: new BeneficiaryStats(count, count, total, 0), caps: new RewardCaps(Count: 2)));

    [Theory]
    [InlineData(0, 500)]
    [InlineData(1000, 200)]
    [InlineData(1200, 0)]
    [InlineData(1300, 0)]
    public void The_total_cap_cuts_the_last_reward_to_what_is_left(long total, long expected) =>
        Assert.Equal(expected, Amount(new RewardLevelRule(RewardTypes.Fixed, AmountFen: 500), stats: new BeneficiaryStats(0, 0, total, 0), caps: new RewardCaps(TotalFen: 1200)));

    [Fact]
    public void The_daily_cap_counts_only_today()
    {
        var rule = new RewardLevelRule(RewardTypes.Fixed, AmountFen: 500);
        Assert.Equal(200, Amount(rule, stats: new BeneficiaryStats(9, 9, 9999, 500), caps: new RewardCaps(DailyFen: 700)));
        Assert.Equal(500, Amount(rule, stats: new BeneficiaryStats(9, 9, 9999, 0), caps: new RewardCaps(DailyFen: 700)));
    }

    [Fact]
    public void The_Beijing_day_starts_at_16_00_UTC()
    {
        Assert.Equal(new DateTime(2026, 12, 5, 16, 0, 0, DateTimeKind.Utc),
            RewardRuleEngine.BeijingDayStartUtc(new DateTimeOffset(2026, 12, 6, 15, 59, 59, 999, TimeSpan.Zero)));
        Assert.Equal(new DateTime(2026, 12, 6, 16, 0, 0, DateTimeKind.Utc),
            RewardRuleEngine.BeijingDayStartUtc(new DateTimeOffset(2026, 12, 6, 16, 0, 0, TimeSpan.Zero)));
    }

    [Theory]
    [InlineData(new long[] { 0, 5, 6 }, new long[0])]
    [InlineData(new long[] { 2, 3, 4 }, new long[] { 2, 3, 4 })]
    [InlineData(new long[] { 2, 1, 4 }, new long[] { 2 })]
    [InlineData(new long[] { 2, 3, 2 }, new long[] { 2, 3 })]
    [InlineData(new long[] { 2, 0, 4 }, new long[] { 2 })]
    [InlineData(new long[] { 1, 2, 3 }, new long[0])]
    public void The_chain_stops_at_the_registrant_a_repeat_or_a_gap(long[] chain, long[] expected) =>
        Assert.Equal(expected, RewardRuleEngine.Beneficiaries(1, chain));

    [Fact]
    public void Rule_breaks_name_their_fields()
    {
        var config = new RewardConfig(91, [
            new RewardLevelRule(RewardTypes.Fixed, AmountFen: 10_000),
            new RewardLevelRule(RewardTypes.Tiered, Tiers: [new RewardTier(2, 100), new RewardTier(2, 200)]),
            new RewardLevelRule(RewardTypes.Percentage, BasisPoints: 0),
        ], new RewardCaps(0, 0, 0));
        var fields = RewardRuleEngine.Validate(config, 9900).Select(e => e.Field).ToList();
        Assert.Equal(new[]
        {
            "reward.holdDays", "reward.levels[0].amountFen", "reward.levels[1].tiers[0].from", "reward.levels[1].tiers[1].from",
            "reward.levels[2].basisPoints", "reward.caps.totalFen", "reward.caps.count", "reward.caps.dailyFen",
        }, fields);
        Assert.Contains(RewardRuleEngine.Validate(config with { HoldDays = 0, Levels = [.. config.Levels, config.Levels[0]] }, 9900), e => e.Field == "reward.levels");
        Assert.Empty(RewardRuleEngine.Validate(new RewardConfig(0, [new RewardLevelRule(RewardTypes.Fixed, AmountFen: 9900)], RewardCaps.None), 9900));
    }

    [Theory]
    [InlineData(1000, 3300, 9900, 333)]
    [InlineData(1000, 9900, 9900, 1000)]
    [InlineData(999, 1, 9900, 0)]
    [InlineData(1000, 9899, 9900, 999)]
    public void A_reversal_is_in_proportion_floored_and_the_full_refund_reverses_all(long amount, long refunded, long paid, long expected) =>
        Assert.Equal(expected, RewardLedger.Target(amount, refunded, paid));
}
