using Dmh.Contracts;
using Dmh.Settlement.Settling;

namespace Dmh.UnitTests.Settlement;

public sealed class RewardRuleTests
{
    [Theory]
    [InlineData(9900, 1500, 1485)]
    [InlineData(9999, 1234, 1233)]
    [InlineData(1, 9999, 0)]
    [InlineData(100, 10_000, 100)]
    [InlineData(12345, 1, 1)]
    [InlineData(9900, 0, 0)]
    public void Percentage_rewards_are_basis_points_of_the_order_price_rounded_down_to_the_fen(long totalFen, int bps, long expected) =>
        Assert.Equal(expected, RewardRules.AmountFen(RewardTypes.Percentage, 999m, bps, totalFen));

    [Theory]
    [InlineData("10.00", 1000)]
    [InlineData("12.34", 1234)]
    [InlineData("0.01", 1)]
    [InlineData("0", 0)]
    public void Fixed_rewards_are_the_configured_amount_whatever_the_price(string yuan, long expected) =>
        Assert.Equal(expected, RewardRules.AmountFen(RewardTypes.Fixed, decimal.Parse(yuan, System.Globalization.CultureInfo.InvariantCulture), 5000, 9900));

    [Fact]
    public void Unknown_rule_types_fall_back_to_the_fixed_amount() =>
        Assert.Equal(500, RewardRules.AmountFen("", 5m, 1500, 9900));

    [Theory]
    [InlineData(0, 7, null)]
    [InlineData(7, 7, null)]
    [InlineData(-1, 7, null)]
    [InlineData(3, 7, 3L)]
    public void Only_another_existing_participant_is_rewarded(long referrer, long registrant, long? expected) =>
        Assert.Equal(expected, RewardRules.Beneficiary(referrer, registrant));
}
