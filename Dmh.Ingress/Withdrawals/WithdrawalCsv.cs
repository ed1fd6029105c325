using System.Globalization;
using System.Text;
using Dmh.Ingress.Orders;
using Dmh.Ingress.Participants;

namespace Dmh.Ingress.Withdrawals;

/// <summary>The admin export: UTF-8 with BOM (Excel), Chinese headers and status words, Beijing time, masked phones.</summary>
public static class WithdrawalCsv
{
    private static readonly string[] Headers =
        ["提现ID", "参与者ID", "姓名", "手机号", "金额(元)", "状态", "方式", "申请时间", "审核人", "审核时间", "驳回原因", "付款凭证", "付款时间", "付款人", "商户单号", "转账状态", "失败原因"];

    public static string StatusWord(string status) => status switch
    {
        "pending" => "待审核",
        "rejected" => "已驳回",
        "approved" => "待打款",
        "transferring" => "转账中",
        "paid" => "已打款",
        "failed" => "失败",
        _ => status,
    };

    public static async Task WriteAsync(Stream stream, IAsyncEnumerable<AdminWithdrawalRow> rows, CancellationToken ct)
    {
        await using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true), 16 * 1024, leaveOpen: true);
        await writer.WriteAsync(string.Join(',', Headers.Select(OrderCsv.Cell)) + "\r\n");
        await foreach (var r in rows.WithCancellation(ct))
        {
            await writer.WriteAsync(string.Join(',', new[]
            {
                Id(r.Id), Id(r.UserId), r.Name ?? "", PhoneNumbers.Mask(r.Phone), (r.AmountFen / 100m).ToString("0.00", CultureInfo.InvariantCulture),
                StatusWord(r.Status), r.Mode == "wechat" ? "微信转账" : "手动打款", Beijing(r.CreatedAt), r.ReviewedBy ?? "", Beijing(r.ReviewedAt),
                r.RejectReason ?? "", r.PaidReference ?? "", Beijing(r.PaidAt), r.PaidBy ?? "", r.OutBillNo ?? "", r.TransferState ?? "", r.FailReason ?? "",
            }.Select(OrderCsv.Cell)) + "\r\n");
        }

        await writer.FlushAsync(ct);
    }

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static string Beijing(DateTime? utc) => utc is { } t
        ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToOffset(WithdrawalStore.Beijing).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
        : "";
}
