using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;

namespace Dmh.IntegrationTests.Campaigns;

/// <summary>The H5's "王*明邀请你": the referrer's name from their own form, masked, never a phone (issue 20 item 8).</summary>
public sealed class CampaignReferrerTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _app = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _app = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?> { ["Admin:BcryptWorkFactor"] = "4" });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    private async Task<string> ReferralCodeAsync(string phone)
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<string>("SELECT referral_code FROM participants WHERE phone = @phone", new { phone }) ?? "";
    }

    [Fact]
    public async Task The_referrer_shows_by_masked_name_and_never_by_phone()
    {
        using var admin = await AdminLogin.SignedInAsync(_app.CreateClient());
        var created = await admin.PostAsJsonAsync("/api/v1/campaigns", new
        {
            name = "邀请有礼",
            startTime = DateTimeOffset.UtcNow.AddDays(-1),
            endTime = DateTimeOffset.UtcNow.AddDays(3),
            priceFen = 4900,
            payment = new { description = "报名费" },
            formSchema = JsonDocument.Parse("""{"type":"object","properties":{"name":{"type":"string","title":"姓名","x-widget":"text","x-order":1}}}""").RootElement,
        });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        (await admin.PostAsync($"/api/v1/campaigns/{id}/publish", null)).EnsureSuccessStatusCode();

        using var anonymous = _app.CreateClient();
        (await anonymous.PostAsJsonAsync("/api/v1/orders", new { campaignId = id, phone = "13800138001", formData = new { name = "王小明" } })).EnsureSuccessStatusCode();
        (await anonymous.PostAsJsonAsync("/api/v1/orders", new { campaignId = id, phone = "13800138002", formData = new { name = "13800138002" } })).EnsureSuccessStatusCode();
        (await anonymous.PostAsJsonAsync("/api/v1/orders", new { campaignId = id, phone = "13800138003", formData = new { } })).EnsureSuccessStatusCode();

        async Task<JsonElement> ReferrerAsync(string phone) =>
            await anonymous.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}/referrer/{await ReferralCodeAsync(phone)}");

        Assert.Equal("王*明", (await ReferrerAsync("13800138001")).GetProperty("name").GetString());
        var phoneAsName = await ReferrerAsync("13800138002");
        Assert.Equal(JsonValueKind.Null, phoneAsName.GetProperty("name").ValueKind);
        Assert.DoesNotContain("138", phoneAsName.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, (await ReferrerAsync("13800138003")).GetProperty("name").ValueKind);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/api/v1/campaigns/{id}/referrer/NoSuchCode1")).StatusCode);
    }
}
