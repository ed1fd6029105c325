using System.Globalization;
using System.Net;
using System.Text.Json;
using Dmh.WechatPay;
using Microsoft.Extensions.Options;

namespace Dmh.WechatSim;

/// <summary>What a payer sees: the H5 cashier page (h5_url) and the WeixinJSBridge shim for JSAPI.</summary>
public static class PayPages
{
    public const string CorsPolicy = "jsbridge";

    public static IEndpointRouteBuilder MapPayPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/cgi-bin/mmpayweb-bin/checkmweb", Cashier);
        app.MapPost("/cgi-bin/mmpayweb-bin/pay", ConfirmAsync).DisableAntiforgery();
        app.MapGet("/jsbridge.js", (IOptions<SimulatorOptions> o) => TypedResults.Text(Shim(o.Value.PublicUrl), "application/javascript; charset=utf-8"));
        app.MapPost("/sim/jsapi/pay", JsapiPay).RequireCors(CorsPolicy);
        return app;
    }

    private static IResult Cashier(HttpContext context, SimState state)
    {
        var prepayId = context.Request.Query["prepay_id"].ToString();
        var redirect = context.Request.Query["redirect_url"].ToString();
        if (!state.ByPrepayId.TryGetValue(prepayId, out var order) || order.TradeType != "MWEB")
        {
            return Page("支付失败", "<p class=\"err\">订单不存在或链接已失效</p>", 404);
        }

        string stateNow;
        lock (order.Gate)
        {
            stateNow = order.State;
        }

        var amount = (order.Total / 100m).ToString("0.00", CultureInfo.InvariantCulture);
        var body = stateNow == "NOTPAY"
            ? $"""
               <div class="amount">¥{amount}</div>
               <p class="desc">{WebUtility.HtmlEncode(order.Description)}</p>
               <form method="post" action="/cgi-bin/mmpayweb-bin/pay">
                 <input type="hidden" name="prepay_id" value="{WebUtility.HtmlEncode(prepayId)}">
                 <input type="hidden" name="redirect_url" value="{WebUtility.HtmlEncode(redirect)}">
                 <button type="submit" id="pay">确认支付</button>
               </form>
               <p class="hint">微信支付模拟器 · 商户订单号 {WebUtility.HtmlEncode(order.OutTradeNo)}</p>
               """
            : $"<p class=\"desc\">订单状态：{WebUtility.HtmlEncode(stateNow)}</p>";
        return Page("微信支付", body, 200);
    }

    private static async Task<IResult> ConfirmAsync(HttpContext context, SimState state, Cashier cashier)
    {
        var form = await context.Request.ReadFormAsync();
        var prepayId = form["prepay_id"].ToString();
        var redirect = form["redirect_url"].ToString();
        if (!state.ByPrepayId.TryGetValue(prepayId, out var order))
        {
            return Page("支付失败", "<p class=\"err\">订单不存在</p>", 404);
        }

        var fault = context.Request.Query["fault"].ToString();
        var (ok, message) = cashier.Pay(order, string.IsNullOrEmpty(fault) ? Faults.None : fault);
        if (!ok)
        {
            return Page("支付失败", $"<p class=\"err\">{WebUtility.HtmlEncode(message)}</p>", 409);
        }

        if (Uri.TryCreate(redirect, UriKind.Absolute, out var target) && (target.Scheme == Uri.UriSchemeHttp || target.Scheme == Uri.UriSchemeHttps))
        {
            return TypedResults.Redirect(target.ToString());
        }

        return Page("支付成功", "<div class=\"ok\">✔</div><p class=\"desc\">支付成功</p>", 200);
    }

    private static IResult JsapiPay(JsonElement request, SimState state, SimKeys keys, Cashier cashier)
    {
        string? Get(string name) => request.ValueKind == JsonValueKind.Object && request.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var appId = Get("appId");
        var timeStamp = Get("timeStamp");
        var nonce = Get("nonceStr");
        var package = Get("package");
        var paySign = Get("paySign");
        if (appId is null || timeStamp is null || nonce is null || package is null || paySign is null || Get("signType") != "RSA")
        {
            return TypedResults.Json(new { err_msg = "get_brand_wcpay_request:fail", err_desc = "参数不完整" }, statusCode: 400);
        }

        if (!WechatPayCrypto.Verify(keys.MerchantKey, WechatPayCrypto.PaySignMessage(appId, timeStamp, nonce, package), paySign))
        {
            return TypedResults.Json(new { err_msg = "get_brand_wcpay_request:fail", err_desc = "支付验证签名失败" }, statusCode: 400);
        }

        var prepayId = package.StartsWith("prepay_id=", StringComparison.Ordinal) ? package["prepay_id=".Length..] : "";
        if (!state.ByPrepayId.TryGetValue(prepayId, out var order) || order.AppId != appId || order.TradeType != "JSAPI")
        {
            return TypedResults.Json(new { err_msg = "get_brand_wcpay_request:fail", err_desc = "订单不存在" }, statusCode: 404);
        }

        var (ok, message) = cashier.Pay(order, Get("fault") ?? Faults.None);
        return ok
            ? TypedResults.Json(new { err_msg = "get_brand_wcpay_request:ok" })
            : TypedResults.Json(new { err_msg = "get_brand_wcpay_request:fail", err_desc = message }, statusCode: 409);
    }

    private static IResult Page(string title, string body, int status) => TypedResults.Content($$"""
        <!doctype html>
        <html lang="zh-CN"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1, maximum-scale=1">
        <title>{{title}}</title>
        <style>
          body { margin: 0; font-family: -apple-system, "PingFang SC", "Noto Sans CJK SC", sans-serif; background: #ededed; color: #111; }
          header { background: #fff; padding: 14px; text-align: center; font-size: 17px; border-bottom: 1px solid #e5e5e5; }
          main { padding: 32px 20px; text-align: center; }
          .amount { font-size: 40px; font-weight: 600; margin: 12px 0; }
          .desc { color: #555; font-size: 15px; }
          .hint { color: #999; font-size: 12px; margin-top: 28px; }
          .err { color: #fa5151; }
          .ok { font-size: 56px; color: #07c160; }
          button { width: 100%; max-width: 420px; margin-top: 32px; padding: 14px; font-size: 17px; color: #fff; background: #07c160; border: 0; border-radius: 8px; }
        </style></head>
        <body><header>{{title}}</header><main>{{body}}</main></body></html>
        """, "text/html; charset=utf-8", statusCode: status);

    private static string Shim(string publicUrl) => $$"""
        // WeixinJSBridge stand-in served by the DMH WeChat Pay simulator: getBrandWCPayRequest pays through it,
        // requestMerchantTransfer shows the transfer's confirm sheet.
        (function () {
          var SIM = {{JsonSerializer.Serialize(publicUrl.TrimEnd('/'))}};
          function post(path, body) {
            return fetch(SIM + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body || {}) })
              .then(function (r) { return r.json(); });
          }
          // requestMerchantTransfer: WeChat's confirm page for a merchant transfer, as a sheet over the page.
          function transfer(params, callback) {
            params = params || {};
            post('/sim/transfers/peek', params).then(function (bill) {
              if (bill.err_msg) { callback(bill); return; }
              var sheet = document.createElement('div');
              sheet.setAttribute('data-test', 'sim-transfer-sheet');
              sheet.style.cssText = 'position:fixed;inset:0;z-index:99999;background:rgba(0,0,0,.5);display:flex;align-items:flex-end;font-family:-apple-system,"PingFang SC",sans-serif';
              sheet.innerHTML = '<div style="background:#fff;width:100%;border-radius:12px 12px 0 0;padding:24px 20px 28px;text-align:center">'
                + '<div style="font-size:15px;color:#555">商家转账 · 确认收款</div>'
                + '<div style="font-size:36px;font-weight:600;margin:14px 0">¥' + (bill.amountFen / 100).toFixed(2) + '</div>'
                + '<div style="font-size:14px;color:#888;margin-bottom:22px"></div>'
                + '<button data-test="sim-transfer-confirm" style="width:100%;padding:13px;font-size:17px;color:#fff;background:#07c160;border:0;border-radius:8px">确认收款</button>'
                + '<button data-test="sim-transfer-cancel" style="width:100%;margin-top:10px;padding:12px;font-size:16px;color:#333;background:#f2f2f2;border:0;border-radius:8px">取消</button></div>';
              sheet.querySelector('div div:nth-child(3)').textContent = bill.remark || '';
              document.body.appendChild(sheet);
              sheet.querySelector('[data-test=sim-transfer-cancel]').onclick = function () {
                sheet.remove(); callback({ err_msg: 'requestMerchantTransfer:cancel' });
              };
              sheet.querySelector('[data-test=sim-transfer-confirm]').onclick = function () {
                sheet.remove();
                post('/sim/transfers/confirm', params).then(callback)
                  .catch(function () { callback({ err_msg: 'requestMerchantTransfer:fail' }); });
              };
            }).catch(function () { callback({ err_msg: 'requestMerchantTransfer:fail' }); });
          }
          function invoke(name, params, callback) {
            callback = callback || function () {};
            if (name === 'requestMerchantTransfer') { transfer(params, callback); return; }
            if (name !== 'getBrandWCPayRequest') { callback({ err_msg: name + ':fail' }); return; }
            fetch(SIM + '/sim/jsapi/pay', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(params || {}) })
              .then(function (r) { return r.json(); })
              .then(function (answer) { callback(answer); })
              .catch(function () { callback({ err_msg: 'get_brand_wcpay_request:fail' }); });
          }
          window.WeixinJSBridge = { invoke: invoke, on: function () {}, call: function () {} };
          function ready() { document.dispatchEvent(new Event('WeixinJSBridgeReady')); }
          if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', ready); } else { setTimeout(ready, 0); }
        })();
        """;
}
