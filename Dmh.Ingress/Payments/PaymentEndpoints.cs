using System.Diagnostics;
using System.Security.Claims;
using System.Text.Json;
using Dmh.Contracts;
using Dmh.Ingress.Http;
using Dmh.Ingress.Orders;
using Dmh.Ingress.Security;
using Dmh.Platform;
using Dmh.WechatPay;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Prometheus;
using CampaignState = Dmh.Ingress.Campaigns.CampaignStatus;

namespace Dmh.Ingress.Payments;

public sealed record PayRequest(string? Channel);

public sealed record JsapiParameters(string AppId, string TimeStamp, string NonceStr, string Package, string SignType, string PaySign);

public sealed record PayResponse(string OutTradeNo, JsapiParameters? Jsapi, string? H5Url);

public sealed record CallbackRequest(long? OrderId);

public sealed record RefundCommand(long? AmountFen, string? Reason);

public sealed record RefundResponse(string OutRefundNo, string? RefundId, string Status, long AmountFen);

/// <summary>
/// Paying an order: a payment attempt and its prepay, WeChat's notify (verified, decrypted, published
/// once to the payments stream before answering), the page's "I have paid" callback, admin refunds.
/// </summary>
public static class PaymentEndpoints
{
    private const int MaxNotifyBytes = 64 * 1024;

