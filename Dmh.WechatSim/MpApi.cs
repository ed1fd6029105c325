using System.Collections.Concurrent;
using System.Text.Json;
using Dmh.WechatPay;
using Microsoft.Extensions.Options;

namespace Dmh.WechatSim;

/// <summary>One share card a page set through the JS-SDK shim (what WeChat would show in a chat or on Moments).</summary>
public sealed record ShareRecord(string Kind, string Title, string Desc, string Link, string ImgUrl, string Page, DateTimeOffset At);

/// <summary>The official account side of api.weixin.qq.com the JS-SDK needs, and what the shim recorded.</summary>
public sealed class MpState
{
    private long _tokenCalls;
    private long _ticketCalls;

    public long TokenCalls => Interlocked.Read(ref _tokenCalls);

    public long TicketCalls => Interlocked.Read(ref _ticketCalls);

    /// <summary>Valid access tokens and jsapi tickets with their expiry.</summary>
    public ConcurrentDictionary<string, DateTimeOffset> AccessTokens { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, DateTimeOffset> Tickets { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<ShareRecord> Shares { get; } = new();

    public long CountTokenCall() => Interlocked.Increment(ref _tokenCalls);

    public long CountTicketCall() => Interlocked.Increment(ref _ticketCalls);
}

/// <summary>
/// <c>/cgi-bin/token</c>, <c>/cgi-bin/ticket/getticket</c> and a JS-SDK stand-in (<c>/jweixin.js</c>) whose
/// <c>wx.config</c> checks the signature here, as WeChat's client does, and whose share calls are recorded
/// for tests (<c>GET /sim/jssdk/shares</c>). docs/API.md, "Sharing inside WeChat".
/// </summary>
public static class MpApi
{
    public sealed record ConfigCheck(string? AppId, long? Timestamp, string? NonceStr, string? Signature, string? Url);

    public sealed record ShareCommand(string? Kind, string? Title, string? Desc, string? Link, string? ImgUrl, string? Page);

    public static IEndpointRouteBuilder MapMpApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/cgi-bin/token", Token);
        app.MapGet("/cgi-bin/ticket/getticket", Ticket);
        app.MapGet("/jweixin.js", (IOptions<SimulatorOptions> o) => TypedResults.Text(Shim(o.Value.PublicUrl), "application/javascript; charset=utf-8"));
        app.MapPost("/sim/jssdk/config", CheckConfig).RequireCors(PayPages.CorsPolicy);
        app.MapPost("/sim/jssdk/share", Share).RequireCors(PayPages.CorsPolicy);
        app.MapGet("/sim/jssdk/shares", (MpState state, string? page) =>
            TypedResults.Ok(state.Shares.Where(s => page is null || s.Page.Contains(page, StringComparison.Ordinal)).ToList()));
        app.MapGet("/sim/mp/calls", (MpState state) => TypedResults.Ok(new { token = state.TokenCalls, ticket = state.TicketCalls }));
        return app;
    }

    private static IResult Token(HttpContext context, MpState state, IOptions<SimulatorOptions> options, TimeProvider time)
    {
        state.CountTokenCall();
        var q = context.Request.Query;
        var o = options.Value;
        if (q["grant_type"] != "client_credential" || string.IsNullOrEmpty(q["appid"]) || (!string.IsNullOrEmpty(o.AppId) && q["appid"] != o.AppId))
        {
            return TypedResults.Json(new { errcode = 40013, errmsg = "invalid appid" });
        }

        if (!string.IsNullOrEmpty(o.AppSecret) && q["secret"] != o.AppSecret)
        {
            return TypedResults.Json(new { errcode = 40125, errmsg = "invalid appsecret" });
        }

        var token = "SIMACCESS" + Guid.NewGuid().ToString("N");
        state.AccessTokens[token] = time.GetUtcNow() + o.AccessTokenLifetime;
        return TypedResults.Json(new { access_token = token, expires_in = (int)o.AccessTokenLifetime.TotalSeconds });
    }

    private static IResult Ticket(HttpContext context, MpState state, IOptions<SimulatorOptions> options, TimeProvider time)
    {
        state.CountTicketCall();
        var q = context.Request.Query;
        if (!state.AccessTokens.TryGetValue(q["access_token"].ToString(), out var expires) || expires <= time.GetUtcNow())
        {
            return TypedResults.Json(new { errcode = 40001, errmsg = "invalid credential, access_token is invalid or not latest" });
        }

        if (q["type"] != "jsapi")
        {
            return TypedResults.Json(new { errcode = 40097, errmsg = "invalid args" });
        }

        var ticket = "SIMTICKET" + Guid.NewGuid().ToString("N");
        state.Tickets[ticket] = time.GetUtcNow() + options.Value.AccessTokenLifetime;
        return TypedResults.Json(new { errcode = 0, errmsg = "ok", ticket, expires_in = (int)options.Value.AccessTokenLifetime.TotalSeconds });
    }

    /// <summary>The signature must be over one of the live tickets and the page's own URL without its hash.</summary>
    private static IResult CheckConfig(ConfigCheck check, MpState state, IOptions<SimulatorOptions> options, TimeProvider time)
    {
        if (check.AppId is null || check.Timestamp is null || check.NonceStr is null || check.Signature is null || check.Url is null)
        {
            return TypedResults.Json(new { errMsg = "config:fail, missing parameters" }, statusCode: 400);
        }

        if (!string.IsNullOrEmpty(options.Value.AppId) && check.AppId != options.Value.AppId)
        {
            return TypedResults.Json(new { errMsg = "config:invalid appid" }, statusCode: 400);
        }

        var url = WechatJsSdk.SignedUrl(check.Url);
        var now = time.GetUtcNow();
        var valid = state.Tickets.Any(t => t.Value > now && WechatJsSdk.Signature(t.Key, check.NonceStr, check.Timestamp.Value, url) == check.Signature);
        return valid
            ? TypedResults.Json(new { errMsg = "config:ok" })
            : TypedResults.Json(new { errMsg = "config:invalid signature" }, statusCode: 400);
    }

    private static IResult Share(ShareCommand command, MpState state, TimeProvider time)
    {
        if (command.Kind is not ("appmessage" or "timeline") || string.IsNullOrEmpty(command.Link) || string.IsNullOrEmpty(command.Page)
            || !Uri.TryCreate(command.Link, UriKind.Absolute, out var link) || !Uri.TryCreate(command.Page, UriKind.Absolute, out var page))
        {
            return TypedResults.Json(new { errMsg = "updateShareData:fail, invalid args" }, statusCode: 400);
        }

        // WeChat: the link's domain must be the page's (the JS safe domain).
        if (!string.Equals(link.Authority, page.Authority, StringComparison.OrdinalIgnoreCase))
        {
            return TypedResults.Json(new { errMsg = "updateShareData:fail, the link's domain is not the page's" }, statusCode: 400);
        }

        state.Shares.Enqueue(new ShareRecord(command.Kind, command.Title ?? "", command.Desc ?? "", command.Link, command.ImgUrl ?? "", command.Page, time.GetUtcNow()));
        return TypedResults.Json(new { errMsg = (command.Kind == "appmessage" ? "updateAppMessageShareData" : "updateTimelineShareData") + ":ok" });
    }

    private static string Shim(string publicUrl) => $$"""
        // jweixin stand-in served by the DMH WeChat simulator: wx.config is checked by the simulator,
        // share settings are recorded there (GET /sim/jssdk/shares) and kept in window.__wxShares.
        (function () {
          var SIM = {{JsonSerializer.Serialize(publicUrl.TrimEnd('/'))}};
          var state = 'idle', readyFns = [], errorFns = [], configured = null;
          window.__wxShares = [];
          function post(path, body) {
            return fetch(SIM + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
              .then(function (r) { return r.json(); });
          }
          function share(kind, o) {
            o = o || {};
            var rec = { kind: kind, title: o.title || '', desc: o.desc || '', link: o.link || '', imgUrl: o.imgUrl || '', page: location.href };
            function send() {
              if (state !== 'ok') { (o.fail || function () {})({ errMsg: kind + ':fail, config not ready' }); return; }
              post('/sim/jssdk/share', rec).then(function (a) {
                if (/:ok$/.test(a.errMsg)) { window.__wxShares.push(rec); (o.success || function () {})(a); }
                else (o.fail || function () {})(a);
              }, function () { (o.fail || function () {})({ errMsg: kind + ':fail' }); });
            }
            send();
          }
          window.wx = {
            config: function (c) {
              configured = c;
              state = 'pending';
              post('/sim/jssdk/config', { appId: c.appId, timestamp: c.timestamp, nonceStr: c.nonceStr, signature: c.signature, url: location.href.split('#')[0] })
                .then(function (a) {
                  state = a.errMsg === 'config:ok' ? 'ok' : 'error';
                  var fns = state === 'ok' ? readyFns : errorFns;
                  fns.splice(0).forEach(function (f) { f(state === 'ok' ? undefined : a); });
                }, function () { state = 'error'; errorFns.splice(0).forEach(function (f) { f({ errMsg: 'config:fail' }); }); });
            },
            ready: function (f) { if (state === 'ok') f(); else readyFns.push(f); },
            error: function (f) { if (state === 'error') f({ errMsg: 'config:invalid signature' }); else errorFns.push(f); },
            checkJsApi: function (o) { (o.success || function () {})({ checkResult: {}, errMsg: 'checkJsApi:ok' }); },
            updateAppMessageShareData: function (o) { share('appmessage', o); },
            updateTimelineShareData: function (o) { share('timeline', o); },
            onMenuShareAppMessage: function (o) { share('appmessage', o); },
            onMenuShareTimeline: function (o) { share('timeline', o); }
          };
        {{SubscribeMessages.OpenTagShim}}
        })();
        """;
}
