using System.Globalization;
using System.Text;
using Dmh.Ingress.Orders;
using Dmh.Ingress.Participants;

namespace Dmh.Ingress.CheckIns;

/// <summary>The check-ins export: UTF-8 with BOM, Chinese headers, times in the display zone, codes as text.</summary>
public static class CheckInCsv
{
    private static readonly string[] Headers =
        ["核销ID", "订单ID", "活动ID", "活动名称", "姓名", "手机号", "报名码", "核销时间", "核销人", "方式", "状态", "撤销时间", "撤销人", "撤销原因"];

    public static async Task WriteAsync(Stream stream, IAsyncEnumerable<CheckInRow> rows, TimeZoneInfo zone, bool maskPhones, CancellationToken ct)
    {
        await using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true), 16 * 1024, leaveOpen: true);
        await writer.WriteAsync(string.Join(',', Headers.Select(OrderCsv.Cell)) + "\r\n");
        await foreach (var r in rows.WithCancellation(ct))
        {
            await writer.WriteAsync(string.Join(',', new[]
            {
                Id(r.Id), Id(r.OrderId), Id(r.CampaignId), r.CampaignName ?? "", r.Name ?? "",
                maskPhones ? PhoneNumbers.Mask(r.Phone) : r.Phone, r.RegistrationCode, Local(r.CheckedInAt, zone), r.CheckedInBy ?? "",
                r.Method == CheckInEndpoints.Scan ? "扫码" : "输入报名码", r.UndoneAt is null ? "已核销" : "已撤销",
                r.UndoneAt is { } u ? Local(u, zone) : "", r.UndoneBy ?? "", r.UndoReason ?? "",
            }.Select(OrderCsv.Cell)) + "\r\n");
        }

        await writer.FlushAsync(ct);
    }

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static string Local(DateTime utc, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc), zone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
