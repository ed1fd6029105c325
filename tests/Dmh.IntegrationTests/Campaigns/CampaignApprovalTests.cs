using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;

namespace Dmh.IntegrationTests.Campaigns;

/// <summary>Campaign approval under Campaigns:RequireApproval (issue 20 item 5): roles and states.</summary>
public sealed class CampaignApprovalTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _app = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _app = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Admin:BcryptWorkFactor"] = "4",
            ["Campaigns:RequireApproval"] = "true",
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

    private static object Body(string name) => new
    {
        name,
        startTime = DateTimeOffset.UtcNow.AddDays(-1),
        endTime = DateTimeOffset.UtcNow.AddDays(10),
        priceFen = 4900,
        payment = new { description = "报名费" },
        formSchema = JsonDocument.Parse("""{"type":"object","properties":{"name":{"type":"string","title":"姓名","x-widget":"text","x-order":1}}}""").RootElement,
    };

    private static async Task<long> CreateAsync(HttpClient client, string name)
    {
        var created = await client.PostAsJsonAsync("/api/v1/campaigns", Body(name));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var c = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("none", c.GetProperty("approval").GetProperty("status").GetString());
        Assert.True(c.GetProperty("approval").GetProperty("required").GetBoolean());
        return c.GetProperty("id").GetInt64();
    }

    private static async Task<JsonElement> ApprovalAsync(HttpClient client, long id) =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}")).GetProperty("approval");

    private static async Task<string?> ProblemTypeAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString();

    [Fact]
    public async Task An_unapproved_campaign_cannot_go_live_and_an_admin_approval_publishes_it()
    {
        using var op = await ClientAsync("operator");
        using var admin = await ClientAsync("admin");
        using var anonymous = _app.CreateClient();
        var id = await CreateAsync(op, "待审活动");

        var publish = await op.PostAsync($"/api/v1/campaigns/{id}/publish", null);
        Assert.Equal(HttpStatusCode.Conflict, publish.StatusCode);
        Assert.EndsWith("/approval-required", await ProblemTypeAsync(publish), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/api/v1/campaigns/{id}/publish", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/api/v1/campaigns/{id}/approve", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/api/v1/campaigns/{id}/form")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await op.PostAsync($"/api/v1/campaigns/{id}/submit", null)).StatusCode);
        Assert.Equal("pending", (await ApprovalAsync(op, id)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await op.PostAsync($"/api/v1/campaigns/{id}/submit", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await op.PostAsync($"/api/v1/campaigns/{id}/publish", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await op.PostAsync($"/api/v1/campaigns/{id}/approve", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await op.PostAsJsonAsync($"/api/v1/campaigns/{id}/reject", new { reason = "自己驳回" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/api/v1/campaigns/{id}/form")).StatusCode);

        var approved = await admin.PostAsync($"/api/v1/campaigns/{id}/approve", null);
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        var campaign = await approved.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("active", campaign.GetProperty("status").GetString());
        Assert.Equal("approved", campaign.GetProperty("approval").GetProperty("status").GetString());
        Assert.Equal("live", (await anonymous.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}/form")).GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/api/v1/campaigns/987654321/approve", null)).StatusCode);
    }

    [Fact]
    public async Task A_rejection_needs_a_reason_that_the_operator_sees_until_the_campaign_is_submitted_again()
    {
        using var op = await ClientAsync("operator");
        using var admin = await ClientAsync("admin");
        var id = await CreateAsync(op, "被驳回的活动");
        await op.PostAsync($"/api/v1/campaigns/{id}/submit", null);

        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/reject", new { reason = "  " })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/reject", new { reason = new string('长', 501) })).StatusCode);
        Assert.Equal("pending", (await ApprovalAsync(op, id)).GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/reject", new { reason = "封面含未授权的商标" })).StatusCode);
        var approval = await ApprovalAsync(op, id);
        Assert.Equal("rejected", approval.GetProperty("status").GetString());
        Assert.Equal("封面含未授权的商标", approval.GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await op.PostAsync($"/api/v1/campaigns/{id}/publish", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/api/v1/campaigns/{id}/approve", null)).StatusCode);

        // The operator fixes it (the reason stays in view) and submits again.
        Assert.Equal(HttpStatusCode.OK, (await op.PutAsJsonAsync($"/api/v1/campaigns/{id}", Body("被驳回的活动（已修改）"))).StatusCode);
        Assert.Equal("封面含未授权的商标", (await ApprovalAsync(op, id)).GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.OK, (await op.PostAsync($"/api/v1/campaigns/{id}/submit", null)).StatusCode);
        approval = await ApprovalAsync(op, id);
        Assert.Equal("pending", approval.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, approval.GetProperty("reason").ValueKind);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/campaigns/{id}/approve", null)).StatusCode);
    }

    [Fact]
    public async Task Operators_cannot_change_a_live_campaign_and_an_edit_after_disabling_needs_a_new_approval()
    {
        using var op = await ClientAsync("operator");
        using var admin = await ClientAsync("admin");
        using var viewer = await ClientAsync("viewer");
        var id = await CreateAsync(op, "上线后修改");
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync($"/api/v1/campaigns/{id}/submit", null)).StatusCode);
        await op.PostAsync($"/api/v1/campaigns/{id}/submit", null);
        await admin.PostAsync($"/api/v1/campaigns/{id}/approve", null);

        var edit = await op.PutAsJsonAsync($"/api/v1/campaigns/{id}", Body("偷偷改名"));
        Assert.Equal(HttpStatusCode.Conflict, edit.StatusCode);
        Assert.EndsWith("/approval-required", await ProblemTypeAsync(edit), StringComparison.Ordinal);
        Assert.Equal("上线后修改", (await op.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}")).GetProperty("name").GetString());

        // An admin's own edit keeps the approval; an operator may always take a campaign offline.
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/v1/campaigns/{id}", Body("管理员改名"))).StatusCode);
        Assert.Equal("approved", (await ApprovalAsync(op, id)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await op.PostAsync($"/api/v1/campaigns/{id}/disable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await op.PostAsync($"/api/v1/campaigns/{id}/publish", null)).StatusCode);
        await op.PostAsync($"/api/v1/campaigns/{id}/disable", null);

        Assert.Equal(HttpStatusCode.OK, (await op.PutAsJsonAsync($"/api/v1/campaigns/{id}", Body("运营改名"))).StatusCode);
        Assert.Equal("none", (await ApprovalAsync(op, id)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await op.PostAsync($"/api/v1/campaigns/{id}/publish", null)).StatusCode);
        Assert.Equal("disabled", (await op.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_operator_edit_while_waiting_for_review_withdraws_the_submission_so_unreviewed_content_is_never_approved()
    {
        using var op = await ClientAsync("operator");
        using var admin = await ClientAsync("admin");
        var id = await CreateAsync(op, "待审核时修改");
        Assert.Equal(HttpStatusCode.OK, (await op.PostAsync($"/api/v1/campaigns/{id}/submit", null)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await op.PutAsJsonAsync($"/api/v1/campaigns/{id}", Body("审核期间偷偷改名"))).StatusCode);
        Assert.Equal("none", (await ApprovalAsync(op, id)).GetProperty("status").GetString());
        var approve = await admin.PostAsync($"/api/v1/campaigns/{id}/approve", null);
        Assert.Equal(HttpStatusCode.Conflict, approve.StatusCode);
        Assert.Equal("draft", (await op.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}")).GetProperty("status").GetString());

        // Submitted again, what the admin approves is what they can see now.
        Assert.Equal(HttpStatusCode.OK, (await op.PostAsync($"/api/v1/campaigns/{id}/submit", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/campaigns/{id}/approve", null)).StatusCode);
        Assert.Equal("审核期间偷偷改名", (await op.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}")).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Strangers_get_neither_the_approval_setting_nor_the_notice_list_and_cannot_approve()
    {
        using var op = await ClientAsync("operator");
        var id = await CreateAsync(op, "陌生人");
        await op.PostAsync($"/api/v1/campaigns/{id}/submit", null);
        using var anonymous = _app.CreateClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/campaigns/settings")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/reward-notices")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync($"/api/v1/campaigns/{id}/approve", null)).StatusCode);
        Assert.Equal("pending", (await ApprovalAsync(op, id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_waiting_list_holds_the_submitted_campaigns_with_who_submitted_them()
    {
        using var op = await ClientAsync("operator");
        using var admin = await ClientAsync("admin");
        var waiting = await CreateAsync(op, "待审列表-提交");
        var rejected = await CreateAsync(op, "待审列表-驳回");
        var untouched = await CreateAsync(op, "待审列表-未提交");
        await op.PostAsync($"/api/v1/campaigns/{waiting}/submit", null);
        await op.PostAsync($"/api/v1/campaigns/{rejected}/submit", null);
        await admin.PostAsJsonAsync($"/api/v1/campaigns/{rejected}/reject", new { reason = "价格写错了" });

        async Task<JsonElement> ListAsync(string approval) =>
            await admin.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns?q=待审列表&approval={approval}");
        static long[] Ids(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("id").GetInt64()).ToArray();

        var pending = await ListAsync("pending");
        Assert.Equal(new[] { waiting }, Ids(pending));
        Assert.Equal(1, pending.GetProperty("total").GetInt64());
        var item = pending.GetProperty("items")[0].GetProperty("approval");
        Assert.Equal("test-operator", item.GetProperty("by").GetString());
        Assert.Equal(JsonValueKind.String, item.GetProperty("at").ValueKind);
        Assert.Equal(new[] { rejected }, Ids(await ListAsync("rejected")));
        Assert.Equal("test-admin", (await ApprovalAsync(op, rejected)).GetProperty("by").GetString());
        Assert.Equal(new[] { untouched }, Ids(await ListAsync("none")));
        Assert.Equal(JsonValueKind.Null, (await ApprovalAsync(op, untouched)).GetProperty("by").ValueKind);
        Assert.Empty(Ids(await ListAsync("approved")));

        var bad = await admin.GetAsync("/api/v1/campaigns?approval=waiting");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("approval", out _));
    }

    [Fact]
    public async Task Without_the_setting_campaigns_publish_directly_and_the_approval_endpoints_answer_409()
    {
        await using var plain = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Admin:BcryptWorkFactor"] = "4",
        });
        using var op = plain.CreateClient();
        op.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await AdminLogin.TokenAsync(plain.Services, "operator"));
        var created = await (await op.PostAsJsonAsync("/api/v1/campaigns", Body("无需审核"))).Content.ReadFromJsonAsync<JsonElement>();
        var id = created.GetProperty("id").GetInt64();
        Assert.False(created.GetProperty("approval").GetProperty("required").GetBoolean());

        var submit = await op.PostAsync($"/api/v1/campaigns/{id}/submit", null);
        Assert.Equal(HttpStatusCode.Conflict, submit.StatusCode);
        Assert.EndsWith("/approval-off", await ProblemTypeAsync(submit), StringComparison.Ordinal);
        var published = await op.PostAsync($"/api/v1/campaigns/{id}/publish", null);
        Assert.Equal("active", (await published.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }
}
