using Dmh.Settlement.Settling;

namespace Dmh.UnitTests.Settlement;

/// <summary>How a stream batch is cut into transactions (PaymentSettlementHandler.Parts).</summary>
public sealed class SettlementPartsTests
{
    private static int[] Sizes(int payments, int maxParallelism = 4, int max = 100, int min = 25) =>
        [.. PaymentSettlementHandler.Parts(Enumerable.Range(0, payments).ToList(),
            new SettlementOptions { MaxParallelism = maxParallelism, MaxPaymentsPerTransaction = max, MinPaymentsPerTransaction = min }).Select(p => p.Length)];

    [Theory]
    [InlineData(0, new int[0])]
    [InlineData(1, new[] { 1 })]
    [InlineData(7, new[] { 7 })]
    [InlineData(25, new[] { 25 })]
    [InlineData(26, new[] { 13, 13 })]
    [InlineData(60, new[] { 20, 20, 20 })]
    [InlineData(100, new[] { 25, 25, 25, 25 })]
    [InlineData(400, new[] { 100, 100, 100, 100 })]
    [InlineData(450, new[] { 90, 90, 90, 90, 90 })]
    public void A_handful_is_one_transaction_and_a_backlog_is_cut_for_parallelism_up_to_the_largest_transaction(int payments, int[] expected) =>
        Assert.Equal(expected, Sizes(payments));

    [Fact]
    public void Parts_keep_stream_order_and_every_payment_once()
    {
        var parts = PaymentSettlementHandler.Parts(Enumerable.Range(0, 233).ToList(), new SettlementOptions()).ToList();
        Assert.Equal(Enumerable.Range(0, 233), parts.SelectMany(p => p));
        Assert.All(parts, p => Assert.InRange(p.Length, 25, 100));
    }

    [Fact]
    public void A_minimum_of_one_cuts_every_batch_into_as_many_parts_as_lanes_as_before()
    {
        Assert.Equal(new[] { 2, 2, 2, 1 }, Sizes(7, min: 1));
        Assert.Equal(new[] { 1, 1, 1 }, Sizes(3, min: 1));
    }
}
