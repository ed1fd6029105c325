using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;

namespace Dmh.IntegrationTests.Stats;

/// <summary>Stats overview on seeded rows: Asia/Shanghai day boundaries, campaign filter, channels, top referrers, range checks.</summary>
public sealed class StatsOverviewTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _factory = null!;
    private HttpClient _admin = null!;
    private long _p1;
    private long _p2;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Admin:BcryptWorkFactor"] = "4",
        });
        _admin = await AdminLogin.SignedInAsync(_factory.CreateClient());
        await SeedAsync();
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
    }

    // Times are UTC; Shanghai is UTC+8, so local day D starts at (D-1) 16:00Z.
    private async Task SeedAsync()
    {
        await using var c = await _db.DataSource.OpenConnectionAsync();
        _p1 = await c.ExecuteScalarAsync<long>("INSERT INTO participants (phone, referral_code) VALUES ('13800000001', 'R1'); SELECT LAST_INSERT_ID();");
        _p2 = await c.ExecuteScalarAsync<long>("INSERT INTO participants (phone, referral_code) VALUES ('13800000002', 'R2'); SELECT LAST_INSERT_ID();");
        var p3 = await c.ExecuteScalarAsync<long>("INSERT INTO participants (phone, referral_code) VALUES ('13800000003', 'R3'); SELECT LAST_INSERT_ID();");
        await c.ExecuteAsync("""
            INSERT INTO orders (campaign_id, phone, channel_id, created_at, paid_at, deleted_at) VALUES
              (1, '13900000001', 'wx',     '2026-02-28 16:00:00.000', '2026-02-28 16:10:00.000', NULL), -- Mar 1 00:00 local, paid Mar 1
              (1, '13900000002', 'wx',     '2026-03-01 15:30:00.000', '2026-03-01 16:30:00.000', NULL), -- Mar 1 23:30, paid Mar 2 00:30
              (1, '13900000003', 'douyin', '2026-03-01 16:30:00.000', NULL, NULL),                      -- Mar 2
              (2, '13900000004', NULL,     '2026-03-03 15:59:00.000', '2026-03-03 16:05:00.000', NULL), -- Mar 3 23:59, paid Mar 4
              (1, '13900000005', 'wx',     '2026-02-28 15:59:59.999', NULL, NULL),                      -- Feb 28 23:59:59.999: outside
              (1, '13900000006', 'wx',     '2026-03-02 03:00:00.000', NULL, '2026-03-02 04:00:00.000'); -- deleted
            """);
        await c.ExecuteAsync("""
            INSERT INTO rewards (user_id, order_id, campaign_id, amount, amount_fen, reversed_fen, status, settled_at) VALUES
              (@p1, 1, 1, 10.00,  1000,  0,   'available', '2026-02-28 16:10:00.000'),  -- Mar 1
              (@p1, 2, 1, 10.50,  1050,  0,   'available', '2026-03-01 16:30:00.000'),  -- Mar 2
              (@p2, 4, 2, 5.00,   500,   0,   'available', '2026-03-03 10:00:00.000'),  -- Mar 3
              (@p2, 6, 2, 8.00,   800,   800, 'reversed',  '2026-03-03 11:00:00.000'),  -- Mar 3, refunded in full
              (@p1, 7, 2, 4.00,   400,   150, 'available', '2026-03-03 12:00:00.000'),  -- Mar 3, refunded in part
              (@p3, 5, 1, 100.00, 10000, 0,   'available', '2026-02-28 10:00:00.000');  -- Feb 28: outside
            """, new { p1 = _p1, p2 = _p2, p3 });
    }

    private async Task<JsonElement> OverviewAsync(string query)
    {
        var response = await _admin.GetAsync("/api/v1/stats/overview" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static List<(string Date, long Registrations, long Payments, long RewardsFen)> Series(JsonElement body) =>
        [.. body.GetProperty("series").EnumerateArray().Select(d => (d.GetProperty("date").GetString()!,
            d.GetProperty("registrations").GetInt64(), d.GetProperty("payments").GetInt64(), d.GetProperty("rewardsFen").GetInt64()))];

    private static List<(string? ChannelId, long Registrations, long Payments)> Channels(JsonElement body) =>
        [.. body.GetProperty("channels").EnumerateArray().Select(c => (c.GetProperty("channelId").GetString(),
            c.GetProperty("registrations").GetInt64(), c.GetProperty("payments").GetInt64()))];

    [Fact]
    public async Task Days_follow_shanghai_midnight()
    {
        var body = await OverviewAsync("?from=2026-03-01&to=2026-03-03");
        Assert.Equal(
            [("2026-03-01", 2L, 1L, 1000L), ("2026-03-02", 1L, 1L, 1050L), ("2026-03-03", 1L, 0L, 750L)],
            Series(body));
    }

    [Fact]
    public async Task Times_with_offset_select_their_day_in_shanghai()
    {
        // As the admin console sends them: local midnight and 23:59:59 with +08:00; a UTC time is converted.
        var body = await OverviewAsync("?from=" + Uri.EscapeDataString("2026-03-01T00:00:00+08:00") + "&to=" + Uri.EscapeDataString("2026-03-02T20:00:00Z"));
        Assert.Equal(
            [("2026-03-01", 2L, 1L, 1000L), ("2026-03-02", 1L, 1L, 1050L), ("2026-03-03", 1L, 0L, 750L)],
            Series(body));
    }

    [Fact]
    public async Task Channels_count_registrations_in_range_and_how_many_paid()
    {
        var body = await OverviewAsync("?from=2026-03-01&to=2026-03-03");
        Assert.Equal([("wx", 2L, 2L), (null, 1L, 1L), ("douyin", 1L, 0L)], Channels(body));
    }

    [Fact]
    public async Task Top_referrers_are_ranked_by_reward_with_masked_phones()
    {
        var body = await OverviewAsync("?from=2026-03-01&to=2026-03-03");
        var top = body.GetProperty("topReferrers").EnumerateArray().ToList();
        Assert.Equal(2, top.Count);
        Assert.Equal(_p1, top[0].GetProperty("participantId").GetInt64());
        Assert.Equal("138****0001", top[0].GetProperty("phoneMasked").GetString());
        Assert.Equal(2300, top[0].GetProperty("rewardFen").GetInt64());
        Assert.Equal(3, top[0].GetProperty("count").GetInt64());
        Assert.Equal(_p2, top[1].GetProperty("participantId").GetInt64());
        Assert.Equal(500, top[1].GetProperty("rewardFen").GetInt64());
    }

    [Fact]
    public async Task Rewards_count_net_of_refunds_and_a_fully_refunded_reward_is_not_counted_for_its_referrer()
    {
        // Mar 3: 5.00 kept, 8.00 refunded in full, 4.00 with 1.50 refunded → 5.00 + 0 + 2.50.
        var body = await OverviewAsync("?from=2026-03-03&to=2026-03-03");
        Assert.Equal([("2026-03-03", 1L, 0L, 750L)], Series(body));
        var top = body.GetProperty("topReferrers").EnumerateArray().ToDictionary(r => r.GetProperty("participantId").GetInt64());
        Assert.Equal(500, top[_p2].GetProperty("rewardFen").GetInt64());
        Assert.Equal(1, top[_p2].GetProperty("count").GetInt64());
        Assert.Equal(250, top[_p1].GetProperty("rewardFen").GetInt64());
    }

    [Fact]
    public async Task Campaign_filter_applies_to_every_figure()
    {
        var body = await OverviewAsync("?campaignId=1&from=2026-03-01&to=2026-03-03");
        Assert.Equal(
            [("2026-03-01", 2L, 1L, 1000L), ("2026-03-02", 1L, 1L, 1050L), ("2026-03-03", 0L, 0L, 0L)],
            Series(body));
        Assert.Equal([("wx", 2L, 2L), ("douyin", 1L, 0L)], Channels(body));
        Assert.Equal([_p1], body.GetProperty("topReferrers").EnumerateArray().Select(r => r.GetProperty("participantId").GetInt64()));
    }

    [Fact]
    public async Task Default_range_is_the_last_30_days_ending_today_in_shanghai()
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
        var before = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, zone).DateTime);
        var series = Series(await OverviewAsync(""));
        var after = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, zone).DateTime);
        Assert.Equal(30, series.Count);
        Assert.Contains(series[^1].Date, new[] { before.ToString("yyyy-MM-dd"), after.ToString("yyyy-MM-dd") });
        Assert.Equal(DateOnly.Parse(series[^1].Date, System.Globalization.CultureInfo.InvariantCulture).AddDays(-29).ToString("yyyy-MM-dd"), series[0].Date);
    }

    [Fact]
    public async Task A_366_day_range_is_allowed()
    {
        Assert.Equal(366, Series(await OverviewAsync("?from=2025-03-03&to=2026-03-03")).Count);
    }

    [Theory]
    [InlineData("?from=2026-03-04&to=2026-03-03")]
    [InlineData("?from=2025-03-02&to=2026-03-03")]
    [InlineData("?from=2026-3-1")]
    [InlineData("?to=yesterday")]
    [InlineData("?to=2026-03-03T10:00:00")]
    [InlineData("?campaignId=abc")]
    [InlineData("?campaignId=-1")]
    public async Task Bad_range_or_filter_is_400(string query)
    {
        var response = await _admin.GetAsync("/api/v1/stats/overview" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Anonymous_is_401()
    {
        using var anonymous = _factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/stats/overview")).StatusCode);
    }
}
