using System.Security.Cryptography;
using Dmh.Ingress.Http;
using Dmh.Platform.Wechat;
using Dmh.WechatPay;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.WechatShare;

/// <summary>What <c>wx.config</c> needs for one page (<c>jsApiList</c> is the page's choice).</summary>
public sealed record JsSdkConfig(string AppId, long Timestamp, string NonceStr, string Signature, string Url);

/// <summary>
/// JS-SDK signatures for the H5 pages' share cards (issue 19): only for pages under <c>Public:BaseUrl</c>,
/// so DMH's ticket signs nothing for another site.
/// </summary>
public static class JsSdkEndpoints
{
    public const string Path = "/api/v1/h5/jssdk-config";
    public const int MaxUrlLength = 2048;

    public static WebApplicationBuilder AddWechatShare(this WebApplicationBuilder builder)
    {
        builder.AddWechatCredentials();
        return builder;
    }

    public static IEndpointRouteBuilder MapJsSdkEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, SignAsync).WithTags("H5");
        return app;
    }

    private static async Task<Results<Ok<JsSdkConfig>, ProblemHttpResult>> SignAsync(
        string? url, HttpContext http, WechatCredentials credentials, IOptions<PublicOptions> publicOptions, IOptions<WechatPayOptions> wechat,
        TimeProvider time, ILogger<JsSdkConfig> logger, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(url) || url.Length > MaxUrlLength)
        {
            return Problems.Validation("url", $"The page URL is required (at most {MaxUrlLength} characters).");
        }

        var signed = WechatJsSdk.SignedUrl(url);
        if (!IsOwnPage(signed, publicOptions.Value.BaseUrl))
        {
            return Problems.Validation("url", "Only pages under this site's public address can be signed.");
        }

        string ticket;
        try
        {
            ticket = await credentials.JsapiTicketAsync(ct);
        }
        catch (WechatApiException ex)
        {
            logger.LogWarning(ex, "No jsapi_ticket for a JS-SDK signature");
            return Problems.Of(StatusCodes.Status502BadGateway, "wechat-unavailable", "WeChat unavailable", "WeChat did not give a JS-SDK ticket; sharing works without a card meanwhile.");
        }

        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new JsSdkConfig(wechat.Value.AppId, timestamp, nonce, WechatJsSdk.Signature(ticket, nonce, timestamp, signed), signed));
    }

    /// <summary>
    /// An absolute http(s) URL without user info, control characters or spaces, on the scheme, host and
    /// port of <paramref name="baseUrl"/> and under its path.
    /// </summary>
    public static bool IsOwnPage(string url, string baseUrl)
    {
        if (url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c == '\\')
            || !Uri.TryCreate(url, UriKind.Absolute, out var page) || !Uri.TryCreate(baseUrl, UriKind.Absolute, out var site)
            || (page.Scheme != Uri.UriSchemeHttp && page.Scheme != Uri.UriSchemeHttps) || page.UserInfo.Length > 0)
        {
            return false;
        }

        var basePath = site.AbsolutePath.TrimEnd('/') + "/";
        return page.Scheme == site.Scheme
            && string.Equals(page.IdnHost, site.IdnHost, StringComparison.OrdinalIgnoreCase)
            && page.Port == site.Port
            && (page.AbsolutePath + "/").StartsWith(basePath, StringComparison.Ordinal);
    }
}
