using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.IntegrationTests.Orders;
using Microsoft.Extensions.DependencyInjection;

namespace Dmh.IntegrationTests.CheckIns;

/// <summary>Check-in (核销) against real MariaDB/Redis: who may call, once only, undo, lists, counts, export, the miss cap.</summary>
public sealed class CheckInApiTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _app = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _app = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Admin:BcryptWorkFactor"] = "4",
            ["RateLimits:PublicPermitLimit"] = "100000",
            ["CheckIn:MaxMissesPerWindow"] = "3",
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    private async Task<long> SeedOrderAsync(long campaignId, string phone, string status, string? code, string name = "张三")
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("""
            INSERT INTO participants (phone, referral_code) VALUES (@phone, @referral) ON DUPLICATE KEY UPDATE phone = phone;
            INSERT INTO orders (campaign_id, participant_id, phone, form_data, status, pay_status, amount, registration_code, paid_at)
            SELECT @campaignId, id, @phone, JSON_OBJECT('name', @name), @status, IF(@status = 'pending', 'unpaid', @status), 99.00, @code,
                   IF(@status = 'pending', NULL, UTC_TIMESTAMP(3))
            FROM participants WHERE phone = @phone;
            SELECT LAST_INSERT_ID();
            """, new { campaignId, phone, status, code, name, referral = "R" + phone });
    }

    private async Task<HttpClient> ClientAsync(string role)
    {
        var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await AdminLogin.TokenAsync(_app.Services, role));
        return client;
    }

    private async Task<long> CountAsync(string sql, object? args = null)
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql, args);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage r) => await r.Content.ReadFromJsonAsync<JsonElement>();

    [Fact]
    public async Task Staff_checks_in_a_paid_code_once_and_a_second_call_changes_nothing()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        var orderId = await SeedOrderAsync(campaignId, "13800138001", "paid", "ABCD234567");
        using var staff = await ClientAsync(AdminRoles.Staff);

        var card = await JsonAsync(await staff.GetAsync("/api/v1/check-ins/lookup?code=abcd-2345 67"));
        Assert.Equal(orderId, card.GetProperty("orderId").GetInt64());
        Assert.Equal("张三", card.GetProperty("name").GetString());
        Assert.Equal("138****8001", card.GetProperty("phoneMasked").GetString());
        Assert.Equal("春季训练营", card.GetProperty("campaignName").GetString());
        Assert.Equal(JsonValueKind.Null, card.GetProperty("checkIn").ValueKind);
        Assert.DoesNotContain("13800138001", card.GetRawText());

        var first = await staff.PostAsJsonAsync("/api/v1/check-ins", new { code = "ABCD234567", method = "scan" });
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var checkIn = (await JsonAsync(first)).GetProperty("checkIn");
        Assert.Equal("test-staff", checkIn.GetProperty("checkedInBy").GetString());
        Assert.Equal("scan", checkIn.GetProperty("method").GetString());

        var second = await staff.PostAsJsonAsync("/api/v1/check-ins", new { code = "ABCD234567" });
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        var problem = await JsonAsync(second);
        Assert.EndsWith("/already-checked-in", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal(checkIn.GetProperty("id").GetInt64(), problem.GetProperty("registration").GetProperty("checkIn").GetProperty("id").GetInt64());
        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM check_ins WHERE order_id = @orderId", new { orderId }));
    }

    [Fact]
    public async Task Concurrent_check_ins_of_one_code_make_one_check_in()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        var orderId = await SeedOrderAsync(campaignId, "13800138002", "paid", "RACE234567");
        using var staff = await ClientAsync(AdminRoles.Staff);
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => staff.PostAsJsonAsync("/api/v1/check-ins", new { code = "RACE234567" })));
        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Created);
        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM check_ins WHERE order_id = @orderId", new { orderId }));
    }

    [Fact]
    public async Task Undo_needs_a_reason_keeps_who_when_and_why_and_allows_a_new_check_in()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        await SeedOrderAsync(campaignId, "13800138003", "paid", "UNDO234567");
        using var op = await ClientAsync(AdminRoles.Operator);
        var id = (await JsonAsync(await op.PostAsJsonAsync("/api/v1/check-ins", new { code = "UNDO234567" }))).GetProperty("checkIn").GetProperty("id").GetInt64();

        var noReason = await op.PostAsJsonAsync($"/api/v1/check-ins/{id}/undo", new { reason = "  " });
        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        Assert.Equal(0, await CountAsync("SELECT COUNT(*) FROM check_ins WHERE undone_at IS NOT NULL"));

        var undone = await JsonAsync(await op.PostAsJsonAsync($"/api/v1/check-ins/{id}/undo", new { reason = "误核销，扫错了人" }));
        Assert.Equal("误核销，扫错了人", undone.GetProperty("undoReason").GetString());
        Assert.Equal("test-operator", undone.GetProperty("undoneBy").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await op.PostAsJsonAsync($"/api/v1/check-ins/{id}/undo", new { reason = "again" })).StatusCode);

        Assert.Equal(HttpStatusCode.Created, (await op.PostAsJsonAsync("/api/v1/check-ins", new { code = "UNDO234567" })).StatusCode);
        var active = await JsonAsync(await op.GetAsync($"/api/v1/check-ins?campaignId={campaignId}"));
        Assert.Equal(1, active.GetProperty("total").GetInt64());
        var all = await JsonAsync(await op.GetAsync($"/api/v1/check-ins?campaignId={campaignId}&includeUndone=true"));
        Assert.Equal(2, all.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Unpaid_and_refunded_registrations_cannot_be_checked_in()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        await SeedOrderAsync(campaignId, "13800138004", "refunded", "REFD234567");
        using var staff = await ClientAsync(AdminRoles.Staff);
        var refused = await staff.PostAsJsonAsync("/api/v1/check-ins", new { code = "REFD234567" });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.EndsWith("/not-checkable", (await JsonAsync(refused)).GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync("SELECT COUNT(*) FROM check_ins"));
    }

    [Fact]
    public async Task Only_staff_operators_and_admins_check_in_and_staff_reads_no_orders_or_exports()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        await SeedOrderAsync(campaignId, "13800138005", "paid", "ROLE234567");
        using var anonymous = _app.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/v1/check-ins", new { code = "ROLE234567" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/check-ins/lookup?code=ROLE234567")).StatusCode);

        using var viewer = await ClientAsync(AdminRoles.Viewer);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/v1/check-ins", new { code = "ROLE234567" })).StatusCode);

        using var participant = _app.CreateClient();
        participant.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            _app.Services.GetRequiredService<TokenService>().IssueParticipant(1).Token);
        Assert.Equal(HttpStatusCode.Forbidden, (await participant.GetAsync("/api/v1/check-ins/lookup?code=ROLE234567")).StatusCode);
        Assert.Equal(0, await CountAsync("SELECT COUNT(*) FROM check_ins"));

        using var staff = await ClientAsync(AdminRoles.Staff);
        Assert.Equal(HttpStatusCode.Forbidden, (await staff.GetAsync("/api/v1/orders")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await staff.GetAsync("/api/v1/check-ins/export.csv")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync("/api/v1/auth/admin/me")).StatusCode);
    }

    [Fact]
    public async Task Unknown_codes_are_capped_per_account_and_malformed_ones_change_nothing()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        await SeedOrderAsync(campaignId, "13800138006", "paid", "REAL234567");
        using var staff = await ClientAsync(AdminRoles.Staff);
        Assert.Equal(HttpStatusCode.BadRequest, (await staff.GetAsync("/api/v1/check-ins/lookup?code=%27%20OR%201%3D1")).StatusCode);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await staff.GetAsync($"/api/v1/check-ins/lookup?code=GUESS2345{i}")).StatusCode);
        }

        var capped = await staff.PostAsJsonAsync("/api/v1/check-ins", new { code = "REAL234567" });
        Assert.Equal(HttpStatusCode.TooManyRequests, capped.StatusCode);
        Assert.NotNull(capped.Headers.RetryAfter);
        Assert.Equal(0, await CountAsync("SELECT COUNT(*) FROM check_ins"));

        // Another account at the desk is not held up by this one.
        using var op = await ClientAsync(AdminRoles.Operator);
        Assert.Equal(HttpStatusCode.Created, (await op.PostAsJsonAsync("/api/v1/check-ins", new { code = "REAL234567" })).StatusCode);
    }

    [Fact]
    public async Task Summary_counts_paid_and_checked_in_and_the_export_is_Beijing_time_text_for_Excel()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        await SeedOrderAsync(campaignId, "13800138007", "paid", "SUMA234567", "李四");
        await SeedOrderAsync(campaignId, "13800138008", "paid", "SUMB234567");
        await SeedOrderAsync(campaignId, "13800138009", "pending", null);
        using var admin = await ClientAsync(AdminRoles.Admin);
        await admin.PostAsJsonAsync("/api/v1/check-ins", new { code = "SUMA234567" });

        var summary = await JsonAsync(await admin.GetAsync($"/api/v1/check-ins/summary?campaignId={campaignId}"));
        Assert.Equal(2, summary.GetProperty("paid").GetInt64());
        Assert.Equal(1, summary.GetProperty("checkedIn").GetInt64());

        var export = await admin.GetAsync($"/api/v1/check-ins/export.csv?campaignId={campaignId}");
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Matches($"check-ins-campaign-{campaignId}-\\d{{8}}\\.csv", export.Content.Headers.ContentDisposition!.FileName!);
        var bytes = await export.Content.ReadAsByteArrayAsync();
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, bytes[..3]);
        var lines = Encoding.UTF8.GetString(bytes[3..]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("核销ID,订单ID,活动ID,活动名称,姓名,手机号,报名码,核销时间", lines[0], StringComparison.Ordinal);
        var cells = lines[1].Split(',');
        Assert.Equal("李四", cells[4]);
        Assert.Equal("13800138007", cells[5]);
        Assert.Equal("SUMA234567", cells[6]);
        var local = DateTime.ParseExact(cells[7], "yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange((local - DateTime.UtcNow.AddHours(8)).Duration(), TimeSpan.Zero, TimeSpan.FromMinutes(5));
        Assert.Equal("已核销", cells[10]);
    }
}
