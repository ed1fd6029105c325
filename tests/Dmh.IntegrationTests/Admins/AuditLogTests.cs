using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.Ingress.Audit;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.IntegrationTests.Orders;

namespace Dmh.IntegrationTests.Admins;

/// <summary>The audit log against real MariaDB/Redis: what is recorded, by whom, in the change's transaction, and who may read it.</summary>
public sealed class AuditLogTests : IAsyncLifetime
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

    private sealed record Line(string Action, string? ActorName, string? ActorRole, long? ActorId, string? TargetType, string? TargetId, string? Detail, string? Ip);

    private async Task<List<Line>> LinesAsync(string? action = null)
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<Line>("""
            SELECT action AS Action, actor_name AS ActorName, actor_role AS ActorRole, actor_id AS ActorId, target_type AS TargetType,
                   target_id AS TargetId, CAST(detail AS CHAR) AS Detail, ip AS Ip
            FROM audit_log WHERE @action IS NULL OR action = @action ORDER BY id
            """, new { action })).ToList();
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage r) => await r.Content.ReadFromJsonAsync<JsonElement>();

    [Fact]
    public async Task Sign_ins_that_succeed_and_fail_are_logged_with_the_name_and_address()
    {
        using var client = _app.CreateClient();
        var bad = await client.PostAsJsonAsync("/api/v1/auth/admin/login", new { username = "admin", password = "wrong-password" });
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        await AdminLogin.SignedInAsync(client);

        var failed = Assert.Single(await LinesAsync(AuditActions.SignInFailed));
        Assert.Equal("admin", failed.ActorName);
        Assert.Null(failed.ActorId);
        Assert.False(string.IsNullOrEmpty(failed.Ip));
        var ok = Assert.Single(await LinesAsync(AuditActions.SignIn));
        Assert.Equal("admin", ok.ActorName);
        Assert.Equal(AdminRoles.Admin, ok.ActorRole);
        Assert.NotNull(ok.ActorId);
        Assert.DoesNotContain("wrong-password", string.Concat((await LinesAsync()).Select(l => l.Detail)));
    }

    [Fact]
    public async Task A_campaign_create_edit_publish_disable_and_delete_are_logged_with_the_operator()
    {
        using var op = await ClientAsync(AdminRoles.Operator);
        var body = new { name = "审计测试活动", priceFen = 1000, reward = new { type = "fixed", amountFen = 100 } };
        var created = await op.PostAsJsonAsync("/api/v1/campaigns", body);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await JsonAsync(created)).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await op.PutAsJsonAsync($"/api/v1/campaigns/{id}", body with { name = "审计测试活动（改）" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await op.PostAsync($"/api/v1/campaigns/{id}/publish", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await op.PostAsync($"/api/v1/campaigns/{id}/disable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await op.DeleteAsync($"/api/v1/campaigns/{id}")).StatusCode);

        var lines = (await LinesAsync()).Where(l => l.Action.StartsWith("campaign.", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            new[] { AuditActions.CampaignCreate, AuditActions.CampaignUpdate, AuditActions.CampaignPublish, AuditActions.CampaignDisable, AuditActions.CampaignDelete },
            lines.Select(l => l.Action));
        Assert.All(lines, l =>
        {
            Assert.Equal("test-operator", l.ActorName);
            Assert.Equal("campaign", l.TargetType);
            Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), l.TargetId);
        });
        Assert.Contains("审计测试活动（改）", lines[1].Detail!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_change_writes_no_audit_line()
    {
        using var op = await ClientAsync(AdminRoles.Operator);
        Assert.Equal(HttpStatusCode.NotFound, (await op.PostAsync("/api/v1/campaigns/999999/publish", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await op.DeleteAsync("/api/v1/campaigns/999999")).StatusCode);
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        var paid = await SeedOrderAsync(campaignId, "13800138011", "paid");
        Assert.Equal(HttpStatusCode.Conflict, (await op.PostAsync($"/api/v1/orders/{paid}/close", null)).StatusCode);
        Assert.Empty(await LinesAsync());
    }

    [Fact]
    public async Task An_audit_line_written_in_a_transaction_rolls_back_with_it()
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await AuditLog.WriteAsync(connection, tx, new AuditEntry(new AuditActor(1, "x", "admin", "127.0.0.1"), AuditActions.OrderClose, "order", "1"), default);
            await tx.RollbackAsync();
        }

        Assert.Empty(await LinesAsync());
    }

    [Fact]
    public async Task Closing_an_order_checking_in_undoing_and_exporting_are_logged()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        var pending = await SeedOrderAsync(campaignId, "13800138012", "pending");
        var paid = await SeedOrderAsync(campaignId, "13800138013", "paid", "AUDT234567");
        using var op = await ClientAsync(AdminRoles.Operator);
        using var staff = await ClientAsync(AdminRoles.Staff);

        Assert.Equal(HttpStatusCode.OK, (await op.PostAsync($"/api/v1/orders/{pending}/close", null)).StatusCode);
        var checkIn = await staff.PostAsJsonAsync("/api/v1/check-ins", new { code = "AUDT234567", method = "scan" });
        Assert.Equal(HttpStatusCode.Created, checkIn.StatusCode);
        var checkInId = (await JsonAsync(checkIn)).GetProperty("checkIn").GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await staff.PostAsJsonAsync($"/api/v1/check-ins/{checkInId}/undo", new { reason = "扫错了人" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await op.GetAsync($"/api/v1/orders/export.csv?campaignId={campaignId}")).StatusCode);

        var lines = await LinesAsync();
        Assert.Equal(new[] { AuditActions.OrderClose, AuditActions.CheckIn, AuditActions.CheckInUndo, AuditActions.Export }, lines.Select(l => l.Action));
        Assert.Equal(("order", pending.ToString(System.Globalization.CultureInfo.InvariantCulture)), (lines[0].TargetType, lines[0].TargetId));
        Assert.Equal(("order", paid.ToString(System.Globalization.CultureInfo.InvariantCulture)), (lines[1].TargetType, lines[1].TargetId));
        Assert.Equal("test-staff", lines[1].ActorName);
        Assert.Contains("扫错了人", lines[2].Detail!, StringComparison.Ordinal);
        Assert.Equal("orders", lines[3].TargetType);
    }

    [Fact]
    public async Task Account_creation_role_change_disable_and_password_change_are_logged_and_a_role_change_ends_sessions()
    {
        using var admin = await AdminLogin.SignedInAsync(_app.CreateClient());
        var created = await admin.PostAsJsonAsync("/api/v1/admin-users", new { username = "xiaowang", password = "Passw0rd-123", role = "viewer" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await JsonAsync(created)).GetProperty("id").GetInt64();

        using var wang = await AdminLogin.SignedInAsync(_app.CreateClient(), "xiaowang", "Passw0rd-123");
        Assert.Equal(HttpStatusCode.OK, (await wang.GetAsync("/api/v1/auth/admin/me")).StatusCode);
        var changed = await admin.PutAsJsonAsync($"/api/v1/admin-users/{id}/role", new { role = "operator" });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal("operator", (await JsonAsync(changed)).GetProperty("role").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await wang.GetAsync("/api/v1/auth/admin/me")).StatusCode);

        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PutAsJsonAsync($"/api/v1/admin-users/{id}/role", new { role = "root" })).StatusCode);
        using var wang2 = await AdminLogin.SignedInAsync(_app.CreateClient(), "xiaowang", "Passw0rd-123");
        Assert.Equal(HttpStatusCode.NoContent, (await wang2.PutAsJsonAsync("/api/v1/auth/admin/password",
            new { currentPassword = "Passw0rd-123", newPassword = "Passw0rd-456" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"/api/v1/admin-users/{id}/disable", null)).StatusCode);

        var lines = (await LinesAsync()).Where(l => l.Action is not (AuditActions.SignIn or AuditActions.SignInFailed)).ToList();
        Assert.Equal(new[] { AuditActions.AccountCreate, AuditActions.AccountRole, AuditActions.PasswordChange, AuditActions.AccountDisable }, lines.Select(l => l.Action));
        Assert.All(lines, l => Assert.Equal(("admin-user", id.ToString(System.Globalization.CultureInfo.InvariantCulture)), (l.TargetType, l.TargetId)));
        Assert.Equal("xiaowang", lines[2].ActorName);
        Assert.Contains("\"from\": \"viewer\"", lines[1].Detail!.Replace("\":\"", "\": \"", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("Passw0rd", string.Concat(lines.Select(l => l.Detail)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_admin_cannot_change_their_own_role()
    {
        using var admin = await AdminLogin.SignedInAsync(_app.CreateClient());
        var me = await JsonAsync(await admin.GetAsync("/api/v1/auth/admin/me"));
        var answer = await admin.PutAsJsonAsync($"/api/v1/admin-users/{me.GetProperty("id").GetInt64()}/role", new { role = "viewer" });
        Assert.Equal(HttpStatusCode.Conflict, answer.StatusCode);
        Assert.Empty(await LinesAsync(AuditActions.AccountRole));
    }

    [Fact]
    public async Task A_balance_adjustment_sync_retry_and_dead_letter_replay_are_logged()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        var paid = await SeedOrderAsync(campaignId, "13800138014", "paid");
        long participant, letter;
        await using (var connection = await _db.DataSource.OpenConnectionAsync())
        {
            participant = await connection.ExecuteScalarAsync<long>("SELECT participant_id FROM orders WHERE id = @paid", new { paid });
            await connection.ExecuteAsync("INSERT INTO sync_records (entity, entity_id, order_id, status, attempts) VALUES ('order', @paid, @paid, 'failed', 5)", new { paid });
            letter = await connection.ExecuteScalarAsync<long>("""
                INSERT INTO dead_letters (stream, entry_id, group_name, consumer, deliveries, message_type, message_key, payload, error)
                VALUES ('dmh:sync', '1-1', 'g', 'c', 5, 'test', 'k', '{}', 'boom');
                SELECT LAST_INSERT_ID();
                """);
        }

        using var admin = await AdminLogin.SignedInAsync(_app.CreateClient());
        var adjust = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/rewards/{participant}/adjustments")
        {
            Content = JsonContent.Create(new { amountFen = 500, reason = "活动补发" }),
        };
        adjust.Headers.Add("Idempotency-Key", "audit-1");
        Assert.Equal(HttpStatusCode.Created, (await admin.SendAsync(adjust)).StatusCode);
        var again = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/rewards/{participant}/adjustments")
        {
            Content = JsonContent.Create(new { amountFen = 500, reason = "活动补发" }),
        };
        again.Headers.Add("Idempotency-Key", "audit-1");
        Assert.Equal(HttpStatusCode.OK, (await admin.SendAsync(again)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/api/v1/sync/retry/{paid}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/api/v1/dead-letters/{letter}/replay", null)).StatusCode);

        var lines = (await LinesAsync()).Where(l => l.Action != AuditActions.SignIn).ToList();
        Assert.Equal(new[] { AuditActions.BalanceAdjust, AuditActions.SyncRetry, AuditActions.DeadLetterReplay }, lines.Select(l => l.Action));
        Assert.Contains("活动补发", lines[0].Detail!, StringComparison.Ordinal);
        Assert.Contains("\"requeued\":1", lines[1].Detail!.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Equal(("dead-letter", letter.ToString(System.Globalization.CultureInfo.InvariantCulture)), (lines[2].TargetType, lines[2].TargetId));
    }

    [Fact]
    public async Task Only_the_admin_role_reads_the_log_and_its_filters_accept_only_known_actions()
    {
        using var admin = await AdminLogin.SignedInAsync(_app.CreateClient());
        using var op = await ClientAsync(AdminRoles.Operator);
        using var viewer = await ClientAsync(AdminRoles.Viewer);
        Assert.Equal(HttpStatusCode.Forbidden, (await op.GetAsync("/api/v1/audit-log")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync("/api/v1/audit-log")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await op.PostAsJsonAsync("/api/v1/campaigns", new { name = "甲", priceFen = 100 })).StatusCode);

        var all = await JsonAsync(await admin.GetAsync("/api/v1/audit-log"));
        Assert.Equal(2, all.GetProperty("total").GetInt64());
        Assert.Equal(AuditActions.CampaignCreate, all.GetProperty("items")[0].GetProperty("action").GetString());
        Assert.Equal("甲", all.GetProperty("items")[0].GetProperty("detail").GetProperty("name").GetString());

        var campaigns = await JsonAsync(await admin.GetAsync($"/api/v1/audit-log?action={AuditActions.CampaignCreate}&actor=test-operator"));
        Assert.Equal(1, campaigns.GetProperty("total").GetInt64());
        var none = await JsonAsync(await admin.GetAsync($"/api/v1/audit-log?action={AuditActions.CampaignCreate}&actor=admin"));
        Assert.Equal(0, none.GetProperty("total").GetInt64());
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/v1/audit-log?action=campaign.explode")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/v1/audit-log?pageSize=1000")).StatusCode);

        var actions = await admin.GetFromJsonAsync<string[]>("/api/v1/audit-log/actions");
        Assert.Equal(AuditActions.All, actions);
    }

    private async Task<long> SeedOrderAsync(long campaignId, string phone, string status, string? code = null)
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("""
            INSERT INTO participants (phone, referral_code) VALUES (@phone, @referral) ON DUPLICATE KEY UPDATE phone = phone;
            INSERT INTO orders (campaign_id, participant_id, phone, form_data, status, pay_status, amount, registration_code, paid_at)
            SELECT @campaignId, id, @phone, JSON_OBJECT('name', '张三'), @status, IF(@status = 'pending', 'unpaid', @status), 99.00, @code,
                   IF(@status = 'pending', NULL, UTC_TIMESTAMP(3))
            FROM participants WHERE phone = @phone;
            SELECT LAST_INSERT_ID();
            """, new { campaignId, phone, status, code, referral = "R" + phone });
    }
}
