using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;

namespace Dmh.IntegrationTests.Tracking;

/// <summary>Channel CRUD, the campaign's link per channel, and the funnel's registered/unregistered channels (issue 19).</summary>
public sealed class ChannelApiTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _factory = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Admin:BcryptWorkFactor"] = "4",
            ["Public:BaseUrl"] = "https://hd.example.com",
        });
        _admin = await AdminLogin.SignedInAsync(_factory.CreateClient());
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Channels_are_created_listed_renamed_and_deleted_with_unique_codes()
    {
        var created = await _admin.PostAsJsonAsync("/api/v1/channels", new { code = "wx-group-1", name = "微信群 1", note = "北京家长群" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        var taken = await _admin.PostAsJsonAsync("/api/v1/channels", new { code = "wx-group-1", name = "again" });
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        Assert.Equal("https://dmh.local/problems/channel-code-taken", (await taken.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());

        var bad = await _admin.PostAsJsonAsync("/api/v1/channels", new { code = "has space&", name = "" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("code", out _));
        Assert.True(errors.TryGetProperty("name", out _));

        Assert.Equal(HttpStatusCode.OK, (await _admin.PutAsJsonAsync($"/api/v1/channels/{id}", new { code = "wx-group-1", name = "微信群一" })).StatusCode);
        var list = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/channels");
        var only = Assert.Single(list.EnumerateArray());
        Assert.Equal("微信群一", only.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, only.GetProperty("note").ValueKind);

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/channels/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.DeleteAsync($"/api/v1/channels/{id}")).StatusCode);
        Assert.Empty((await _admin.GetFromJsonAsync<JsonElement>("/api/v1/channels")).EnumerateArray());
    }

    [Fact]
    public async Task A_campaign_has_a_link_per_channel_carrying_its_code()
    {
        await using var c = await _db.DataSource.OpenConnectionAsync();
        var campaign = await c.ExecuteScalarAsync<long>("INSERT INTO campaigns (name, status) VALUES ('links', 'active'); SELECT LAST_INSERT_ID();");
        await _admin.PostAsJsonAsync("/api/v1/channels", new { code = "kol_7", name = "KOL 7" });
        var links = await _admin.GetFromJsonAsync<JsonElement>($"/api/v1/channels/links?campaignId={campaign}");
        var link = Assert.Single(links.EnumerateArray());
        Assert.Equal($"https://hd.example.com/h5/#/pages/campaign/index?id={campaign}&c_id=kol_7", link.GetProperty("url").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync("/api/v1/channels/links?campaignId=999999")).StatusCode);
    }

    [Fact]
    public async Task Viewers_and_strangers_cannot_change_channels()
    {
        using var stranger = _factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.PostAsJsonAsync("/api/v1/channels", new { code = "x1", name = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.GetAsync("/api/v1/funnel")).StatusCode);
    }

    [Fact]
    public async Task The_funnel_counts_registrations_paid_and_rewarded_from_orders_by_channel_and_referrer()
    {
        await using var c = await _db.DataSource.OpenConnectionAsync();
        var campaign = await c.ExecuteScalarAsync<long>("INSERT INTO campaigns (name, status) VALUES ('f', 'active'); SELECT LAST_INSERT_ID();");
        var referrer = await c.ExecuteScalarAsync<long>("INSERT INTO participants (phone, referral_code) VALUES ('13800000009', 'RCODE1'); SELECT LAST_INSERT_ID();");
        await _admin.PostAsJsonAsync("/api/v1/channels", new { code = "wx", name = "微信" });
        // 2026-03-01 local (UTC+8): three orders of channel wx (two paid, one rewarded), one without channel.
        await c.ExecuteAsync("""
            INSERT INTO orders (campaign_id, phone, channel_id, referrer_id, created_at, paid_at) VALUES
              (@campaign, '13900000001', 'wx', @referrer, '2026-02-28 16:30:00', '2026-02-28 16:40:00'),
              (@campaign, '13900000002', 'wx', @referrer, '2026-03-01 02:00:00', '2026-03-01 02:10:00'),
              (@campaign, '13900000003', 'wx', 0,         '2026-03-01 03:00:00', NULL),
              (@campaign, '13900000004', NULL, 0,         '2026-03-01 04:00:00', NULL);
            INSERT INTO rewards (user_id, order_id, campaign_id, amount, settled_at)
              SELECT @referrer, id, @campaign, 5.00, '2026-03-01 02:11:00' FROM orders WHERE phone = '13900000002';
            """, new { campaign, referrer });

        var funnel = await _admin.GetFromJsonAsync<JsonElement>($"/api/v1/funnel?campaignId={campaign}&from=2026-03-01&to=2026-03-01&interval=hour");
        var totals = funnel.GetProperty("totals");
        Assert.Equal((4, 2, 1), (totals.GetProperty("registrations").GetInt64(), totals.GetProperty("paid").GetInt64(), totals.GetProperty("rewarded").GetInt64()));
        var wx = funnel.GetProperty("channels").EnumerateArray().Single(x => x.GetProperty("channel").GetString() == "wx");
        Assert.True(wx.GetProperty("registered").GetBoolean());
        Assert.Equal("微信", wx.GetProperty("name").GetString());
        Assert.Equal(3, wx.GetProperty("counts").GetProperty("registrations").GetInt64());
        var byReferrer = funnel.GetProperty("referrers").EnumerateArray().Single(x => x.GetProperty("referrer").GetString() == "RCODE1");
        Assert.Equal(2, byReferrer.GetProperty("counts").GetProperty("paid").GetInt64());
        var series = funnel.GetProperty("series").EnumerateArray().ToList();
        Assert.Equal(24, series.Count);
        Assert.Equal("2026-03-01T00:00", series[0].GetProperty("at").GetString());
        Assert.Equal(1, series[0].GetProperty("counts").GetProperty("registrations").GetInt64());
        Assert.Equal(1, series[10].GetProperty("counts").GetProperty("registrations").GetInt64());

        var csv = await _admin.GetAsync($"/api/v1/funnel/export?campaignId={campaign}&from=2026-03-01&to=2026-03-01");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var text = await csv.Content.ReadAsStringAsync();
        Assert.Contains("渠道,wx,微信,", text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.GetAsync("/api/v1/funnel?from=2026-03-01&to=2026-03-02&interval=hour")).StatusCode);
    }
}