    private static readonly Histogram NotifySeconds = Metrics.CreateHistogram(
        "dmh_payment_notify_seconds", "Time to verify, decrypt and publish a WeChat Pay notify.",
        new HistogramConfiguration { LabelNames = ["outcome"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });

    public static WebApplicationBuilder AddPayments(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PaymentStore>();
        builder.Services.AddSingleton<PaymentPublisher>();
        builder.Services.AddSingleton<AttemptAmounts>();
        return builder;
    }

    public static IEndpointRouteBuilder MapPaymentEndpoints(this IEndpointRouteBuilder app)
    {
        var orders = app.MapGroup("/api/v1/orders").WithTags("Payments");
        orders.MapPost("/{id:long}/pay", PayAsync)
            .LimitPerOrder(OrderLimit.Pay, c => long.TryParse(c.HttpContext.GetRouteValue("id") as string, out var id) ? id : null);
        orders.MapPost("/payment/callback", CallbackAsync)
            .LimitPerOrder(OrderLimit.Callback, c => c.Arguments.OfType<CallbackRequest>().FirstOrDefault()?.OrderId);
        orders.MapPost("/payment/notify", NotifyAsync).ExcludeFromDescription();
        orders.MapPost("/{id:long}/refund", RefundAsync).RequireAuthorization(Policies.AdminWrite);
        return app;
    }

    private static ProblemHttpResult Problem(int status, string type, string title, string? detail = null) =>
        TypedResults.Problem(detail, statusCode: status, title: title, type: type);

    private static async Task<Results<Ok<PayResponse>, ProblemHttpResult, ValidationProblem>> PayAsync(
        long id, PayRequest? request, HttpContext http, OrderAccessTokens tokens, PaymentStore store, AttemptAmounts amounts,
        IPaymentProvider provider, IOptions<WechatPayOptions> options, TimeProvider time, ILogger<PaymentStore> logger, CancellationToken ct)
    {
        if (!await tokens.IsValidAsync(http.Request.Headers[OrderAccessTokens.HeaderName], id, ct))
        {
            return Problem(401, "invalid-order-token", "A valid X-Order-Token for this order is required.");
        }

        var channel = request?.Channel;
        if (channel is not ("jsapi" or "h5"))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["channel"] = ["channel must be \"jsapi\" or \"h5\"."] });
        }

        // JSAPI pays as the WeChat user of the session; an openid in the body is never used (issue 15, H2).
        var openid = http.User.WechatOpenid();
        if (channel == "jsapi" && openid is null)
        {
            return Problems.Of(StatusCodes.Status401Unauthorized, "wechat-session-required", "JSAPI pay needs a WeChat session.",
                "Sign in with WeChat (POST /api/v1/auth/wechat) and send its sessionToken as Authorization: Bearer.");
        }

        var order = await store.FindOrderToPayAsync(id, ct);
        if (order is null)
        {
            return Problem(404, "order-not-found", "No such order.");
        }

        if (order.PayStatus != PayStatus.Unpaid || order.Status is OrderStatus.Paid or OrderStatus.Refunded)
        {
            return Problem(409, "already-paid", "This order is already paid.");
        }

        if (CampaignState.Derive(order.CampaignStatus, order.StartTime, order.EndTime, time.GetUtcNow()) != CampaignState.Active)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "campaign-not-live", "The campaign is not open for payment.",
                "活动已结束或已下线，无法支付 (the campaign has ended or is offline).");
        }

        if (order.Status == OrderStatus.Closed)
        {
            return Problem(409, "order-closed", "This order is closed; register again to reopen it.");
        }

        var amountFen = Money.YuanToFen(order.Amount);
        if (amountFen < 1)
        {
            return Problem(422, "nothing-to-pay", "This order has no amount to pay.");
        }

        var (paymentId, outTradeNo) = await store.InsertAttemptAsync(id, channel, amountFen, channel == "jsapi" ? openid : null, ct);
        await RememberAmountAsync(amounts, outTradeNo, amountFen, options.Value.PrepayLifetime, logger);
        var prepay = new PrepayRequest(outTradeNo, Description(order), amountFen, time.GetUtcNow() + options.Value.PrepayLifetime, null);
        try
        {
            if (channel == "jsapi")
            {
                var jsapi = await provider.PrepayJsapiAsync(prepay, openid!, ct);
                await store.MarkPrepaidAsync(paymentId, jsapi.PrepayId, null, ct);
                return TypedResults.Ok(new PayResponse(outTradeNo,
                    new JsapiParameters(jsapi.AppId, jsapi.TimeStamp, jsapi.NonceStr, jsapi.Package, jsapi.SignType, jsapi.PaySign), null));
            }

            var h5 = await provider.PrepayH5Async(prepay, http.Connection.RemoteIpAddress is null ? "127.0.0.1" : ClientAddress.Of(http), ct);
            await store.MarkPrepaidAsync(paymentId, null, h5.H5Url, ct);
            return TypedResults.Ok(new PayResponse(outTradeNo, null, h5.H5Url));
        }
        catch (WechatPayException ex)
        {
            logger.LogWarning(ex, "Prepay of {OutTradeNo} failed: {Status} {Code}", outTradeNo, ex.Status, ex.Code);
            return Problem(502, "payment-provider-error", "The payment provider refused or did not answer; try again.", ex.Code);
        }
    }

    /// <summary>Before the prepay, so no notify can come first. Best effort: without it the notify asks MySQL.</summary>
    private static async Task RememberAmountAsync(AttemptAmounts amounts, string outTradeNo, long amountFen, TimeSpan payableFor, ILogger logger)
    {
        try
        {
            await amounts.RememberAsync(outTradeNo, amountFen, payableFor);
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
        {
            logger.LogWarning(ex, "Could not cache the amount of {OutTradeNo}; its notify will look it up in MySQL", outTradeNo);
        }
    }

    /// <summary>The campaign's payment description, else its name; WeChat allows 127 characters.</summary>
    private static string Description(PaymentStore.OrderToPay order)
    {
        var text = order.CampaignName;
        if (!string.IsNullOrEmpty(order.PaymentSettings))
        {
            try
            {
                using var doc = JsonDocument.Parse(order.PaymentSettings);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("description", out var d)
                    && d.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(d.GetString()))
                {
                    text = d.GetString()!;
                }
            }
            catch (JsonException)
            {
            }
        }

        return text.Length > 127 ? text[..127] : text;
    }

    private static async Task<Results<Ok<OrderRegistrantView>, ProblemHttpResult, ValidationProblem>> CallbackAsync(
        CallbackRequest? request, HttpContext http, OrderAccessTokens tokens, PaymentStore store, OrderStore orders, IPaymentProvider provider,
        PaymentPublisher publisher, IOptions<WechatPayOptions> options, TimeProvider time, ILogger<PaymentStore> logger, CancellationToken ct)
    {
        if (request?.OrderId is not { } orderId)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["orderId"] = ["orderId is required."] });
        }

        if (!await tokens.IsValidAsync(http.Request.Headers[OrderAccessTokens.HeaderName], orderId, ct))
        {
            return Problem(401, "invalid-order-token", "A valid X-Order-Token for this order is required.");
        }

        var attempt = await store.FindLatestAttemptAsync(orderId, ct);
        if (attempt is not null && attempt.PayStatus == PayStatus.Unpaid)
        {
            try
            {
                var result = await provider.QueryAsync(attempt.OutTradeNo, ct);
                var o = options.Value;
                if (result.State == TradeQueryResult.Success)
                {
                    if (result.TotalFen != attempt.AmountFen || result.AppId != o.AppId || result.MchId != o.MchId || result.TransactionId is null)
                    {
                        logger.LogError("Query of {OutTradeNo} disagrees with the attempt: total {Total} (expected {Expected}), appid {AppId}, mchid {MchId}",
                            attempt.OutTradeNo, result.TotalFen, attempt.AmountFen, result.AppId, result.MchId);
                    }
                    else
                    {
                        var now = time.GetUtcNow();
                        await publisher.PublishOnceAsync(new PaymentSucceeded(attempt.OutTradeNo, result.TransactionId, result.TotalFen.Value,
                            result.PayerTotalFen ?? result.TotalFen.Value, result.SuccessTime ?? now, now, PaymentSources.Callback));
                    }
                }
            }
            catch (WechatPayException ex)
            {
                // The notify and the reconciliation job still confirm the payment: answer with what is stored.
                logger.LogWarning(ex, "Query of {OutTradeNo} for the callback failed", attempt.OutTradeNo);
            }
        }

        // The same registrant view as GET /api/v1/orders/{id}, so the page reads one shape.
        var row = await orders.FindRegistrantAsync(orderId, ct);
        return row is null ? Problem(404, "order-not-found", "No such order.") : TypedResults.Ok(OrderEndpoints.RegistrantView(row, null));
    }

    private static async Task<Results<Ok<RefundResponse>, ProblemHttpResult, ValidationProblem>> RefundAsync(
        long id, RefundCommand? command, ClaimsPrincipal user, PaymentStore store, IPaymentProvider provider, ILogger<PaymentStore> logger, CancellationToken ct)
    {
        var reason = command?.Reason?.Trim();
        if (reason is { Length: > 80 })
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["reason"] = ["At most 80 characters."] });
        }

        var order = await store.FindOrderToPayAsync(id, ct);
        if (order is null)
        {
            return Problem(404, "order-not-found", "No such order.");
        }

        if (order.PayStatus is not (PayStatus.Paid or PayStatus.Refunded))
        {
            return Problem(409, "not-paid", "Only a paid order can be refunded.");
        }

        // The attempt whose transaction is orders.trade_no comes first; the provider confirms which one was paid.
        PaymentStore.Attempt? paid = null;
        try
        {
            foreach (var attempt in await store.FindAttemptsAsync(id, ct))
            {
                if ((await provider.QueryAsync(attempt.OutTradeNo, ct)).State is TradeQueryResult.Success or TradeQueryResult.Refund)
                {
                    paid = attempt;
                    break;
                }
            }
        }
        catch (WechatPayException ex)
        {
            logger.LogWarning(ex, "Querying the attempts of order {OrderId} for a refund failed", id);
            return Problem(502, "payment-provider-error", "The payment provider did not answer; try again.", ex.Code);
        }

        if (paid is null)
        {
            return Problem(409, "no-paid-attempt", "The payment provider knows no paid attempt of this order.");
        }

        var amountFen = command?.AmountFen ?? paid.AmountFen;
        if (amountFen < 1 || amountFen > paid.AmountFen)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["amountFen"] = [$"Between 1 and {paid.AmountFen}."] });
        }

        // One refund per order: a retried click reuses the same out_refund_no, as WeChat requires.
        var adminId = long.TryParse(user.FindFirstValue("sub"), out var a) ? a : (long?)null;
        var refund = await store.EnsureRefundAsync(paid, $"R{id}", amountFen, reason, adminId, ct);
        if (refund.Status is "success" or "abnormal" or "closed")
        {
            return TypedResults.Ok(new RefundResponse(refund.OutRefundNo, refund.RefundId, refund.Status, refund.AmountFen));
        }

        try
        {
            var result = await provider.RefundAsync(new RefundRequest(refund.OutTradeNo, refund.OutRefundNo, refund.AmountFen, refund.TotalFen, reason), ct);
            var status = result.Status switch
            {
                "SUCCESS" => "success",
                "CLOSED" => "closed",
                "ABNORMAL" => "abnormal",
                _ => "processing",
            };
            await store.RecordRefundCallAsync(refund.Id, result.RefundId, status, null, ct);
            return TypedResults.Ok(new RefundResponse(refund.OutRefundNo, result.RefundId, status, refund.AmountFen));
        }
        catch (WechatPayException ex)
        {
            logger.LogWarning(ex, "Refund {OutRefundNo} failed: {Status} {Code}", refund.OutRefundNo, ex.Status, ex.Code);
            await store.RecordRefundCallAsync(refund.Id, null, refund.Status, ex.Message, ct);
            return Problem(502, "payment-provider-error", "The payment provider refused or did not answer the refund; retrying reuses the same refund number.", ex.Code);
        }
    }

    /// <summary>WeChat's answer format: 204 on success, else the status with {"code":"FAIL","message":…}.</summary>
    private static IResult Fail(int status, string message) => TypedResults.Json(new { code = "FAIL", message }, statusCode: status);

    private static async Task<IResult> NotifyAsync(
        HttpContext http, WechatPayNotifications notifications, PaymentStore store, PaymentPublisher publisher,
        IOptions<WechatPayOptions> options, TimeProvider time, ILogger<PaymentStore> logger)
    {
        var started = Stopwatch.GetTimestamp();
        var (result, outcome) = await HandleNotifyAsync(http, notifications, store, publisher, options.Value, time, logger);
        NotifySeconds.WithLabels(outcome).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return result;
    }

    private static async Task<(IResult, string)> HandleNotifyAsync(
        HttpContext http, WechatPayNotifications notifications, PaymentStore store, PaymentPublisher publisher,
        WechatPayOptions options, TimeProvider time, ILogger logger)
    {
        try
        {
            var ct = http.RequestAborted;
            var body = await ReadBodyAsync(http.Request, ct);
            if (body is null)
            {
                return (Fail(413, "报文过大"), "too-large");
            }

            var read = await notifications.ReadAsync(WechatPaySignatureHeaders.From(http.Request.Headers), body, ct);
            switch (read.Outcome)
            {
                case NotifyOutcome.BadSignature when read.Check == SignatureCheck.Probe:
                    logger.LogDebug("WeChat Pay signature probe answered 401");
                    return (Fail(401, "签名验证失败"), "probe");
                case NotifyOutcome.BadSignature:
                    logger.LogWarning("Refused a payment notify: {Check}", read.Check);
                    return (Fail(401, "签名验证失败"), "bad-signature");
                case NotifyOutcome.Malformed:
                    return (Fail(400, "报文格式错误"), "malformed");
                case NotifyOutcome.Undecryptable:
                    // The signature held, so WeChat sent it: the APIv3 key must be wrong here.
                    logger.LogError("A signed notify could not be decrypted: check WechatPay:ApiV3Key");
                    return (Fail(500, "解密失败"), "undecryptable");
            }

            var eventType = read.Envelope!.EventType ?? "";
            if (eventType.StartsWith(NotifyEnvelope.RefundPrefix, StringComparison.Ordinal))
            {
                return await HandleRefundAsync(read, store, options, time, logger, ct);
            }

            if (eventType != NotifyEnvelope.TransactionSuccess)
            {
                logger.LogInformation("Ignored notify event {EventType}", eventType);
                return (TypedResults.NoContent(), "ignored");
            }

            var tx = read.Resource<WechatTransaction>();
            if (tx?.OutTradeNo is null || tx.TransactionId is null || tx.Amount is null || tx.TradeState != TradeQueryResult.Success)
            {
                return (Fail(400, "交易数据不完整"), "malformed");
            }

            if (tx.Mchid != options.MchId || tx.Appid != options.AppId)
            {
                logger.LogError("Notify {OutTradeNo} is for mchid {MchId} appid {AppId}, not this merchant", tx.OutTradeNo, tx.Mchid, tx.Appid);
                return (Fail(400, "商户号或 appid 不匹配"), "wrong-merchant");
            }

            if (tx.Amount.Currency != "CNY" || tx.TradeType is not ("JSAPI" or "MWEB"))
            {
                // DMH prepays only JSAPI and H5 (MWEB) in fen of CNY: any other notify was not for one of its attempts.
                logger.LogError("Notify {OutTradeNo} is {TradeType} in {Currency}, not a JSAPI/MWEB payment in CNY: refused", tx.OutTradeNo, tx.TradeType, tx.Amount.Currency);
                return (Fail(400, "交易类型或币种不符"), "wrong-trade-type");
            }

            var now = time.GetUtcNow();
            var payment = new PaymentSucceeded(tx.OutTradeNo, tx.TransactionId, tx.Amount.Total,
                tx.Amount.PayerTotal ?? tx.Amount.Total, tx.ParsedSuccessTime ?? now, now, PaymentSources.Notify);

            // The attempt's amount kept in Redis at pay time is checked and the payment published in one
            // round trip. It says nothing of whether the order is paid already: such a notify is
            // published (once, by the marker) and settlement recognises it as a duplicate.
            var (checkedPublish, attemptFen) = await publisher.PublishIfAmountAgreesAsync(payment);
            switch (checkedPublish)
            {
                case AmountCheckedPublish.Published:
                    return (TypedResults.NoContent(), "published");
                case AmountCheckedPublish.AlreadyPublished:
                    return (TypedResults.NoContent(), "duplicate");
                case AmountCheckedPublish.AmountDiffers:
                    return WrongAmount(tx, attemptFen, logger);
            }

            // Redis does not have the amount (an older attempt, or Redis lost it): MySQL does.
            var attempt = await store.FindAttemptAsync(tx.OutTradeNo, ct);
            if (attempt is null)
            {
                // Not stored (yet): 5xx so that WeChat tries again on its schedule.
                logger.LogWarning("Notify for unknown out_trade_no {OutTradeNo}; asking WeChat to retry", tx.OutTradeNo);
                return (Fail(500, "订单不存在"), "unknown-order");
            }

            if (tx.Amount.Total != attempt.AmountFen)
            {
                return WrongAmount(tx, attempt.AmountFen, logger);
            }

            if (attempt.PayStatus != PayStatus.Unpaid)
            {
                if (attempt.TradeNo != tx.TransactionId)
                {
                    logger.LogWarning("Order {OrderId} is already paid by {TradeNo}; {OutTradeNo} ({TransactionId}) paid it again and needs a refund",
                        attempt.OrderId, attempt.TradeNo, tx.OutTradeNo, tx.TransactionId);
                }

                return (TypedResults.NoContent(), "already-paid");
            }

            var published = await publisher.PublishOnceAsync(payment);
            return (TypedResults.NoContent(), published ? "published" : "duplicate");
        }
        catch (OperationCanceledException)
        {
            return (Fail(503, "请求已取消"), "cancelled");
        }
        catch (Exception ex)
        {
            // Redis or MySQL unavailable: nothing is durable, so WeChat must retry.
            logger.LogError(ex, "Payment notify could not be made durable");
            return (Fail(500, "系统繁忙"), "error");
        }
    }

    private static (IResult, string) WrongAmount(WechatTransaction tx, long? attemptFen, ILogger logger)
    {
        logger.LogError("Notify {OutTradeNo} says {Total} fen, the attempt is {Expected} fen: refused", tx.OutTradeNo, tx.Amount!.Total, attemptFen);
        return (Fail(400, "金额不一致"), "wrong-amount");
    }

    private static async Task<(IResult, string)> HandleRefundAsync(NotifyReadResult read, PaymentStore store, WechatPayOptions options, TimeProvider time, ILogger logger, CancellationToken ct)
    {
        var refund = read.Resource<WechatRefund>();
        if (refund?.OutRefundNo is null || refund.RefundStatus is null)
        {
            return (Fail(400, "退款数据不完整"), "malformed");
        }

        if (refund.Mchid != options.MchId)
        {
            return (Fail(400, "商户号不匹配"), "wrong-merchant");
        }

        var status = refund.RefundStatus switch
        {
            "SUCCESS" => "success",
            "CLOSED" => "closed",
            "ABNORMAL" => "abnormal",
            _ => "processing",
        };
        if (!await store.RecordRefundNotifyAsync(refund.OutRefundNo, refund.RefundId, status, refund.ParsedSuccessTime, time.GetUtcNow(), ct))
        {
            logger.LogWarning("Refund notify for unknown out_refund_no {OutRefundNo}; asking WeChat to retry", refund.OutRefundNo);
            return (Fail(500, "退款单不存在"), "unknown-refund");
        }

        logger.LogInformation("Refund {OutRefundNo} of {OutTradeNo} is {Status}", refund.OutRefundNo, refund.OutTradeNo, status);
        return (TypedResults.NoContent(), "refund");
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxNotifyBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream(request.ContentLength is { } length ? (int)length : 4096);
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxNotifyBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
