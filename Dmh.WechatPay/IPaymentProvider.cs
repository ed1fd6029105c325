namespace Dmh.WechatPay;

/// <summary>
/// The payment provider as DMH uses it: WeChat Pay v3 in production, the local simulator (which
/// speaks the same protocol) by default. Amounts in integer fen.
/// </summary>
public interface IPaymentProvider
{
    Task<JsapiPrepay> PrepayJsapiAsync(PrepayRequest request, string openid, CancellationToken ct);

    Task<H5Prepay> PrepayH5Async(PrepayRequest request, string payerClientIp, CancellationToken ct);

    /// <summary>Query by out_trade_no; <see cref="TradeQueryResult.State"/> is WeChat's trade_state or ORDER_NOT_EXIST.</summary>
    Task<TradeQueryResult> QueryAsync(string outTradeNo, CancellationToken ct);

    Task CloseAsync(string outTradeNo, CancellationToken ct);

    Task<RefundResult> RefundAsync(RefundRequest request, CancellationToken ct);

    /// <summary>Query a refund by out_refund_no; <see cref="RefundQueryResult.Status"/> is WeChat's status or RESOURCE_NOT_EXISTS.</summary>
    Task<RefundQueryResult> QueryRefundAsync(string outRefundNo, CancellationToken ct);
}

public sealed record PrepayRequest(string OutTradeNo, string Description, long AmountFen, DateTimeOffset? TimeExpire, string? Attach);

/// <summary>What the page passes to WeixinJSBridge getBrandWCPayRequest.</summary>
public sealed record JsapiPrepay(string PrepayId, string AppId, string TimeStamp, string NonceStr, string Package, string SignType, string PaySign);

public sealed record H5Prepay(string H5Url);

public sealed record TradeQueryResult(
    string State,
    string? TransactionId,
    long? TotalFen,
    long? PayerTotalFen,
    DateTimeOffset? SuccessTime,
    string? AppId,
    string? MchId)
{
    public const string Success = "SUCCESS";
    public const string NotPay = "NOTPAY";
    public const string Closed = "CLOSED";
    public const string Refund = "REFUND";
    public const string OrderNotExist = "ORDER_NOT_EXIST";
}

public sealed record RefundRequest(string OutTradeNo, string OutRefundNo, long RefundFen, long TotalFen, string? Reason);

public sealed record RefundResult(string RefundId, string Status);

/// <summary>A refund as WeChat knows it: SUCCESS, CLOSED, PROCESSING, ABNORMAL, or RESOURCE_NOT_EXISTS.</summary>
public sealed record RefundQueryResult(string Status, string? RefundId, DateTimeOffset? SuccessTime)
{
    public const string NotExist = "RESOURCE_NOT_EXISTS";
}
