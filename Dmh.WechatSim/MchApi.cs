using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dmh.WechatPay;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Dmh.WechatSim;

/// <summary>A JSON answer signed as WeChat Pay signs its answers (Wechatpay-* headers over the exact bytes).</summary>
public sealed class SignedResult(int status, object? payload) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var context = httpContext;
        var keys = context.RequestServices.GetRequiredService<SimKeys>();
        var state = context.RequestServices.GetRequiredService<SimState>();
        var time = context.RequestServices.GetRequiredService<TimeProvider>();
        var body = payload is null ? [] : JsonSerializer.SerializeToUtf8Bytes(payload, WechatPayJson.Options);
        var timestamp = WechatPayCrypto.UnixSeconds(time.GetUtcNow());
        var nonce = WechatPayCrypto.NewNonce();
        var serial = state.SignWith == "certificate" || context.Request.Path.StartsWithSegments("/v3/certificates")
            ? keys.CertificateSerial
            : keys.PublicKeyId;
        var headers = context.Response.Headers;
        headers[WechatPaySignatureHeaders.TimestampHeader] = timestamp;
        headers[WechatPaySignatureHeaders.NonceHeader] = nonce;
        headers[WechatPaySignatureHeaders.SerialHeader] = serial;
        headers[WechatPaySignatureHeaders.SignatureTypeHeader] = WechatPayCrypto.SignatureType;
        headers[WechatPaySignatureHeaders.SignatureHeader] = WechatPayCrypto.Sign(keys.Key, WechatPayCrypto.ResponseMessage(timestamp, nonce, body));
        headers["Request-ID"] = Guid.NewGuid().ToString();
        context.Response.StatusCode = status;
        if (body.Length > 0)
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.Body.WriteAsync(body);
        }
    }
}

/// <summary>api.mch.weixin.qq.com: prepay, query, close, refund, certificates; every call's Authorization checked.</summary>
public static partial class MchApi
{
    private static readonly TimeSpan China = TimeSpan.FromHours(8);

    public static IEndpointRouteBuilder MapMchApi(this IEndpointRouteBuilder app)
    {
        var v3 = app.MapGroup("/v3").AddEndpointFilter(async (ctx, next) =>
        {
            var error = await AuthenticateAsync(ctx.HttpContext);
            return error ?? await next(ctx);
        });
        v3.MapPost("/pay/transactions/jsapi", (HttpContext c, SimState s, IOptions<SimulatorOptions> o, TimeProvider t) => Prepay(c, s, o.Value, t, "JSAPI"));
        v3.MapPost("/pay/transactions/h5", (HttpContext c, SimState s, IOptions<SimulatorOptions> o, TimeProvider t) => Prepay(c, s, o.Value, t, "MWEB"));
        v3.MapGet("/pay/transactions/out-trade-no/{outTradeNo}", Query);
        v3.MapPost("/pay/transactions/out-trade-no/{outTradeNo}/close", Close);
        v3.MapPost("/refund/domestic/refunds", RefundAsync);
        v3.MapGet("/refund/domestic/refunds/{outRefundNo}", QueryRefund);
        v3.MapGet("/certificates", Certificates);
        v3.MapTransferBills();
        return app;
    }

    public static SignedResult Error(int status, string code, string message) => new(status, new { code, message });

    private static async Task<IResult?> AuthenticateAsync(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<SimulatorOptions>>().Value;
        var keys = context.RequestServices.GetRequiredService<SimKeys>();
        var time = context.RequestServices.GetRequiredService<TimeProvider>();
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        context.Items["body"] = body;

        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith(WechatPayCrypto.SignatureType + " ", StringComparison.Ordinal))
        {
            return Error(401, "SIGN_ERROR", "缺少或不支持的 Authorization 认证类型");
        }

