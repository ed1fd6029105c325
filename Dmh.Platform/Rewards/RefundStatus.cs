namespace Dmh.Platform.Rewards;

/// <summary>The stored <c>refunds.status</c> values, and the one mapping from WeChat's refund status to them.</summary>
public static class RefundStatus
{
    public const string Processing = "processing";
    public const string Success = "success";
    public const string Closed = "closed";
    public const string Abnormal = "abnormal";

    /// <summary>
    /// WeChat's <c>status</c> (refund call) or <c>refund_status</c> (refund notify): SUCCESS, CLOSED,
    /// ABNORMAL; anything else (PROCESSING) is still processing.
    /// </summary>
    public static string FromWechat(string? status) => status switch
    {
        "SUCCESS" => Success,
        "CLOSED" => Closed,
        "ABNORMAL" => Abnormal,
        _ => Processing,
    };

    /// <summary>A final status: the refund call is not made again, and a later call's answer never replaces it.</summary>
    public static bool IsFinal(string status) => status is Success or Abnormal or Closed;
}
