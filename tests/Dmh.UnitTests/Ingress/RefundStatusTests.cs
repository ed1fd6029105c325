using Dmh.Platform.Rewards;

namespace Dmh.UnitTests.Ingress;

public sealed class RefundStatusTests
{
    [Theory]
    [InlineData("SUCCESS", "success", true)]
    [InlineData("CLOSED", "closed", true)]
    [InlineData("ABNORMAL", "abnormal", true)]
    [InlineData("PROCESSING", "processing", false)]
    [InlineData(null, "processing", false)]
    [InlineData("SOMETHING_NEW", "processing", false)]
    public void WeChat_refund_statuses_map_to_the_stored_ones(string? wechat, string stored, bool final)
    {
        Assert.Equal(stored, RefundStatus.FromWechat(wechat));
        Assert.Equal(final, RefundStatus.IsFinal(stored));
    }
}
