using Dmh.Ingress.WechatShare;
using Dmh.WechatPay;

namespace Dmh.UnitTests.WechatPay;

public sealed class WechatJsSdkTests
{
    [Fact]
    public void Signature_matches_wechat_s_documented_example()
    {
        // The example of the JS-SDK documentation (附录1 JS-SDK使用权限签名算法).
        var signature = WechatJsSdk.Signature(
            "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
            "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com?params=value");

        Assert.Equal("0f9de62fce790f9a083d5c99e95740ceb90c27ed", signature);
    }

    [Theory]
    [InlineData("https://a.example/h5/?x=1#/pages/a?b=2", "https://a.example/h5/?x=1")]
    [InlineData("https://a.example/h5/", "https://a.example/h5/")]
    [InlineData("https://a.example/h5/?q=%E4%B8%AD#", "https://a.example/h5/?q=%E4%B8%AD")]
    public void The_signed_url_keeps_the_query_as_written_and_drops_the_hash(string page, string signed) =>
        Assert.Equal(signed, WechatJsSdk.SignedUrl(page));

    [Theory]
    [InlineData("https://act.example.com/h5/", "https://act.example.com", true)]
    [InlineData("https://ACT.example.com/h5/?a=1", "https://act.example.com/", true)]
    [InlineData("https://act.example.com/h5/", "https://act.example.com/h5", true)]
    [InlineData("https://act.example.com/h5", "https://act.example.com/h5/", true)]
    [InlineData("https://act.example.com/h55/", "https://act.example.com/h5", false)]
    [InlineData("https://act.example.com/other/", "https://act.example.com/h5", false)]
    [InlineData("http://act.example.com/h5/", "https://act.example.com", false)]
    [InlineData("https://act.example.com:444/h5/", "https://act.example.com", false)]
    [InlineData("https://u:p@act.example.com/h5/", "https://act.example.com", false)]
    [InlineData("https://act.example.com\\@evil.example/", "https://act.example.com", false)]
    public void Only_pages_under_the_public_base_url_are_own_pages(string url, string baseUrl, bool own) =>
        Assert.Equal(own, JsSdkEndpoints.IsOwnPage(url, baseUrl));
}