        var fields = AuthField().Matches(header).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);
        if (!fields.TryGetValue("mchid", out var mchId) || !fields.TryGetValue("nonce_str", out var nonce)
            || !fields.TryGetValue("signature", out var signature) || !fields.TryGetValue("timestamp", out var timestamp)
            || !fields.TryGetValue("serial_no", out var serial))
        {
            return Error(401, "SIGN_ERROR", "Authorization 缺少字段");
        }

        if (!string.IsNullOrEmpty(options.MchId) && mchId != options.MchId)
        {
            return Error(401, "SIGN_ERROR", "商户号不匹配");
        }

        if (!string.IsNullOrEmpty(options.MerchantSerialNo) && !string.Equals(serial, options.MerchantSerialNo, StringComparison.OrdinalIgnoreCase))
        {
            return Error(401, "SIGN_ERROR", "商户证书序列号有误");
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var ts)
            || Math.Abs(time.GetUtcNow().ToUnixTimeSeconds() - ts) > 300)
        {
            return Error(401, "SIGN_ERROR", "时间戳过期");
        }

        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path + context.Request.QueryString;
        var message = WechatPayCrypto.RequestMessage(context.Request.Method, target, timestamp, nonce, body);
        return WechatPayCrypto.Verify(keys.MerchantKey, message, signature) ? null : Error(401, "SIGN_ERROR", "签名错误");
    }

    private static JsonElement? Body(HttpContext context)
    {
        try
        {
            return JsonDocument.Parse((byte[])context.Items["body"]!).RootElement;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static IResult Prepay(HttpContext context, SimState state, SimulatorOptions options, TimeProvider time, string tradeType)
    {
        if (Body(context) is not { } body)
        {
            return Error(400, "PARAM_ERROR", "请求体不是有效的 JSON");
        }

        var appId = Str(body, "appid");
        var mchId = Str(body, "mchid");
        var outTradeNo = Str(body, "out_trade_no");
        var description = Str(body, "description");
        var notifyUrl = Str(body, "notify_url");
        long total = 0;
        var hasAmount = body.TryGetProperty("amount", out var amount) && amount.ValueKind == JsonValueKind.Object
            && amount.TryGetProperty("total", out var t) && t.TryGetInt64(out total);
        string? openId = null;
        if (tradeType == "JSAPI")
        {
            openId = body.TryGetProperty("payer", out var payer) ? Str(payer, "openid") : null;
        }

        var missing = new[] { ("appid", appId), ("mchid", mchId), ("out_trade_no", outTradeNo), ("description", description), ("notify_url", notifyUrl) }
            .FirstOrDefault(f => string.IsNullOrEmpty(f.Item2)).Item1;
        if (missing is not null || !hasAmount)
        {
            return Error(400, "PARAM_ERROR", $"缺少参数 {missing ?? "amount.total"}");
        }

        if (tradeType == "JSAPI" && string.IsNullOrEmpty(openId))
        {
            return Error(400, "PARAM_ERROR", "JSAPI 下单缺少 payer.openid");
        }

        if (tradeType == "MWEB" && !(body.TryGetProperty("scene_info", out var scene) && Str(scene, "payer_client_ip") is { Length: > 0 }
            && scene.TryGetProperty("h5_info", out var h5) && Str(h5, "type") is { Length: > 0 }))
        {
            return Error(400, "PARAM_ERROR", "H5 下单缺少 scene_info.payer_client_ip 或 scene_info.h5_info.type");
        }

        if (!OutTradeNoPattern().IsMatch(outTradeNo!) || total < 1 || description!.Length > 127 || notifyUrl!.Length > 255
            || !Uri.TryCreate(notifyUrl, UriKind.Absolute, out var notify) || notify.Query.Length > 0)
        {
            return Error(400, "PARAM_ERROR", "参数格式错误（out_trade_no、amount.total、description 或 notify_url）");
        }

        if (!string.IsNullOrEmpty(options.AppId) && appId != options.AppId)
        {
            return Error(400, "APPID_MCHID_NOT_MATCH", "appid 和 mch_id 不匹配");
        }

        DateTimeOffset? expire = null;
        if (Str(body, "time_expire") is { } te)
        {
            if (!DateTimeOffset.TryParseExact(te, "yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
            {
                return Error(400, "PARAM_ERROR", "time_expire 格式错误");
            }

            expire = parsed;
        }

        var fingerprint = $"{tradeType}|{appId}|{description}|{total}|{openId}|{notifyUrl}";
        var created = new SimOrder
        {
            OutTradeNo = outTradeNo!, AppId = appId!, MchId = mchId!, Description = description!, Total = total,
            NotifyUrl = notifyUrl!, TradeType = tradeType, OpenId = openId, Attach = Str(body, "attach"), TimeExpire = expire,
            PayerClientIp = body.TryGetProperty("scene_info", out var sceneInfo) ? Str(sceneInfo, "payer_client_ip") : null,
            PrepayId = "wx" + time.GetUtcNow().ToOffset(China).ToString("ddHHmmss", CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..20],
            RequestFingerprint = fingerprint,
        };
        var order = state.Orders.GetOrAdd(outTradeNo!, created);
        lock (order.Gate)
        {
            if (order.State == "SUCCESS" || order.State == "REFUND")
            {
                return Error(400, "ORDERPAID", "该订单已支付");
            }

            if (order.State == "CLOSED")
            {
                return Error(400, "ORDERCLOSED", "该订单已关闭");
            }

            if (order.RequestFingerprint != fingerprint)
            {
                return Error(400, "INVALID_REQUEST", "商户订单号重复，且参数与原订单不一致");
            }
        }

        state.ByPrepayId[order.PrepayId] = order;
        if (tradeType == "JSAPI")
        {
            return new SignedResult(200, new { prepay_id = order.PrepayId });
        }

        var h5Url = $"{options.PublicUrl.TrimEnd('/')}/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={order.PrepayId}&package={Random.Shared.Next(1_000_000_000)}";
        return new SignedResult(200, new { h5_url = h5Url });
    }

    private static IResult Query(string outTradeNo, HttpContext context, SimState state, IOptions<SimulatorOptions> options)
    {
        var mchId = context.Request.Query["mchid"].ToString();
        if (string.IsNullOrEmpty(mchId))
        {
            return Error(400, "PARAM_ERROR", "缺少参数 mchid");
        }

        if (!state.Orders.TryGetValue(outTradeNo, out var order) || order.MchId != mchId)
        {
            return Error(404, "ORDER_NOT_EXIST", "订单不存在");
        }

        lock (order.Gate)
        {
            return new SignedResult(200, NotifySender.TransactionJson(order));
        }
    }

    private static IResult Close(string outTradeNo, HttpContext context, SimState state)
    {
        if (Body(context) is not { } body || Str(body, "mchid") is not { Length: > 0 } mchId)
        {
            return Error(400, "PARAM_ERROR", "缺少参数 mchid");
        }

        if (!state.Orders.TryGetValue(outTradeNo, out var order) || order.MchId != mchId)
        {
            return Error(404, "ORDER_NOT_EXIST", "订单不存在");
        }

        lock (order.Gate)
        {
            if (order.State is "SUCCESS" or "REFUND")
            {
                return Error(400, "ORDERPAID", "订单已支付");
            }

            order.State = "CLOSED";
        }

        return new SignedResult(204, null);
    }

    private static async Task<IResult> RefundAsync(HttpContext context, SimState state, NotifySender notifier, IOptions<SimulatorOptions> options, TimeProvider time)
    {
        if (Body(context) is not { } body)
        {
            return Error(400, "PARAM_ERROR", "请求体不是有效的 JSON");
        }

        var outTradeNo = Str(body, "out_trade_no");
        var transactionId = Str(body, "transaction_id");
        var outRefundNo = Str(body, "out_refund_no");
        long refund = 0, total = 0;
        var amountOk = body.TryGetProperty("amount", out var amount) && amount.ValueKind == JsonValueKind.Object
            && amount.TryGetProperty("refund", out var r) && r.TryGetInt64(out refund)
            && amount.TryGetProperty("total", out var t) && t.TryGetInt64(out total);
        if (string.IsNullOrEmpty(outRefundNo) || !amountOk || (outTradeNo is null && transactionId is null))
        {
            return Error(400, "PARAM_ERROR", "缺少参数 out_refund_no、amount 或订单号");
        }

        var order = outTradeNo is not null
            ? state.Orders.GetValueOrDefault(outTradeNo)
            : state.Orders.Values.FirstOrDefault(o => o.TransactionId == transactionId);
        if (order is null)
        {
            return Error(404, "RESOURCE_NOT_EXISTS", "订单不存在");
        }

        if (state.Refunds.TryGetValue(outRefundNo!, out var existing))
        {
            return new SignedResult(200, RefundJson(existing));
        }

        SimRefund created;
        lock (order.Gate)
        {
            if (order.State is not ("SUCCESS" or "REFUND"))
            {
                return Error(400, "INVALID_REQUEST", "订单未支付，不能退款");
            }

            if (total != order.Total || refund < 1)
            {
                return Error(400, "PARAM_ERROR", "退款金额或订单金额有误");
            }

            var refunded = state.Refunds.Values.Where(x => x.Order == order && x.Status != "CLOSED").Sum(x => x.Refund);
            if (refunded + refund > order.Total)
            {
                return Error(403, "NOT_ENOUGH", "可退款金额不足");
            }

            created = new SimRefund
            {
                OutRefundNo = outRefundNo!, RefundId = "5030" + Guid.NewGuid().ToString("N")[..24], Order = order, Refund = refund,
                NotifyUrl = Str(body, "notify_url") ?? order.NotifyUrl, CreateTime = time.GetUtcNow(),
            };
            if (!state.Refunds.TryAdd(outRefundNo!, created))
            {
                return new SignedResult(200, RefundJson(state.Refunds[outRefundNo!]));
            }
        }

        _ = Task.Run(async () =>
        {
            var o = options.Value;
            await Task.Delay(TimeSpan.FromTicks((long)(o.RefundDelay.Ticks * o.TimeCompression)), time);
            lock (order.Gate)
            {
                created.Status = "SUCCESS";
                created.SuccessTime = time.GetUtcNow();
                order.State = "REFUND";
            }

            await notifier.DeliverRefundAsync(created);
        });
        await Task.CompletedTask;
        return new SignedResult(200, RefundJson(created));
    }

    private static IResult QueryRefund(string outRefundNo, SimState state)
    {
        if (!state.Refunds.TryGetValue(outRefundNo, out var refund))
        {
            return Error(404, "RESOURCE_NOT_EXISTS", "退款单不存在");
        }

        lock (refund.Order.Gate)
        {
            return new SignedResult(200, RefundJson(refund));
        }
    }

    private static object RefundJson(SimRefund r) => new
    {
        refund_id = r.RefundId,
        out_refund_no = r.OutRefundNo,
        transaction_id = r.Order.TransactionId,
        out_trade_no = r.Order.OutTradeNo,
        channel = "ORIGINAL",
        user_received_account = "支付用户零钱",
        create_time = r.CreateTime.ToOffset(China).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
        status = r.Status,
        success_time = r.SuccessTime?.ToOffset(China).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
        amount = new { total = r.Order.Total, refund = r.Refund, payer_total = r.Order.Total, payer_refund = r.Refund, currency = "CNY" },
    };

    private static IResult Certificates(SimKeys keys, IOptions<SimulatorOptions> options)
    {
        var nonce = WechatPayCrypto.NewNonce(12);
        var ciphertext = WechatPayCrypto.Encrypt(Encoding.UTF8.GetBytes(options.Value.ApiV3Key), nonce, "certificate", Encoding.UTF8.GetBytes(keys.CertificatePem));
        return new SignedResult(200, new
        {
            data = new[]
            {
                new
                {
                    serial_no = keys.CertificateSerial,
                    effective_time = new DateTimeOffset(keys.CertificateNotBefore, TimeSpan.Zero).ToOffset(China).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
                    expire_time = new DateTimeOffset(keys.CertificateNotAfter, TimeSpan.Zero).ToOffset(China).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
                    encrypt_certificate = new { algorithm = "AEAD_AES_256_GCM", nonce, associated_data = "certificate", ciphertext },
                },
            },
        });
    }

    [GeneratedRegex("(\\w+)=\"([^\"]*)\"")]
    private static partial Regex AuthField();

    [GeneratedRegex("^[A-Za-z0-9_\\-|*]{6,32}$")]
    private static partial Regex OutTradeNoPattern();
}
