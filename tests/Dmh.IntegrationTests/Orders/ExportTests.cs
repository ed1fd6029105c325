using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Dapper;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Dmh.IntegrationTests.Orders;

/// <summary>
/// The .xlsx exports read back with the Open XML SDK (the library Excel's own format is specified with):
/// Beijing time as real date-times, one column per form field, Chinese statuses, long ids as text.
/// </summary>
public sealed class ExportTests : IAsyncLifetime
{
    private const string Schema = """
        {"type":"object","properties":{
          "name":{"type":"string","title":"姓名","x-order":1},
          "school":{"type":"string","title":"学校","x-order":3},
          "grade":{"type":"integer","title":"年级","x-order":2}},
         "required":["name"]}
        """;

    // WeChat's transaction ids are 28 digits: as a number Excel shows 4.2E+27 and loses the last 13.
    private const string TradeNo = "4200001234567890123456789012";

    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _app = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _app = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Admin:BcryptWorkFactor"] = "4",
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    private async Task<HttpClient> ClientAsync(string role)
    {
        var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await AdminLogin.TokenAsync(_app.Services, role));
        return client;
    }

    /// <summary>A campaign, a referrer's paid order and a referred paid order (created 2026-12-05 23:38:38 UTC = 12-06 07:38:38 in Beijing).</summary>
    private async Task<(long CampaignId, long ReferrerOrder, long Order)> SeedAsync()
    {
        await using var c = await _db.DataSource.OpenConnectionAsync();
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db, schema: Schema);
        await c.ExecuteAsync("UPDATE campaigns SET name = '春季训练营/周末班' WHERE id = @campaignId", new { campaignId });
        var referrerOrder = await c.ExecuteScalarAsync<long>("""
            INSERT INTO participants (phone, referral_code) VALUES ('13900139000', 'REFCODE001');
            INSERT INTO orders (campaign_id, participant_id, phone, form_data, status, pay_status, amount, paid_at, created_at)
            SELECT @campaignId, id, '13900139000', JSON_OBJECT('name', '王小明', 'grade', 5), 'paid', 'paid', 49.00, '2026-12-05 23:00:00', '2026-12-05 22:59:00'
            FROM participants WHERE phone = '13900139000';
            SELECT LAST_INSERT_ID();
            """, new { campaignId });
        var order = await c.ExecuteScalarAsync<long>("""
            INSERT INTO participants (phone, referral_code) VALUES ('13800138000', 'REFCODE002');
            INSERT INTO orders (campaign_id, participant_id, phone, form_data, referrer_id, status, pay_status, amount, trade_no, registration_code,
                                paid_at, created_at)
            SELECT @campaignId, p.id, '13800138000', JSON_OBJECT('name', '张<三>&"', 'school', CONCAT('a', CHAR(1), 'b'), 'grade', 3, 'legacy', '旧字段'),
                   (SELECT id FROM participants WHERE phone = '13900139000'), 'paid', 'paid', 49.00, @TradeNo, 'ABCD234567',
                   '2026-12-05 23:39:00', '2026-12-05 23:38:38'
            FROM participants p WHERE p.phone = '13800138000';
            SELECT LAST_INSERT_ID();
            """, new { campaignId, TradeNo });
        return (campaignId, referrerOrder, order);
    }

    [Fact]
    public async Task The_orders_export_opens_with_beijing_times_form_titles_chinese_statuses_and_text_ids()
    {
        var (campaignId, referrerOrder, order) = await SeedAsync();
        using var admin = await ClientAsync(AdminRoles.Admin);
        var response = await admin.GetAsync($"/api/v1/orders/export.xlsx?campaignId={campaignId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", response.Content.Headers.ContentType?.MediaType);
        var fileName = response.Content.Headers.ContentDisposition?.FileNameStar;
        Assert.Matches(@"^订单-春季训练营周末班-\d{8}\.xlsx$", fileName);

        var sheet = Workbook.Read(await response.Content.ReadAsByteArrayAsync());
        var header = sheet.Rows[0];
        Assert.Equal(new[] { "订单ID", "活动名称", "手机号", "姓名", "年级", "学校", "其他表单项", "渠道", "推荐人", "推荐人手机号", "订单状态", "支付状态",
            "金额(元)", "微信交易号", "报名码", "支付时间", "同步状态", "创建时间" }, header.Select(c => c.Text));
        Assert.Equal(3, sheet.Rows.Count);

        var first = sheet.Row(header, referrerOrder);
        Assert.Null(first["推荐人"].Text);
        Assert.Null(first["推荐人手机号"].Text);
        Assert.Null(first["微信交易号"].Text);

        var row = sheet.Row(header, order);
        Assert.Equal(TradeNo, row["微信交易号"].Text);
        Assert.True(row["微信交易号"].IsText);
        Assert.Equal("13800138000", row["手机号"].Text);
        Assert.True(row["手机号"].IsText);
        Assert.Equal("张<三>&\"", row["姓名"].Text);
        Assert.Equal("ab", row["学校"].Text);
        Assert.Equal(3d, row["年级"].Number);
        Assert.Equal("legacy: 旧字段", row["其他表单项"].Text);
        Assert.Equal("王小明", row["推荐人"].Text);
        Assert.Equal("13900139000", row["推荐人手机号"].Text);
        Assert.Equal(("已支付", "已支付", "未到同步"), (row["订单状态"].Text, row["支付状态"].Text, row["同步状态"].Text));
        Assert.Equal(49.00d, row["金额(元)"].Number);
        Assert.Equal("0.00", row["金额(元)"].Format);
        Assert.Equal(new DateTime(2026, 12, 6, 7, 38, 38), row["创建时间"].Time);
        Assert.Equal("yyyy-mm-dd hh:mm:ss", row["创建时间"].Format);
        Assert.Equal(new DateTime(2026, 12, 6, 7, 39, 0), row["支付时间"].Time);
        Assert.Equal("ABCD234567", row["报名码"].Text);
    }

    [Fact]
    public async Task Across_campaigns_the_export_has_the_form_keys_and_the_viewer_gets_masked_phones()
    {
        var (_, _, order) = await SeedAsync();
        using var viewer = await ClientAsync(AdminRoles.Viewer);
        var response = await viewer.GetAsync("/api/v1/orders/export.xlsx");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Matches(@"^订单-全部活动-\d{8}\.xlsx$", response.Content.Headers.ContentDisposition?.FileNameStar);
        var sheet = Workbook.Read(await response.Content.ReadAsByteArrayAsync());
        var row = sheet.Row(sheet.Rows[0], order);
        Assert.Equal("138****8000", row["手机号"].Text);
        Assert.Equal("139****9000", row["推荐人手机号"].Text);
        Assert.DoesNotContain(sheet.Rows.SelectMany(r => r), c => c.Text is "13800138000" or "13900139000");

        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync("/api/v1/orders/export.xlsx?campaignId=999999")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await viewer.GetAsync("/api/v1/orders/export.xlsx?payStatus=paying")).StatusCode);
    }

    [Fact]
    public async Task The_rewards_and_check_ins_exports_open_with_their_rows()
    {
        var (campaignId, _, order) = await SeedAsync();
        await using (var c = await _db.DataSource.OpenConnectionAsync())
        {
            await c.ExecuteAsync("""
                INSERT INTO rewards (order_id, user_id, campaign_id, amount, amount_fen, level, status, settled_at, available_at)
                SELECT id, referrer_id, campaign_id, 5.00, 500, 1, 'frozen', '2026-12-05 23:39:01', '2026-12-12 23:39:01' FROM orders WHERE id = @order;
                """, new { order });
        }

        using var admin = await ClientAsync(AdminRoles.Admin);
        var rewards = await admin.GetAsync($"/api/v1/rewards/records/export.xlsx?campaignId={campaignId}");
        Assert.Equal(HttpStatusCode.OK, rewards.StatusCode);
        Assert.Matches(@"^奖励记录-春季训练营周末班-\d{8}\.xlsx$", rewards.Content.Headers.ContentDisposition?.FileNameStar);
        var sheet = Workbook.Read(await rewards.Content.ReadAsByteArrayAsync());
        var row = sheet.Rows[1];
        var header = sheet.Rows[0].Select(h => h.Text!).ToList();
        Assert.Equal("王小明", row[header.IndexOf("推荐人")].Text);
        Assert.Equal("张<三>&\"", row[header.IndexOf("好友")].Text);
        Assert.Equal(5d, row[header.IndexOf("奖励金额(元)")].Number);
        Assert.Equal("冻结中", row[header.IndexOf("状态")].Text);
        Assert.Equal("一级", row[header.IndexOf("级别")].Text);
        Assert.Equal(new DateTime(2026, 12, 13, 7, 39, 1), row[header.IndexOf("可提现时间")].Time);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/v1/rewards/records/export.xlsx?status=paid")).StatusCode);

        using var op = await ClientAsync(AdminRoles.Operator);
        var checkIn = await op.PostAsync("/api/v1/check-ins", System.Net.Http.Json.JsonContent.Create(new { code = "ABCD234567" }));
        Assert.Equal(HttpStatusCode.Created, checkIn.StatusCode);
        var checkIns = await admin.GetAsync($"/api/v1/check-ins/export.xlsx?campaignId={campaignId}");
        Assert.Equal(HttpStatusCode.OK, checkIns.StatusCode);
        Assert.Matches(@"^核销记录-春季训练营周末班-\d{8}\.xlsx$", checkIns.Content.Headers.ContentDisposition?.FileNameStar);
        var k = Workbook.Read(await checkIns.Content.ReadAsByteArrayAsync());
        var kh = k.Rows[0].Select(h => h.Text!).ToList();
        Assert.Equal(2, k.Rows.Count);
        Assert.Equal("ABCD234567", k.Rows[1][kh.IndexOf("报名码")].Text);
        Assert.Equal("已核销", k.Rows[1][kh.IndexOf("状态")].Text);
        Assert.Equal("test-operator", k.Rows[1][kh.IndexOf("核销人")].Text);
        Assert.NotNull(k.Rows[1][kh.IndexOf("核销时间")].Time);
    }

    /// <summary>A cell as a spreadsheet sees it: text (inline or shared), a number, its number format, and the date-time that number means.</summary>
    private sealed record XCell(string? Text, double? Number, bool IsText, string? Format)
    {
        public DateTime? Time => Number is { } n && Format is { } f && f.Contains("yyyy", StringComparison.Ordinal)
            ? new DateTime((DateTime.FromOADate(n).Ticks + (TimeSpan.TicksPerSecond / 2)) / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond)
            : null;
    }

    private sealed record Workbook(List<List<XCell>> Rows)
    {
        public Dictionary<string, XCell> Row(List<XCell> header, long orderId)
        {
            var row = Rows.Single(r => r.Count > 0 && r[0].Number == orderId);
            return header.Select((h, i) => (h.Text!, i < row.Count ? row[i] : new XCell(null, null, false, null)))
                .ToDictionary(p => p.Item1, p => p.Item2);
        }

        public static Workbook Read(byte[] bytes)
        {
            using var stream = new MemoryStream(bytes);
            using var doc = SpreadsheetDocument.Open(stream, false);
            var part = doc.WorkbookPart!;
            var sheetPart = (WorksheetPart)part.GetPartById(part.Workbook.Sheets!.Elements<Sheet>().Single().Id!);
            var formats = part.WorkbookStylesPart!.Stylesheet.NumberingFormats?.Elements<NumberingFormat>()
                .ToDictionary(f => f.NumberFormatId!.Value, f => f.FormatCode!.Value!) ?? [];
            var xfs = part.WorkbookStylesPart.Stylesheet.CellFormats!.Elements<CellFormat>().ToList();
            var rows = new List<List<XCell>>();
            foreach (var row in sheetPart.Worksheet.GetFirstChild<SheetData>()!.Elements<Row>())
            {
                var cells = new List<XCell>();
                foreach (var cell in row.Elements<Cell>())
                {
                    var column = ColumnIndex(cell.CellReference!.Value!);
                    while (cells.Count < column)
                    {
                        cells.Add(new XCell(null, null, false, null));
                    }

                    var numFmt = cell.StyleIndex is { } s ? xfs[(int)s.Value].NumberFormatId?.Value ?? 0 : 0;
                    var format = numFmt switch { 2 => "0.00", 49 => "@", _ => formats.GetValueOrDefault(numFmt) };
                    cells.Add(cell.DataType?.Value == CellValues.InlineString
                        ? new XCell(cell.InlineString!.Text!.Text, null, true, format)
                        : new XCell(null, double.Parse(cell.CellValue!.Text, CultureInfo.InvariantCulture), false, format));
                }

                rows.Add(cells);
            }

            return new Workbook(rows);
        }

        private static int ColumnIndex(string reference)
        {
            var n = 0;
            foreach (var c in reference.TakeWhile(char.IsLetter))
            {
                n = (n * 26) + (c - 'A' + 1);
            }

            return n - 1;
        }
    }
}
