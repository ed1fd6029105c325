using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Dmh.IntegrationTests.Campaigns;

/// <summary>Drafts without a time window, and the signed, expiring phone-preview link of a draft (issue 20 item 6).</summary>
public sealed class CampaignPreviewTests : IAsyncLifetime
{
    // The JWT handler checks token lifetimes on the real clock, so the fake clock starts at the real time.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private TestDatabase _db = null!;
    private IAsyncDisposable _factory = null!;
    private WebApplicationFactory<Dmh.Ingress.EntryPoint> _app = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        var factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Admin:BcryptWorkFactor"] = "4",
            ["Public:BaseUrl"] = "https://dmh.example.com",
        });
        _factory = factory;
        _app = factory.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<TimeProvider>(_time)));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
    }

    private static object Draft(string name) => new
    {
        name,
        priceFen = 4900,
        payment = new { description = "报名费" },
        formSchema = JsonDocument.Parse("""{"type":"object","properties":{"name":{"type":"string","title":"姓名","x-widget":"text","x-order":1}}}""").RootElement,
    };

    private static async Task<long> CreateDraftAsync(HttpClient admin, string name)
    {
        var created = await admin.PostAsJsonAsync("/api/v1/campaigns", Draft(name));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Null, body.GetProperty("startTime").ValueKind);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("endTime").ValueKind);
        return body.GetProperty("id").GetInt64();
    }

    private static string TokenOf(string url) => Uri.UnescapeDataString(url[(url.IndexOf("preview=", StringComparison.Ordinal) + "preview=".Length)..]);

    [Fact]
    public async Task A_preview_link_shows_a_draft_without_publishing_it_until_it_expires()
    {
        using var admin = await AdminLogin.SignedInAsync(_app.CreateClient());
        var id = await CreateDraftAsync(admin, "预览草稿");
        using var anonymous = _app.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/api/v1/campaigns/{id}/form")).StatusCode);

        var link = await (await admin.PostAsync($"/api/v1/campaigns/{id}/preview-link", null)).Content.ReadFromJsonAsync<JsonElement>();
        var url = link.GetProperty("url").GetString()!;
        Assert.StartsWith($"https://dmh.example.com/h5/#/pages/campaign/index?id={id}&preview=", url, StringComparison.Ordinal);
        Assert.Equal(_time.GetUtcNow().AddHours(24).ToUnixTimeSeconds(), link.GetProperty("expiresAt").GetDateTimeOffset().ToUnixTimeSeconds());
        var token = TokenOf(url);

        var form = await anonymous.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}/form?preview={Uri.EscapeDataString(token)}");
        Assert.True(form.GetProperty("preview").GetBoolean());
        Assert.Equal("预览草稿", form.GetProperty("name").GetString());
        Assert.Equal("live", form.GetProperty("state").GetString());

        // Previewing publishes nothing: the campaign stays a draft and nobody can register.
        Assert.Equal("draft", (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}")).GetProperty("status").GetString());
        var order = await anonymous.PostAsJsonAsync("/api/v1/orders", new { campaignId = id, phone = "13800138000", formData = new { name = "张三" } });
        Assert.False(order.IsSuccessStatusCode);

        _time.Advance(TimeSpan.FromHours(24));
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/api/v1/campaigns/{id}/form?preview={Uri.EscapeDataString(token)}")).StatusCode);
    }

    [Fact]
    public async Task A_preview_token_opens_only_its_own_campaign_and_cannot_be_forged()
    {
        using var admin = await AdminLogin.SignedInAsync(_app.CreateClient());
        var a = await CreateDraftAsync(admin, "草稿甲");
        var b = await CreateDraftAsync(admin, "草稿乙");
        var link = await (await admin.PostAsync($"/api/v1/campaigns/{a}/preview-link", null)).Content.ReadFromJsonAsync<JsonElement>();
        var token = TokenOf(link.GetProperty("url").GetString()!);
        var parts = token.Split('.');
        using var anonymous = _app.CreateClient();

        async Task<HttpStatusCode> FormAsync(long id, string t) =>
            (await anonymous.GetAsync($"/api/v1/campaigns/{id}/form?preview={Uri.EscapeDataString(t)}")).StatusCode;

        Assert.Equal(HttpStatusCode.OK, await FormAsync(a, token));
        Assert.Equal(HttpStatusCode.NotFound, await FormAsync(b, token));
        Assert.Equal(HttpStatusCode.NotFound, await FormAsync(b, $"{b}.{parts[1]}.{parts[2]}"));
        Assert.Equal(HttpStatusCode.NotFound, await FormAsync(a, $"{a}.{long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) + 86_400}.{parts[2]}"));
        Assert.Equal(HttpStatusCode.NotFound, await FormAsync(a, $"{a}.{parts[1]}.AAAA"));
        Assert.Equal(HttpStatusCode.NotFound, await FormAsync(a, "1"));

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync($"/api/v1/campaigns/{a}/preview-link", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/api/v1/campaigns/987654321/preview-link", null)).StatusCode);
    }
}
