namespace Dmh.WechatPay;

/// <summary>
/// WeChat Pay's merchant transfer with the user's confirmation (商家转账, docs/wechatpay-v3-transfers.md):
/// create a bill, query it, cancel it. Amounts in integer fen.
/// </summary>
public interface ITransferProvider
{
    /// <summary>Creates the bill; the same out_bill_no again answers the same bill (WeChat is idempotent on it).</summary>
    Task<TransferBill> CreateBillAsync(TransferBillRequest request, CancellationToken ct);

    /// <summary>The bill, or null when WeChat has none with this out_bill_no (404 NOT_FOUND).</summary>
    Task<TransferBill?> QueryBillAsync(string outBillNo, CancellationToken ct);

    /// <summary>Asks WeChat to cancel a bill not confirmed yet; the answer is CANCELING or CANCELLED.</summary>
    Task<TransferBill> CancelBillAsync(string outBillNo, CancellationToken ct);
}

public sealed record TransferSceneReportInfo(string InfoType, string InfoContent);

public sealed record TransferBillRequest(
    string OutBillNo, string Openid, long AmountFen, string SceneId, string Remark, string NotifyUrl, string? UserRecvPerception,
    IReadOnlyList<TransferSceneReportInfo> ReportInfos);

/// <summary>A bill as WeChat answers it (create, query, cancel) or notifies it; field names as WeChat's.</summary>
public sealed record TransferBill(
    string? MchId,
    string? Appid,
    string? OutBillNo,
    string? TransferBillNo,
    string? State,
    long? TransferAmount,
    string? Openid,
    string? FailReason,
    string? PackageInfo,
    string? CreateTime,
    string? UpdateTime)
{
    public const string NotFound = "NOT_FOUND";

    /// <summary>The notify's event type (docs/wechatpay-v3-transfers.md §6).</summary>
    public const string FinishedEvent = "MCHTRANSFER.BILL.FINISHED";
}
