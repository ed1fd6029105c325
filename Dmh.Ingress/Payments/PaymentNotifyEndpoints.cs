using System.Diagnostics;
using Dmh.Contracts;
using Dmh.Ingress.Http;
using Dmh.Platform.Rewards;
using Dmh.WechatPay;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Prometheus;

namespace Dmh.Ingress.Payments;

/// <summary>WeChat's answer to a notify it should send again: <c>{"code":"FAIL","message":…}</c>.</summary>
public sealed record NotifyFailure(string Code, string Message);

/// <summary>
/// WeChat Pay's notify (<c>POST /api/v1/orders/payment/notify</c>): verified, decrypted, and published
/// once to the payments stream before answering; refund notifies recorded. It answers in WeChat's format,
/// not with problems (DECISIONS.md): 204, or a status with <see cref="NotifyFailure"/>.
/// </summary>
public static class PaymentNotifyEndpoints
{
    private const int MaxNotifyBytes = 64 * 1024;

    private static readonly Histogram NotifySeconds = Metrics.CreateHistogram(
        "dmh_payment_notify_seconds", "Time to verify, decrypt and publish a WeChat Pay notify.",
        new HistogramConfiguration { LabelNames = ["outcome"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });

    public static IEndpointRouteBuilder MapPaymentNotifyEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/orders/payment/notify", NotifyAsync).WithTags("Payments").ExcludeFromDescription();
        return app;
    }

    private static JsonHttpResult<NotifyFailure> Fail(int status, string message) =>
        TypedResults.Json(new NotifyFailure("FAIL", message), statusCode: status);

    private static async Task<Results<NoContent, JsonHttpResult<NotifyFailure>>> NotifyAsync(
        HttpContext http, WechatPayNotifications notifications, PaymentStore store, PaymentPublisher publisher,
        IOptions<WechatPayOptions> options, TimeProvider time, ILogger<PaymentStore> logger)
    {
        var started = Stopwatch.GetTimestamp();
        var (result, outcome) = await HandleNotifyAsync(http, notifications, store, publisher, options.Value, time, logger);
        NotifySeconds.WithLabels(outcome).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return result;
    }

    private static async Task<(Results<NoContent, JsonHttpResult<NotifyFailure>>, string)> HandleNotifyAsync(
        HttpContext http, WechatPayNotifications notifications, PaymentStore store, PaymentPublisher publisher,
        WechatPayOptions options, TimeProvider time, ILogger logger)
    {
        try
        {
            var ct = http.RequestAborted;
            var body = await RequestBody.ReadAsync(http.Request, MaxNotifyBytes, ct);
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

    private static (Results<NoContent, JsonHttpResult<NotifyFailure>>, string) WrongAmount(WechatTransaction tx, long? attemptFen, ILogger logger)
    {
        logger.LogError("Notify {OutTradeNo} says {Total} fen, the attempt is {Expected} fen: refused", tx.OutTradeNo, tx.Amount!.Total, attemptFen);
        return (Fail(400, "金额不一致"), "wrong-amount");
    }

    private static async Task<(Results<NoContent, JsonHttpResult<NotifyFailure>>, string)> HandleRefundAsync(
        NotifyReadResult read, PaymentStore store, WechatPayOptions options, TimeProvider time, ILogger logger, CancellationToken ct)
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

        var status = RefundStatus.FromWechat(refund.RefundStatus);
        if (!await store.RecordRefundNotifyAsync(refund.OutRefundNo, refund.RefundId, status, refund.ParsedSuccessTime, time.GetUtcNow(), ct))
        {
            logger.LogWarning("Refund notify for unknown out_refund_no {OutRefundNo}; asking WeChat to retry", refund.OutRefundNo);
            return (Fail(500, "退款单不存在"), "unknown-refund");
        }

        logger.LogInformation("Refund {OutRefundNo} of {OutTradeNo} is {Status}", refund.OutRefundNo, refund.OutTradeNo, status);
        return (TypedResults.NoContent(), "refund");
    }
}
