using Dmh.WechatPay;

namespace Dmh.UnitTests.WechatPay;

public sealed class WechatPayOptionsTests
{
    [Fact]
    public void Missing_settings_are_named()
    {
        var result = new WechatPayOptionsValidator().Validate(null, new WechatPayOptions());
        Assert.True(result.Failed);
        foreach (var name in new[] { "WechatPay:AppId", "WechatPay:MchId", "WechatPay:MerchantSerialNo", "WechatPay:ApiV3Key", "WechatPay:MerchantPrivateKeyFile", "WechatPay:NotifyUrl" })
        {
            Assert.Contains(name, result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Http_urls_need_AllowInsecureHttp()
    {
        var options = new WechatPayOptions { BaseUrl = "http://127.0.0.1:5090", NotifyUrl = "http://127.0.0.1:5080/api/v1/orders/payment/notify" };
        Assert.Contains("WechatPay:BaseUrl must use https", new WechatPayOptionsValidator().Validate(null, options).FailureMessage, StringComparison.Ordinal);
        options.AllowInsecureHttp = true;
        Assert.DoesNotContain("must use https", new WechatPayOptionsValidator().Validate(null, options).FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_notify_url_with_a_query_string_is_refused()
    {
        var options = new WechatPayOptions { NotifyUrl = "https://dmh.example.com/notify?x=1" };
        Assert.Contains("no query string", new WechatPayOptionsValidator().Validate(null, options).FailureMessage, StringComparison.Ordinal);
    }
}
