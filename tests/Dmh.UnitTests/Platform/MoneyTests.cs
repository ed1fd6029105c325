using Dmh.Platform;

namespace Dmh.UnitTests.Platform;

public sealed class MoneyTests
{
    [Theory]
    [InlineData(0, "0")]
    [InlineData(1, "0.01")]
    [InlineData(9900, "99")]
    [InlineData(12345678901, "123456789.01")]
    public void Fen_and_yuan_round_trip_exactly(long fen, string yuan)
    {
        Assert.Equal(decimal.Parse(yuan, System.Globalization.CultureInfo.InvariantCulture), Money.FenToYuan(fen));
        Assert.Equal(fen, Money.YuanToFen(Money.FenToYuan(fen)));
    }

    [Fact]
    public void Yuan_with_more_than_two_decimals_is_refused_not_rounded() =>
        Assert.Throws<ArgumentException>(() => Money.YuanToFen(1.005m));

    [Theory]
    [InlineData(9900, 1000, 990)]
    [InlineData(999, 1500, 149)]   // 149.85 fen rounds down
    [InlineData(1, 9999, 0)]
    [InlineData(10000, 10000, 10000)]
    public void Basis_points_round_down_to_the_fen(long amount, int bps, long expected) =>
        Assert.Equal(expected, Money.BasisPointsOf(amount, bps));
}
