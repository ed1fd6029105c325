using System.Globalization;
using System.Text.Json;
using Dmh.Ingress.Exports;
using Dmh.Ingress.Participants;

namespace Dmh.Ingress.Orders;

/// <summary>A form field as an export column: its key in form_data and its header.</summary>
public sealed record FormColumn(string Key, string Header);

/// <summary>A campaign whose orders are exported, with its stored form schema.</summary>
public sealed record ExportCampaign(long Id, string Name, string? FormFields);

/// <summary>
/// The orders export as .xlsx: times in the display zone as real date-times, one column per form field,
/// Chinese status words, ids, phones and trade numbers as text, the referrer's name and phone (empty without one).
/// </summary>
public static class OrderXlsx
{
    /// <summary>
    /// One column per form property, in form order (<c>x-order</c>, then as written). With one campaign the
    /// headers are its titles; across campaigns a key whose titles differ is headed by the key.
    /// </summary>
    public static IReadOnlyList<FormColumn> FormColumns(IReadOnlyList<ExportCampaign> campaigns)
    {
        var titles = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var order = new List<(string Key, double Rank, int Seen)>();
        foreach (var campaign in campaigns)
        {
            if (string.IsNullOrEmpty(campaign.FormFields))
            {
                continue;
            }

            using var doc = JsonDocument.Parse(campaign.FormFields);
            if (!doc.RootElement.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (var p in properties.EnumerateObject())
            {
                var title = p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String
                    ? t.GetString()! : p.Name;
                var rank = p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("x-order", out var o)
                    && o.ValueKind == JsonValueKind.Number && o.TryGetDouble(out var r) ? r : double.MaxValue;
                if (!titles.TryGetValue(p.Name, out var set))
                {
                    titles[p.Name] = set = new HashSet<string>(StringComparer.Ordinal);
                    order.Add((p.Name, rank, order.Count));
                }

                set.Add(title);
            }
        }

        return order.OrderBy(k => k.Rank).ThenBy(k => k.Seen)
            .Select(k => new FormColumn(k.Key, titles[k.Key].Count == 1 ? titles[k.Key].First() : k.Key))
            .ToList();
    }

    public static async Task WriteAsync(
        Stream stream, IReadOnlyList<FormColumn> form, IAsyncEnumerable<AdminOrderRow> rows, TimeZoneInfo zone, bool maskPhones, CancellationToken ct)
    {
        var columns = new List<XlsxColumn> { new("订单ID", 10), new("活动名称", 22), new("手机号", 14) };
        columns.AddRange(form.Select(f => new XlsxColumn(f.Header, 16)));
        columns.AddRange([
            new("其他表单项", 16), new("渠道", 12), new("推荐人", 12), new("推荐人手机号", 14), new("订单状态", 10), new("支付状态", 10),
            new("金额(元)", 10), new("微信交易号", 32), new("报名码", 14), new("支付时间", 20), new("同步状态", 10), new("创建时间", 20),
        ]);
        using var xlsx = new XlsxWriter("订单", columns);
        var known = form.Select(f => f.Key).ToHashSet(StringComparer.Ordinal);
        await foreach (var r in rows.WithCancellation(ct))
        {
            var cells = new List<object?>(columns.Count) { r.Id, r.CampaignName, new XlsxText(maskPhones ? PhoneNumbers.Mask(r.Phone) : r.Phone) };
            using var data = string.IsNullOrEmpty(r.FormData) ? null : JsonDocument.Parse(r.FormData);
            var answers = data is not null && data.RootElement.ValueKind == JsonValueKind.Object ? data.RootElement : (JsonElement?)null;
            foreach (var f in form)
            {
                cells.Add(answers is { } a && a.TryGetProperty(f.Key, out var v) ? Cell(v) : null);
            }

            var others = answers?.EnumerateObject().Where(p => !known.Contains(p.Name)).ToList() ?? [];
            cells.Add(others.Count == 0 ? null : string.Join("；", others.Select(p => $"{p.Name}: {Text(p.Value)}")));
            var referred = r.ReferrerId > 0;
            cells.AddRange([
                r.ChannelId,
                referred ? r.ReferrerName ?? "" : null,
                referred && r.ReferrerPhone is { } rp ? new XlsxText(maskPhones ? PhoneNumbers.Mask(rp) : rp) : null,
                StatusWords.OfOrder(r.Status), StatusWords.OfPay(r.PayStatus), r.Amount,
                r.TradeNo is { } trade ? new XlsxText(trade) : null,
                r.RegistrationCode is { } code ? new XlsxText(code) : null,
                Local(r.PaidAt, zone), StatusWords.OfSync(r.SyncStatus), Local(r.CreatedAt, zone),
            ]);
            xlsx.AddRow(cells);
        }

        await xlsx.SaveAsync(stream, ct);
    }

    /// <summary>UTC from MySQL → wall time of the display zone.</summary>
    public static DateTime? Local(DateTime? utc, TimeZoneInfo zone) =>
        utc is { } u ? TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(u, DateTimeKind.Utc), zone) : null;

    private static object? Cell(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        // A number answer stays a number unless Excel would round it (more than 15 significant digits).
        JsonValueKind.Number when v.TryGetDecimal(out var d) && v.GetRawText().TrimStart('-').Replace(".", "", StringComparison.Ordinal).TrimStart('0').Length <= 15 => d,
        JsonValueKind.Number => new XlsxText(v.GetRawText()),
        _ => Text(v),
    };

    private static string Text(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString()!,
        JsonValueKind.True => "是",
        JsonValueKind.False => "否",
        JsonValueKind.Array => string.Join("、", v.EnumerateArray().Select(Text)),
        JsonValueKind.Null => "",
        _ => v.GetRawText(),
    };

    public static string FileName(string? campaignName, DateTimeOffset now, TimeZoneInfo zone) =>
        $"订单-{(campaignName is null ? "全部活动" : StatusWords.FileNamePart(campaignName))}-{TimeZoneInfo.ConvertTime(now, zone).ToString("yyyyMMdd", CultureInfo.InvariantCulture)}.xlsx";
}
