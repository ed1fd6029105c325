using Dmh.Perf;

namespace Dmh.UnitTests.Perf;

public sealed class OrdersScenarioTests
{
    [Fact]
    public void Every_tenth_order_repeats_an_earlier_phone_and_the_rest_are_unique()
    {
        var phones = Enumerable.Range(0, 1000).Select(i => OrdersScenario.PhoneFor(13_800_000_000L, i)).ToList();
        Assert.Equal(900, phones.Distinct().Count());
        Assert.All(phones, p => Assert.Matches(@"^1[3-9]\d{9}$", p));
        Assert.Equal(phones[0], phones[9]);
        Assert.Equal(phones[10], phones[19]);
    }
}
