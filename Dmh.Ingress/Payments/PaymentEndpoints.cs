using System.Security.Claims;
using System.Text.Json;
using Dmh.Contracts;
using Dmh.Ingress.Audit;
using Dmh.Ingress.Campaigns;
using Dmh.Ingress.Http;
using Dmh.Ingress.Orders;
using Dmh.Ingress.Security;
using Dmh.Platform;
using Dmh.Platform.Rewards;
using Dmh.WechatPay;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Payments;

public sealed record PayRequest(string? Channel);

public sealed record JsapiParameters(string AppId, string TimeStamp, string NonceStr, string Package, string SignType, string PaySign);

public sealed record PayResponse(string OutTradeNo, JsapiParameters? Jsapi, string? H5Url);

public sealed record CallbackRequest(long? OrderId);

public sealed record RefundCommand(long? AmountFen, string? Reason);

public sealed record RefundResponse(string OutRefundNo, string? RefundId, string Status, long AmountFen);

/// <summary>
/// Paying an order: a payment attempt and its prepay, the page's "I have paid" callback, admin refunds.
/// WeChat's notify is <see cref="PaymentNotifyEndpoints"/>.
/// </summary>
public static class PaymentEndpoints
{
    public static WebApplicationBuilder AddPayments(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PaymentStore>();
        builder.Services.AddOptions<PaymentMarkerOptions>().BindConfiguration(PaymentMarkerOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
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
        orders.MapPost("/{id:long}/refund", RefundAsync).RequireAuthorization(Policies.AdminWrite);
        return app;
    }

    private static async Task<Results<Ok<PayResponse>, ProblemHttpResult>> PayAsync(
        long id, PayRequest? request, HttpContext http, OrderAccessTokens tokens, PaymentStore store, AttemptAmounts amounts,
        IPaymentProvider provider, IOptions<WechatPayOptions> options, TimeProvider time, ILogger<PaymentStore> logger, CancellationToken ct)
    {
        if (!await tokens.IsValidAsync(http.Request.Headers[OrderAccessTokens.HeaderName], id, ct))
        {
            return Problems.InvalidOrderToken();
        }

        var channel = request?.Channel;
        if (channel is not ("jsapi" or "h5"))
        {
            return Problems.Validation("channel", "channel must be \"jsapi\" or \"h5\".");
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
            return Problems.NotFound("The order");
        }

        if (order.PayStatus != PayStatus.Unpaid || order.Status is OrderStatus.Paid or OrderStatus.Refunded)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "already-paid", "This order is already paid.");
        }

        if (CampaignStatus.Derive(order.CampaignStatus, order.StartTime, order.EndTime, time.GetUtcNow()) != CampaignStatus.Active)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "campaign-not-live", "The campaign is not open for payment.",
                "活动已结束或已下线，无法支付 (the campaign has ended or is offline).");
        }

        if (order.Status == OrderStatus.Closed)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "order-closed", "This order is closed; register again to reopen it.");
        }

        var amountFen = Money.YuanToFen(order.Amount);
        if (amountFen < 1)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, "nothing-to-pay", "This order has no amount to pay.");
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
            return Problems.PaymentProviderError("The payment provider refused or did not answer; try again.", ex.Code);
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

    private static async Task<Results<Ok<OrderRegistrantView>, ProblemHttpResult>> CallbackAsync(
        CallbackRequest? request, HttpContext http, OrderAccessTokens tokens, PaymentStore store, OrderStore orders, IPaymentProvider provider,
        PaymentPublisher publisher, IOptions<WechatPayOptions> options, TimeProvider time, ILogger<PaymentStore> logger, CancellationToken ct)
    {
        if (request?.OrderId is not { } orderId)
        {
            return Problems.Validation("orderId", "orderId is required.");
        }

        if (!await tokens.IsValidAsync(http.Request.Headers[OrderAccessTokens.HeaderName], orderId, ct))
        {
            return Problems.InvalidOrderToken();
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
        return row is null ? Problems.NotFound("The order") : TypedResults.Ok(OrderEndpoints.RegistrantView(row, null));
    }

    private static async Task<Results<Ok<RefundResponse>, ProblemHttpResult>> RefundAsync(
        long id, RefundCommand? command, HttpContext http, PaymentStore store, IPaymentProvider provider, ILogger<PaymentStore> logger, CancellationToken ct)
    {
        var reason = command?.Reason?.Trim();
        if (reason is { Length: > 80 })
        {
            return Problems.Validation("reason", "At most 80 characters.");
        }

        var order = await store.FindOrderToPayAsync(id, ct);
        if (order is null)
        {
            return Problems.NotFound("The order");
        }

        if (order.PayStatus is not (PayStatus.Paid or PayStatus.Refunded))
        {
            return Problems.Of(StatusCodes.Status409Conflict, "not-paid", "Only a paid order can be refunded.");
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
            return Problems.PaymentProviderError("The payment provider did not answer; try again.", ex.Code);
        }

        if (paid is null)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "no-paid-attempt", "The payment provider knows no paid attempt of this order.");
        }

        if (command?.AmountFen is < 1)
        {
            return Problems.Validation("amountFen", "At least 1 fen.");
        }

        var adminId = long.TryParse(http.User.FindFirstValue("sub"), out var a) ? a : (long?)null;
        var (created, refundable) = await store.CreateRefundAsync(paid, command?.AmountFen, reason, adminId, ct, AuditEntry.Of(http, AuditActions.OrderRefund, "order", id));
        if (created is not { } refund)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "refund-exceeds-paid", "The refunds would exceed the amount paid.",
                $"{refundable} fen can still be refunded.");
        }

        if (RefundStatus.IsFinal(refund.Status))
        {
            return TypedResults.Ok(new RefundResponse(refund.OutRefundNo, refund.RefundId, refund.Status, refund.AmountFen));
        }

        try
        {
            var result = await provider.RefundAsync(new RefundRequest(refund.OutTradeNo, refund.OutRefundNo, refund.AmountFen, refund.TotalFen, reason), ct);
            var status = RefundStatus.FromWechat(result.Status);
            await store.RecordRefundCallAsync(refund.Id, result.RefundId, status, null, ct);
            return TypedResults.Ok(new RefundResponse(refund.OutRefundNo, result.RefundId, status, refund.AmountFen));
        }
        catch (WechatPayException ex)
        {
            logger.LogWarning(ex, "Refund {OutRefundNo} failed: {Status} {Code}", refund.OutRefundNo, ex.Status, ex.Code);
            await store.RecordRefundCallAsync(refund.Id, null, refund.Status, ex.Message, ct);
            return Problems.PaymentProviderError("The payment provider refused or did not answer the refund; retrying reuses the same refund number.", ex.Code);
        }
    }
}
