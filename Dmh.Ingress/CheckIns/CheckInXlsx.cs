using Dmh.Ingress.Exports;
using Dmh.Ingress.Orders;
using Dmh.Ingress.Participants;

namespace Dmh.Ingress.CheckIns;

/// <summary>The check-ins export as .xlsx: undone rows included, times in the display zone, codes and phones as text.</summary>
public static class CheckInXlsx
{
    private static readonly XlsxColumn[] Columns =
    [
        new("核销ID", 8), new("订单ID", 10), new("活动名称", 22), new("姓名", 12), new("手机号", 14), new("报名码", 14), new("核销时间", 20),
        new("核销人", 12), new("方式", 10), new("状态", 8), new("撤销时间", 20), new("撤销人", 12), new("撤销原因", 24),
    ];

    public static async Task WriteAsync(Stream stream, IAsyncEnumerable<CheckInRow> rows, TimeZoneInfo zone, bool maskPhones, CancellationToken ct)
    {
        using var xlsx = new XlsxWriter("核销记录", Columns);
        await foreach (var r in rows.WithCancellation(ct))
        {
            xlsx.AddRow([
                r.Id, r.OrderId, r.CampaignName, r.Name, new XlsxText(maskPhones ? PhoneNumbers.Mask(r.Phone) : r.Phone), new XlsxText(r.RegistrationCode),
                OrderXlsx.Local(r.CheckedInAt, zone), r.CheckedInBy, r.Method == CheckInEndpoints.Scan ? "扫码" : "输入报名码",
                r.UndoneAt is null ? "已核销" : "已撤销", OrderXlsx.Local(r.UndoneAt, zone), r.UndoneBy, r.UndoReason,
            ]);
        }

        await xlsx.SaveAsync(stream, ct);
    }
}
