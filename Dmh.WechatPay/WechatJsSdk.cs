using System.Security.Cryptography;
using System.Text;

namespace Dmh.WechatPay;

/// <summary>The JS-SDK <c>wx.config</c> signature (docs/API.md, "Sharing inside WeChat").</summary>
public static class WechatJsSdk
{
    /// <summary>WeChat's own JS-SDK script; the H5 page loads the simulator's stand-in locally.</summary>
    public const string ScriptUrl = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js";

    /// <summary>
    /// SHA-1 (lower-case hex) of <c>jsapi_ticket=…&amp;noncestr=…&amp;timestamp=…&amp;url=…</c>: the four
    /// fields in ASCII order of their lower-case names, values as they are (no URL escaping). The URL is
    /// the page's full address with its query and without <c>#</c> and what follows.
    /// </summary>
    public static string Signature(string jsapiTicket, string nonceStr, long timestamp, string url)
    {
        var plain = $"jsapi_ticket={jsapiTicket}&noncestr={nonceStr}&timestamp={timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture)}&url={url}";
        // SHA-1 is WeChat's choice for this signature, not ours; there is no other variant.
#pragma warning disable CA5350
        return Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(plain)));
#pragma warning restore CA5350
    }

    /// <summary>The part of a page address that is signed: everything before the first <c>#</c>.</summary>
    public static string SignedUrl(string pageUrl)
    {
        var hash = pageUrl.IndexOf('#', StringComparison.Ordinal);
        return hash < 0 ? pageUrl : pageUrl[..hash];
    }
}
