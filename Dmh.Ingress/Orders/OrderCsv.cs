using System.Globalization;
using System.Text;
using Dmh.Ingress.Participants;

namespace Dmh.Ingress.Orders;

/// <summary>The admin CSV export: UTF-8 with BOM (Excel), Chinese headers, formula injection neutralised, phones masked for viewers.</summary>
public static class OrderCsv
{
    private static readonly string[] Headers =
        ["订单ID", "活动ID", "活动名称", "手机号", "表单数据", "渠道", "推荐人ID", "订单状态", "支付状态", "金额(元)", "微信交易号", "支付时间", "同步状态", "创建时间"];

    public static async Task WriteAsync(Stream stream, IAsyncEnumerable<AdminOrderRow> rows, bool maskPhones, CancellationToken ct)
    {
        await using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true), 16 * 1024, leaveOpen: true);
        await writer.WriteAsync(string.Join(',', Headers.Select(Cell)) + "\r\n");
        var n = 0;
        await foreach (var r in rows.WithCancellation(ct))
        {
            await writer.WriteAsync(string.Join(',', new[]
            {
                r.Id.ToString(CultureInfo.InvariantCulture), r.CampaignId.ToString(CultureInfo.InvariantCulture), r.CampaignName ?? "",
                maskPhones ? PhoneNumbers.Mask(r.Phone) : r.Phone, r.FormData ?? "", r.ChannelId ?? "", r.ReferrerId.ToString(CultureInfo.InvariantCulture), r.Status, r.PayStatus,
                r.Amount.ToString("0.00", CultureInfo.InvariantCulture), r.TradeNo ?? "", r.PaidAt is { } p ? OrderStore.Iso(p) : "",
                r.SyncStatus, OrderStore.Iso(r.CreatedAt),
            }.Select(Cell)) + "\r\n");
            if (++n % 500 == 0)
            {
                await writer.FlushAsync(ct);
            }
        }

        await writer.FlushAsync(ct);
    }

    /// <summary>A quoted cell; text that a spreadsheet would run as a formula gets a leading apostrophe.</summary>
    public static string Cell(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 || value.StartsWith('\'')
            ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : value;
    }
}
