using System.Globalization;

namespace Dmh.WechatPay;

/// <summary>A notify's outer body (docs/wechatpay-v3.md §2).</summary>
public sealed record NotifyEnvelope(string? Id, string? CreateTime, string? ResourceType, string? EventType, string? Summary, EncryptedResource? Resource)
{
    public const string TransactionSuccess = "TRANSACTION.SUCCESS";
    public const string RefundPrefix = "REFUND.";
}

public sealed record TransactionPayer(string? Openid);

public sealed record TransactionAmount(long Total, long? PayerTotal, string? Currency, string? PayerCurrency);

/// <summary>A decrypted transaction (notify resource or query answer); field names as WeChat's.</summary>
public sealed record WechatTransaction(
    string? Appid,
    string? Mchid,
    string? OutTradeNo,
    string? TransactionId,
    string? TradeType,
    string? TradeState,
    string? TradeStateDesc,
    string? BankType,
    string? Attach,
    string? SuccessTime,
    TransactionPayer? Payer,
    TransactionAmount? Amount)
{
    /// <summary>success_time is RFC 3339, sometimes with milliseconds: parsed leniently.</summary>
    public DateTimeOffset? ParsedSuccessTime =>
        DateTimeOffset.TryParse(SuccessTime, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out var t) ? t : null;
}

public sealed record RefundAmount(long Total, long Refund, long? PayerTotal, long? PayerRefund, string? Currency);

/// <summary>A decrypted refund notify resource, or a refund call's answer.</summary>
public sealed record WechatRefund(
    string? Mchid,
    string? OutTradeNo,
    string? TransactionId,
    string? OutRefundNo,
    string? RefundId,
    string? RefundStatus,
    string? Status,
    string? SuccessTime,
    RefundAmount? Amount)
{
    public DateTimeOffset? ParsedSuccessTime =>
        DateTimeOffset.TryParse(SuccessTime, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out var t) ? t : null;
}

/// <summary>WeChat's error answer.</summary>
public sealed record WechatError(string? Code, string? Message);
