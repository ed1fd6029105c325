using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Dmh.IntegrationTests.WechatPay;

/// <summary>Issue 15 (low): a correctly signed success notify DMH could not have caused is refused, in WeChat's format.</summary>
public sealed class NotifyTradeChecksTests(WechatPayFixture f) : IClassFixture<WechatPayFixture>
{
    private async Task<string> PrepayH5Async()
    {
        var orderId = await f.CreateOrderAsync();
        var response = await f.PayAsync(orderId, new { channel = "h5" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("outTradeNo").GetString()!;
    }

    [Theory]
    [InlineData("MWEB", "USD")]
    [InlineData("JSAPI", "HKD")]
    [InlineData("MWEB", null)]
    [InlineData("NATIVE", "CNY")]
    [InlineData("APP", "CNY")]
    [InlineData("MICROPAY", "CNY")]
    public async Task A_signed_success_notify_in_another_currency_or_trade_type_is_refused_and_publishes_nothing(string tradeType, string? currency)
    {
        var outTradeNo = await PrepayH5Async();

        using var notify = f.SignedNotify(outTradeNo, 9900, tradeType, currency);
        var response = await f.Api.SendAsync(notify);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("FAIL", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Empty(await f.EntriesAsync(outTradeNo));

        // The same payment as DMH prepaid it (H5 = MWEB, CNY) goes through.
        using var genuine = f.SignedNotify(outTradeNo, 9900, "MWEB");
        Assert.Equal(HttpStatusCode.NoContent, (await f.Api.SendAsync(genuine)).StatusCode);
        Assert.Single(await f.EntriesAsync(outTradeNo));
    }
}
