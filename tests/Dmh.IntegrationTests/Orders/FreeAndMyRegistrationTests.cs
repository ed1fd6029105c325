using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dmh.IntegrationTests.Orders;

/// <summary>Free campaigns complete at once; 我的报名 lists the session participant's registrations only.</summary>
public sealed class FreeAndMyRegistrationTests : IAsyncLifetime
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

    private async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, args))!;
    }

    private static object Body(long campaignId, string phone, string? uId = null) =>
        new { campaignId, phone, formData = new { name = "王小明", age = 30 }, uId };

    private HttpClient SessionOf(long participantId, string? openid = null)
    {
        var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            _app.Services.GetRequiredService<TokenService>().IssueParticipant(participantId, openid).Token);
        return client;
    }

    [Fact]
    public async Task A_free_registration_is_paid_at_once_with_a_code_and_no_payment_or_reward()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db, price: 0m);
        using var client = _app.CreateClient();
        await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, "13900000001"));
        var referral = await ScalarAsync<string>("SELECT referral_code FROM participants WHERE phone = '13900000001'");

        var response = await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, "13900000002", referral));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var view = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = view.GetProperty("id").GetInt64();
        Assert.Equal("paid", view.GetProperty("status").GetString());
        Assert.Equal("paid", view.GetProperty("payStatus").GetString());
        Assert.Equal(0, view.GetProperty("amountFen").GetInt64());
        Assert.Matches("^[A-Z2-9]{10}$", view.GetProperty("registrationCode").GetString());
        Assert.False(string.IsNullOrEmpty(view.GetProperty("referralCode").GetString()));

        Assert.Equal(0L, await ScalarAsync<long>("SELECT COUNT(*) FROM payments WHERE order_id = @id", new { id }));
        Assert.Null(await ScalarAsync<string?>("SELECT trade_no FROM orders WHERE id = @id", new { id }));
        Assert.NotNull(await ScalarAsync<DateTime?>("SELECT paid_at FROM orders WHERE id = @id", new { id }));
        Assert.Equal("pending", await ScalarAsync<string>("SELECT status FROM sync_records WHERE entity = 'order' AND entity_id = @id", new { id }));
        // Rewards come from payments (Dmh.Settlement); a free order has none.
        Assert.Equal(0L, await ScalarAsync<long>("SELECT COUNT(*) FROM rewards"));

        var again = await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, "13900000002"));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task A_paid_campaign_still_waits_for_payment()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db, price: 49m);
        using var client = _app.CreateClient();
        var view = await (await client.PostAsJsonAsync("/api/v1/orders", Body(campaignId, "13900000003"))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("unpaid", view.GetProperty("payStatus").GetString());
        Assert.Equal(JsonValueKind.Null, view.GetProperty("registrationCode").ValueKind);
    }

    [Fact]
    public async Task My_registrations_lists_every_registration_of_the_session_participant_and_no_one_elses()
    {
        var paidCampaign = await OrderApiTests.SeedCampaignAsync(_db, price: 49m);
        var freeCampaign = await OrderApiTests.SeedCampaignAsync(_db, price: 0m);
        using var anonymous = _app.CreateClient();
        var pending = (await (await anonymous.PostAsJsonAsync("/api/v1/orders", Body(paidCampaign, "13900000011"))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var free = (await (await anonymous.PostAsJsonAsync("/api/v1/orders", Body(freeCampaign, "13900000011"))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        await anonymous.PostAsJsonAsync("/api/v1/orders", Body(paidCampaign, "13900000012"));
        var me = await ScalarAsync<long>("SELECT id FROM participants WHERE phone = '13900000011'");

        using var session = SessionOf(me);
        var answer = await session.GetAsync("/api/v1/me/registrations");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var text = await answer.Content.ReadAsStringAsync();
        Assert.DoesNotContain("13900000012", text);
        Assert.DoesNotContain("13900000011", text);
        var items = JsonDocument.Parse(text).RootElement.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([free, pending], items.Select(i => i.GetProperty("orderId").GetInt64()));
        Assert.Equal("paid", items[0].GetProperty("payStatus").GetString());
        Assert.False(string.IsNullOrEmpty(items[0].GetProperty("registrationCode").GetString()));
        Assert.Equal("unpaid", items[1].GetProperty("payStatus").GetString());
        Assert.Equal(JsonValueKind.Null, items[1].GetProperty("registrationCode").ValueKind);
        Assert.Equal(4900, items[1].GetProperty("amountFen").GetInt64());

        // The listed token opens the unpaid order on this device (继续支付 pays with it).
        using var device = _app.CreateClient();
        device.DefaultRequestHeaders.Add(OrderAccessTokens.HeaderName, items[1].GetProperty("orderToken").GetString());
        Assert.Equal(HttpStatusCode.OK, (await device.GetAsync($"/api/v1/orders/{pending}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await device.GetAsync($"/api/v1/orders/{free}")).StatusCode);
    }

    [Fact]
    public async Task My_registrations_needs_a_participant_session()
    {
        using var anonymous = _app.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/me/registrations")).StatusCode);

        // A WeChat visitor who never registered: a session without a participant lists nothing.
        using var visitor = _app.CreateClient();
        visitor.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            _app.Services.GetRequiredService<TokenService>().IssueWechatSession("o-visitor", null).Token);
        var list = await visitor.GetFromJsonAsync<JsonElement>("/api/v1/me/registrations");
        Assert.Empty(list.GetProperty("items").EnumerateArray());
    }
}
