using System.Net;
using Microsoft.Extensions.Options;

namespace Dmh.WechatSim;

/// <summary>open.weixin.qq.com's authorize page and api.weixin.qq.com's code exchange (docs/wechatpay-v3.md §7).</summary>
public static class OAuthEndpoints
{
    public const string OpenIdCookie = "sim_openid";
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(5);

    public static IEndpointRouteBuilder MapOAuth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/connect/oauth2/authorize", Authorize);
        app.MapGet("/sns/oauth2/access_token", Exchange);
        return app;
    }

    private static IResult Authorize(HttpContext context, SimState state, IOptions<SimulatorOptions> options, TimeProvider time)
    {
        var q = context.Request.Query;
        var appId = q["appid"].ToString();
        var redirect = q["redirect_uri"].ToString();
        var scope = q["scope"].ToString();
        var stateParam = q["state"].ToString();
        if ((!string.IsNullOrEmpty(options.Value.AppId) && appId != options.Value.AppId) || string.IsNullOrEmpty(appId))
        {
            return Html("参数错误", "<p>appid 无效（10003 redirect_uri 域名与后台配置不一致 / appid 错误）</p>", 400);
        }

        if (!Uri.TryCreate(redirect, UriKind.Absolute, out var target) || (target.Scheme != Uri.UriSchemeHttp && target.Scheme != Uri.UriSchemeHttps)
            || q["response_type"] != "code" || scope is not ("snsapi_base" or "snsapi_userinfo"))
        {
            return Html("参数错误", "<p>redirect_uri、response_type 或 scope 参数错误</p>", 400);
        }

        // snsapi_userinfo asks the user first; snsapi_base is silent, as on WeChat.
        if (scope == "snsapi_userinfo" && q["confirm"] != "1")
        {
            var confirmUrl = context.Request.Path + context.Request.QueryString.Add("confirm", "1");
            return Html("授权登录", $"""
                <p>DMH 测试公众号 申请获取你的昵称、头像</p>
                <a class="btn" id="allow" href="{WebUtility.HtmlEncode(confirmUrl)}">允许</a>
                """, 200);
        }

        var openId = q["sim_openid"].ToString();
        if (string.IsNullOrEmpty(openId))
        {
            openId = context.Request.Cookies[OpenIdCookie] ?? "oSIM" + Guid.NewGuid().ToString("N")[..24];
        }

        context.Response.Cookies.Append(OpenIdCookie, openId, new CookieOptions { HttpOnly = true, MaxAge = TimeSpan.FromDays(365) });
        var code = "SIM" + Guid.NewGuid().ToString("N");
        state.Codes[code] = new OAuthCode(code, appId, openId, scope, q["sim_snapshot"] == "1", time.GetUtcNow() + CodeLifetime);
        // Like WeChat, the pair goes into the query before the fragment (a hash router's own "?" is not the query).
        var parts = redirect.Split('#', 2);
        var separator = parts[0].Contains('?', StringComparison.Ordinal) ? "&" : "?";
        var location = parts[0] + separator + "code=" + Uri.EscapeDataString(code) + "&state=" + Uri.EscapeDataString(stateParam)
            + (parts.Length == 2 ? "#" + parts[1] : "");
        return TypedResults.Redirect(location);
    }

    private static IResult Exchange(HttpContext context, SimState state, IOptions<SimulatorOptions> options, TimeProvider time)
    {
        var q = context.Request.Query;
        var o = options.Value;
        if (string.IsNullOrEmpty(q["appid"]) || (!string.IsNullOrEmpty(o.AppId) && q["appid"] != o.AppId))
        {
            return TypedResults.Json(new { errcode = 40013, errmsg = "invalid appid" });
        }

        if (!string.IsNullOrEmpty(o.AppSecret) && q["secret"] != o.AppSecret)
        {
            return TypedResults.Json(new { errcode = 40125, errmsg = "invalid appsecret" });
        }

        if (q["grant_type"] != "authorization_code")
        {
            return TypedResults.Json(new { errcode = 40002, errmsg = "invalid grant_type" });
        }

        // Single use: the first exchange removes the code; a page refresh that re-sends it gets 40029.
        if (!state.Codes.TryRemove(q["code"].ToString(), out var code) || code.ExpiresAt <= time.GetUtcNow() || code.AppId != q["appid"])
        {
            return TypedResults.Json(new { errcode = 40029, errmsg = "invalid code" });
        }

        var token = "SIMAT" + Guid.NewGuid().ToString("N");
        return code.Snapshot
            ? TypedResults.Json(new { access_token = token, expires_in = 7200, refresh_token = "SIMRT" + Guid.NewGuid().ToString("N"), openid = code.OpenId, scope = code.Scope, is_snapshotuser = 1 })
            : TypedResults.Json(new { access_token = token, expires_in = 7200, refresh_token = "SIMRT" + Guid.NewGuid().ToString("N"), openid = code.OpenId, scope = code.Scope });
    }

    private static IResult Html(string title, string body, int status) => TypedResults.Content($$"""
        <!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1"><title>{{title}}</title>
        <style>body{margin:0;font-family:-apple-system,"PingFang SC","Noto Sans CJK SC",sans-serif;text-align:center;padding:40px 20px}
        .btn{display:block;max-width:420px;margin:32px auto;padding:14px;color:#fff;background:#07c160;border-radius:8px;text-decoration:none}</style>
        </head><body><h3>{{title}}</h3>{{body}}</body></html>
        """, "text/html; charset=utf-8", statusCode: status);
}
