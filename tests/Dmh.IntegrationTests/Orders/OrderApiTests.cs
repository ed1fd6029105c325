using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Dmh.Ingress.Orders;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.WechatPay;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Dmh.IntegrationTests.Orders;

/// <summary>Registration, the registrant's and admins' reads, list, export, detail and close against real MariaDB/Redis.</summary>
public sealed class OrderApiTests : IAsyncLifetime
{
    public const string Schema = """
        {"type":"object","required":["name"],"properties":{
          "name":{"type":"string","title":"姓名","minLength":1,"maxLength":20},
          "age":{"type":"integer","title":"年龄","minimum":1,"maximum":120},
          "email":{"type":"string","title":"邮箱","format":"email"},
          "size":{"type":"string","title":"尺码","enum":["S","M","L"]}}}
        """;

    private readonly RecordingProvider _provider = new();
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _factory = null!;
    private WebApplicationFactory<Dmh.Ingress.EntryPoint> _app = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Admin:BcryptWorkFactor"] = "4",
            ["RateLimits:PublicPermitLimit"] = "100000",
        });
        _app = _factory.WithWebHostBuilder(b => b.ConfigureServices(s =>
        {
            s.AddSingleton<IPaymentProvider>(_provider);
            s.AddSingleton<ISmsCodeVerifier>(new FixedSmsCode("123456"));
        }));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
    }

    public static async Task<long> SeedCampaignAsync(TestDatabase db, string status = "published", int startDays = -1, int endDays = 5,
        bool requireSms = false, decimal price = 99.00m, string schema = Schema)
    {
        await using var connection = await db.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("""
            INSERT INTO campaigns (name, form_fields, price, reward_type, reward_rule, require_sms, start_time, end_time, status)
            VALUES ('春季训练营', @schema, @price, 'fixed', 10.00, @requireSms, @start, @end, @status);
            SELECT LAST_INSERT_ID();
            """, new { schema, price, requireSms, start = DateTime.UtcNow.AddDays(startDays), end = DateTime.UtcNow.AddDays(endDays), status });
    }

    private static object Body(long campaignId, string phone = "13800138000", object? formData = null, string? cId = null, string? uId = null, string? smsCode = null) =>
        new { campaignId, phone, formData = formData ?? new { name = "张三", age = 30 }, cId, uId, smsCode };

    private async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<T>(sql, args) ?? throw new InvalidOperationException("no value");
    }

    private async Task ExecAsync(string sql, object? args = null)
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(sql, args);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    [Fact]
    public async Task Registration_creates_an_order_and_answers_the_registrant_view_without_personal_data()
    {
        var campaignId = await SeedCampaignAsync(_db);
        using var client = _app.CreateClient();
        var response = await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, cId: "wechat-group-7"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("13800138000", text);
        Assert.DoesNotContain("张三", text);
        var view = JsonDocument.Parse(text).RootElement;
        var id = view.GetProperty("id").GetInt64();
        Assert.Equal(campaignId, view.GetProperty("campaignId").GetInt64());
        Assert.Equal("pending", view.GetProperty("status").GetString());
        Assert.Equal("unpaid", view.GetProperty("payStatus").GetString());
        Assert.Equal(9900, view.GetProperty("amountFen").GetInt64());
        Assert.Equal("138****8000", view.GetProperty("phoneMasked").GetString());
        Assert.Equal(JsonValueKind.Null, view.GetProperty("registrationCode").ValueKind);
        Assert.Equal(JsonValueKind.Null, view.GetProperty("referralCode").ValueKind);
        Assert.False(string.IsNullOrEmpty(view.GetProperty("accessToken").GetString()));

        Assert.Equal(99.00m, await ScalarAsync<decimal>("SELECT amount FROM orders WHERE id = @id", new { id }));
        Assert.Equal("wechat-group-7", await ScalarAsync<string>("SELECT channel_id FROM orders WHERE id = @id", new { id }));
        Assert.Equal(1L, await ScalarAsync<long>("SELECT COUNT(*) FROM participants WHERE phone = '13800138000'"));
        Assert.Equal(await ScalarAsync<long>("SELECT id FROM participants WHERE phone = '13800138000'"),
            await ScalarAsync<long>("SELECT participant_id FROM orders WHERE id = @id", new { id }));
    }

    [Fact]
    public async Task Repeat_while_unpaid_returns_the_same_order_keeps_the_first_referrer_and_updates_the_form()
    {
        var campaignId = await SeedCampaignAsync(_db);
        using var client = _app.CreateClient();
        var referrer = await JsonAsync(await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, "13900000001")));
        var referrerCode = await ScalarAsync<string>("SELECT referral_code FROM participants WHERE phone = '13900000001'");
        var referrerId = await ScalarAsync<long>("SELECT id FROM participants WHERE phone = '13900000001'");
        Assert.True(referrer.GetProperty("id").GetInt64() > 0);

        var first = await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, cId: "first", uId: referrerCode));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var firstView = await JsonAsync(first);
        var id = firstView.GetProperty("id").GetInt64();

        var token = firstView.GetProperty("accessToken").GetString();
        var again = await PostOrderAsync(client, Body(campaignId, formData: new { name = "李四" }, cId: "second", uId: "unknown1"), token);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(id, (await JsonAsync(again)).GetProperty("id").GetInt64());
        Assert.Equal(referrerId, await ScalarAsync<long>("SELECT referrer_id FROM orders WHERE id = @id", new { id }));
        Assert.Equal("first", await ScalarAsync<string>("SELECT channel_id FROM orders WHERE id = @id", new { id }));
        Assert.Contains("李四", await ScalarAsync<string>("SELECT CAST(form_data AS CHAR) FROM orders WHERE id = @id", new { id }));
    }

    [Fact]
    public async Task Unknown_or_own_referral_code_records_no_referrer()
    {
        var campaignId = await SeedCampaignAsync(_db);
        var other = await SeedCampaignAsync(_db);
        using var client = _app.CreateClient();
        var unknown = await JsonAsync(await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, "13900000002", uId: "nosuchcode")));
        Assert.Equal(0L, await ScalarAsync<long>("SELECT referrer_id FROM orders WHERE id = @id", new { id = unknown.GetProperty("id").GetInt64() }));

        var ownCode = await ScalarAsync<string>("SELECT referral_code FROM participants WHERE phone = '13900000002'");
        var self = await client.PostAsJsonAsync("/api/v1/orders", Body(other, "13900000002", uId: ownCode));
        Assert.Equal(HttpStatusCode.Created, self.StatusCode);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT referrer_id FROM orders WHERE id = @id", new { id = (await JsonAsync(self)).GetProperty("id").GetInt64() }));
    }

    [Fact]
    public async Task Paid_registration_answers_already_registered_and_a_closed_one_reopens()
    {
        var campaignId = await SeedCampaignAsync(_db);
        using var client = _app.CreateClient();
        var created = await JsonAsync(await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId)));
        var id = created.GetProperty("id").GetInt64();

        await ExecAsync("UPDATE orders SET status = 'closed' WHERE id = @id", new { id });
        var reopened = await PostOrderAsync(client, Body(campaignId), created.GetProperty("accessToken").GetString());
        Assert.Equal(HttpStatusCode.OK, reopened.StatusCode);
        Assert.Equal("pending", (await JsonAsync(reopened)).GetProperty("status").GetString());

        await ExecAsync("UPDATE orders SET status = 'paid', pay_status = 'paid', registration_code = 'RC123' WHERE id = @id", new { id });
        var paid = await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId));
        Assert.Equal(HttpStatusCode.Conflict, paid.StatusCode);
        Assert.Equal("application/problem+json", paid.Content.Headers.ContentType?.MediaType);
        var problem = await JsonAsync(paid);
        Assert.EndsWith("/already-registered", problem.GetProperty("type").GetString());
        Assert.Contains("已报名", problem.GetProperty("detail").GetString());
        Assert.Equal(1L, await ScalarAsync<long>("SELECT COUNT(*) FROM orders"));
    }

    public static async Task<HttpResponseMessage> PostOrderAsync(HttpClient client, object body, string? orderToken = null, string? session = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders") { Content = JsonContent.Create(body) };
        if (orderToken is not null)
        {
            request.Headers.Add("X-Order-Token", orderToken);
        }

        if (session is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", session);
        }

        return await client.SendAsync(request);
    }

    [Fact]
    public async Task Two_hundred_concurrent_registrations_of_one_phone_make_one_order_and_no_server_error()
    {
        var campaignId = await SeedCampaignAsync(_db);
        using var client = _app.CreateClient();
        var start = new TaskCompletionSource();
        var tasks = Enumerable.Range(0, 200).Select(async i =>
        {
            await start.Task;
            var r = await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, "13700137000", cId: "c" + i));
            return (r.StatusCode, Id: r.IsSuccessStatusCode ? (await JsonAsync(r)).GetProperty("id").GetInt64() : 0, Text: r.IsSuccessStatusCode ? "" : await r.Content.ReadAsStringAsync());
        }).ToList();
        start.SetResult();
        var results = await Task.WhenAll(tasks);

        // The others proved nothing (no token, code or session): they are told the registration exists.
        Assert.All(results, r => Assert.True(r.StatusCode is HttpStatusCode.Created || r.Text.Contains("/registration-exists", StringComparison.Ordinal), r.Text));
        Assert.Single(results, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Equal(1L, await ScalarAsync<long>("SELECT COUNT(*) FROM orders"));
        Assert.Equal(1L, await ScalarAsync<long>("SELECT COUNT(*) FROM participants"));
    }

    [Fact]
    public async Task Invalid_phone_and_schema_violations_answer_422_with_field_errors_and_store_nothing()
    {
        var campaignId = await SeedCampaignAsync(_db);
        using var client = _app.CreateClient();
        var response = await client.PostAsJsonAsync("/api/v1/orders",
            Body(campaignId, "12345", new { age = 200, email = "not-an-email", size = "XXL", extra = "x" }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = (await JsonAsync(response)).GetProperty("errors");
        foreach (var key in new[] { "phone", "formData.name", "formData.age", "formData.email", "formData.size", "formData.extra" })
        {
            Assert.True(errors.TryGetProperty(key, out _), key + " missing in " + errors);
        }

        var tooLong = await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, formData: new { name = new string('x', 21) }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooLong.StatusCode);
        Assert.True((await JsonAsync(tooLong)).GetProperty("errors").TryGetProperty("formData.name", out _));

        var wrongType = await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, formData: new { name = "王五", age = "thirty" }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrongType.StatusCode);
        Assert.True((await JsonAsync(wrongType)).GetProperty("errors").TryGetProperty("formData.age", out _));

        var longChannel = await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, cId: new string('c', 65)));
        Assert.Equal(HttpStatusCode.BadRequest, longChannel.StatusCode);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT COUNT(*) FROM orders"));
        Assert.Equal(0L, await ScalarAsync<long>("SELECT COUNT(*) FROM participants"));
    }

    [Fact]
    public async Task Campaign_that_is_not_live_refuses_registration()
    {
        var notStarted = await SeedCampaignAsync(_db, startDays: 2, endDays: 5);
        var ended = await SeedCampaignAsync(_db, startDays: -5, endDays: -1);
        var disabled = await SeedCampaignAsync(_db, status: "disabled");
        var draft = await SeedCampaignAsync(_db, status: "draft");
        using var client = _app.CreateClient();
        foreach (var id in new[] { notStarted, ended, disabled })
        {
            var r = await client.PostAsJsonAsync("/api/v1/orders", Body(id));
            Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
            Assert.EndsWith("/campaign-not-live", (await JsonAsync(r)).GetProperty("type").GetString());
        }

        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsJsonAsync("/api/v1/orders", Body(draft))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsJsonAsync("/api/v1/orders", Body(999_999))).StatusCode);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT COUNT(*) FROM orders"));
    }

    [Fact]
    public async Task Campaign_requiring_sms_checks_the_code()
    {
        var campaignId = await SeedCampaignAsync(_db, requireSms: true);
        using var client = _app.CreateClient();
        var missing = await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, missing.StatusCode);
        Assert.True((await JsonAsync(missing)).GetProperty("errors").TryGetProperty("smsCode", out _));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, smsCode: "000000"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, smsCode: "123456"))).StatusCode);

        // Wired as in production: the code comes from the SMS feature (read here through the dev outbox).
        await using var real = _factory.WithWebHostBuilder(b => b.ConfigureAppConfiguration((_, c) =>
            c.AddInMemoryCollection(new Dictionary<string, string?> { ["Sms:DevOutbox"] = "true" })));
        using var realClient = real.CreateClient();
        Assert.Equal(HttpStatusCode.NoContent, (await realClient.PostAsJsonAsync("/api/v1/auth/sms/send", new { campaignId, phone = "13600136000" })).StatusCode);
        var code = (await JsonAsync(await realClient.GetAsync("/api/v1/dev/sms/13600136000"))).GetProperty("code").GetString();
        Assert.Equal(HttpStatusCode.UnprocessableEntity,
            (await realClient.PostAsJsonAsync("/api/v1/orders", Body(campaignId, "13600136000", smsCode: code == "123456" ? "654321" : "123456"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await realClient.PostAsJsonAsync("/api/v1/orders", Body(campaignId, "13600136000", smsCode: code))).StatusCode);
    }

    [Fact]
    public async Task Order_is_read_with_its_token_or_by_an_admin_only()
    {
        var campaignId = await SeedCampaignAsync(_db);
        using var client = _app.CreateClient();
        var created = await JsonAsync(await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId)));
        var id = created.GetProperty("id").GetInt64();
        var other = await JsonAsync(await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, "13500135000")));

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync($"/api/v1/orders/{id}")).StatusCode);

        using var wrong = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/orders/{id}");
        wrong.Headers.Add("X-Order-Token", other.GetProperty("accessToken").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(wrong)).StatusCode);

        using var right = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/orders/{id}");
        right.Headers.Add("X-Order-Token", created.GetProperty("accessToken").GetString());
        var mine = await client.SendAsync(right);
        Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        var text = await mine.Content.ReadAsStringAsync();
        Assert.Contains("138****8000", text);
        Assert.DoesNotContain("13800138000", text);

        using var admin = await AdminLogin.SignedInAsync(_app.CreateClient());
        var adminView = await JsonAsync(await admin.GetAsync($"/api/v1/orders/{id}"));
        Assert.Equal("13800138000", adminView.GetProperty("phone").GetString());
        Assert.Equal("张三", adminView.GetProperty("formData").GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/v1/orders/987654")).StatusCode);
    }

    [Fact]
    public async Task Admin_list_filters_and_pages()
    {
        var a = await SeedCampaignAsync(_db);
        var b = await SeedCampaignAsync(_db);
        using var client = _app.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/orders", Body(a, $"1380000000{i}"))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/orders", Body(b, "13911112222"))).StatusCode);
        await ExecAsync("UPDATE orders SET status = 'paid', pay_status = 'paid', sync_status = 'pending' WHERE phone = '13800000001'");

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/orders")).StatusCode);
        using var admin = await AdminLogin.SignedInAsync(_app.CreateClient());
        var all = await JsonAsync(await admin.GetAsync("/api/v1/orders?pageSize=4"));
        Assert.Equal(6, all.GetProperty("total").GetInt64());
        Assert.Equal(4, all.GetProperty("items").GetArrayLength());
        var second = await JsonAsync(await admin.GetAsync("/api/v1/orders?pageSize=4&page=2"));
        Assert.Equal(2, second.GetProperty("items").GetArrayLength());

        Assert.Equal(5, (await JsonAsync(await admin.GetAsync($"/api/v1/orders?campaignId={a}"))).GetProperty("total").GetInt64());
        var paid = await JsonAsync(await admin.GetAsync("/api/v1/orders?payStatus=paid&status=paid&syncStatus=pending"));
        Assert.Equal(1, paid.GetProperty("total").GetInt64());
        var row = paid.GetProperty("items")[0];
        Assert.Equal("13800000001", row.GetProperty("phone").GetString());
        Assert.Equal("春季训练营", row.GetProperty("campaignName").GetString());
        Assert.Equal(9900, row.GetProperty("amountFen").GetInt64());
        Assert.Equal(1, (await JsonAsync(await admin.GetAsync("/api/v1/orders?phone=139"))).GetProperty("total").GetInt64());
        var from = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("o"));
        Assert.Equal(0, (await JsonAsync(await admin.GetAsync($"/api/v1/orders?from={from}"))).GetProperty("total").GetInt64());

        foreach (var bad in new[] { "status=lost", "payStatus=x", "syncStatus=y", "from=yesterday", "page=0", "pageSize=1000", "campaignId=abc", "phone=1a" })
        {
            var r = await admin.GetAsync("/api/v1/orders?" + bad);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Csv_export_has_a_bom_chinese_headers_and_neutralised_formulas()
    {
        var campaignId = await SeedCampaignAsync(_db);
        using var client = _app.CreateClient();
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, formData: new { name = "=HYPERLINK(\"x\")" }, cId: "@SUM(1)"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, "13900139001", cId: "+1,2"))).StatusCode);

        using var admin = await AdminLogin.SignedInAsync(_app.CreateClient());
        var response = await admin.GetAsync($"/api/v1/orders/export.csv?campaignId={campaignId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, bytes[..3]);
        var text = Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3);
        var lines = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("订单ID,活动ID,活动名称,手机号", lines[0]);
        Assert.Contains("\"'@SUM(1)\"", text);
        Assert.Contains("\"'+1,2\"", text);
        Assert.DoesNotContain(",@SUM", text);
        Assert.DoesNotContain(",+1", text);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/v1/orders/export.csv?status=nope")).StatusCode);
        Assert.Equal("'=cmd", OrderCsv.Cell("=cmd")[1..^1]);
        Assert.Equal("\"'-2+3\"", OrderCsv.Cell("-2+3"));
    }

    [Fact]
    public async Task Detail_shows_payments_rewards_and_sync_and_close_closes_unpaid_orders_only()
    {
        var campaignId = await SeedCampaignAsync(_db);
        using var client = _app.CreateClient();
        var id = (await JsonAsync(await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId)))).GetProperty("id").GetInt64();
        var paidId = (await JsonAsync(await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, "13900139002")))).GetProperty("id").GetInt64();
        await ExecAsync("""
            INSERT INTO payments (order_id, attempt, out_trade_no, channel, amount_fen, status) VALUES
              (@id, 1, CONCAT('D', @id, 'A1'), 'h5', 9900, 'created'), (@id, 2, CONCAT('D', @id, 'A2'), 'h5', 9900, 'prepaid');
            UPDATE orders SET status = 'paid', pay_status = 'paid', sync_status = 'pending' WHERE id = @paidId;
            INSERT INTO rewards (user_id, order_id, campaign_id, amount, status, settled_at) VALUES (7, @paidId, @campaignId, 10.00, 'settled', NOW(3));
            INSERT INTO sync_records (entity, entity_id, order_id, status) VALUES ('order', @paidId, @paidId, 'pending');
            """, new { id, paidId, campaignId });

        using var admin = await AdminLogin.SignedInAsync(_app.CreateClient());
        var detail = await JsonAsync(await admin.GetAsync($"/api/v1/orders/{id}/detail"));
        Assert.Equal(id, detail.GetProperty("order").GetProperty("id").GetInt64());
        Assert.Equal(2, detail.GetProperty("payments").GetArrayLength());
        var paidDetail = await JsonAsync(await admin.GetAsync($"/api/v1/orders/{paidId}/detail"));
        Assert.Equal(1000, paidDetail.GetProperty("rewards")[0].GetProperty("amountFen").GetInt64());
        Assert.Equal("pending", paidDetail.GetProperty("sync").GetProperty("entries")[0].GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/v1/orders/424242/detail")).StatusCode);

        var closed = await admin.PostAsync($"/api/v1/orders/{id}/close", null);
        Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
        Assert.Equal("closed", (await JsonAsync(closed)).GetProperty("status").GetString());
        Assert.Equal(2L, await ScalarAsync<long>("SELECT COUNT(*) FROM payments WHERE order_id = @id AND status = 'closed'", new { id }));
        Assert.Equal([$"D{id}A2"], _provider.Closed.ToArray());

        var refused = await admin.PostAsync($"/api/v1/orders/{paidId}/close", null);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("paid", await ScalarAsync<string>("SELECT status FROM orders WHERE id = @paidId", new { paidId }));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/api/v1/orders/424242/close", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync($"/api/v1/orders/{id}/close", null)).StatusCode);
    }

    private sealed class FixedSmsCode(string code) : ISmsCodeVerifier
    {
        public Task<bool> VerifyAsync(string phone, string code1, CancellationToken ct) => Task.FromResult(code1 == code);
    }

    /// <summary>Records closes and fails them, as an unreachable provider would: closing must still succeed.</summary>
    private sealed class RecordingProvider : IPaymentProvider
    {
        public ConcurrentQueue<string> Closed { get; } = new();

        public Task<JsapiPrepay> PrepayJsapiAsync(PrepayRequest request, string openid, CancellationToken ct) => throw new InvalidOperationException("not used");

        public Task<H5Prepay> PrepayH5Async(PrepayRequest request, string payerClientIp, CancellationToken ct) => throw new InvalidOperationException("not used");

        public Task<TradeQueryResult> QueryAsync(string outTradeNo, CancellationToken ct) => throw new InvalidOperationException("not used");

        public Task CloseAsync(string outTradeNo, CancellationToken ct)
        {
            Closed.Enqueue(outTradeNo);
            throw new HttpRequestException("provider unreachable");
        }

        public Task<RefundResult> RefundAsync(RefundRequest request, CancellationToken ct) => throw new InvalidOperationException("not used");

        public Task<RefundQueryResult> QueryRefundAsync(string outRefundNo, CancellationToken ct) => throw new InvalidOperationException("not used");
    }
}
