using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dmh.IntegrationTests.Orders;

/// <summary>Issue 23: a registration's database round trips, and the campaign cache shared by every Ingress.</summary>
public sealed class LeanRegistrationTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private string _prefix = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _prefix = TestKeys.NewRedisPrefix();
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private ServiceFactory<Dmh.Ingress.EntryPoint> NewIngress(string lifetime = "00:00:10") => new(_db, _prefix, new Dictionary<string, string?>
    {
        ["RateLimits:PublicPermitLimit"] = "100000",
        ["CampaignCache:Lifetime"] = lifetime,
    });

    private static object Body(long campaignId, string phone, string? uId = null) => new { campaignId, phone, formData = new { name = "张三" }, uId };

    [Fact]
    public async Task A_new_registration_with_a_referrer_takes_one_database_round_trip()
    {
        await using var ingress = NewIngress();
        var client = ingress.CreateClient();
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        var referrer = await OrderApiTests.PostOrderAsync(client, Body(campaignId, "13900139000"));
        Assert.Equal(HttpStatusCode.Created, referrer.StatusCode);
        string code;
        await using (var read = await _db.DataSource.OpenConnectionAsync())
        {
            code = await read.ExecuteScalarAsync<string>("SELECT referral_code FROM participants WHERE phone = '13900139000'") ?? throw new InvalidOperationException("no referrer");
        }

        var statements = new ConcurrentQueue<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "MySqlConnector",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                var tags = activity.TagObjects.Select(t => t.Value?.ToString()).ToList();
                var statement = activity.TagObjects.FirstOrDefault(t => t.Key is "db.statement" or "db.query.text").Value?.ToString();
                // Only this test's database, and only the tables a registration touches (not background work).
                if (tags.Contains(_db.Name) && statement is not null
                    && (statement.Contains("orders", StringComparison.Ordinal) || statement.Contains("participants", StringComparison.Ordinal) || statement.Contains("campaigns", StringComparison.Ordinal)))
                {
                    statements.Enqueue(statement);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        var created = await OrderApiTests.PostOrderAsync(client, Body(campaignId, "13800138000", code));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.True(statements.Count == 1, $"{statements.Count} round trips:\n" + string.Join("\n---\n", statements));
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        var order = await connection.QuerySingleAsync<(long ReferrerId, long ParticipantReferredBy)>("""
            SELECT o.referrer_id, p.referred_by FROM orders o JOIN participants p ON p.id = o.participant_id WHERE o.phone = '13800138000'
            """);
        var referrerId = await connection.ExecuteScalarAsync<long>("SELECT id FROM participants WHERE phone = '13900139000'");
        Assert.Equal((referrerId, referrerId), order);
    }

    [Fact]
    public async Task Registration_fixes_a_three_level_chain_that_never_reaches_back_to_the_registrant()
    {
        await using var ingress = NewIngress();
        var client = ingress.CreateClient();
        var campaign = await OrderApiTests.SeedCampaignAsync(_db);
        var second = await OrderApiTests.SeedCampaignAsync(_db);
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        async Task<(long Id, string Code)> RegisterAsync(long campaignId, string phone, string? uId)
        {
            Assert.Equal(HttpStatusCode.Created, (await OrderApiTests.PostOrderAsync(client, Body(campaignId, phone, uId))).StatusCode);
            return await connection.QuerySingleAsync<(long, string)>("SELECT id, referral_code FROM participants WHERE phone = @phone", new { phone });
        }

        async Task<(long, long, long)> ChainAsync(long campaignId, string phone) => await connection.QuerySingleAsync<(long, long, long)>(
            "SELECT referrer_id, referrer2_id, referrer3_id FROM orders WHERE campaign_id = @campaignId AND phone = @phone", new { campaignId, phone });

        // a ← b ← c ← d ← e: each registers through the one before.
        var a = await RegisterAsync(campaign, "13900000001", null);
        var b = await RegisterAsync(campaign, "13900000002", a.Code);
        var c = await RegisterAsync(campaign, "13900000003", b.Code);
        var d = await RegisterAsync(campaign, "13900000004", c.Code);
        var e = await RegisterAsync(campaign, "13900000005", d.Code);
        Assert.Equal((0L, 0L, 0L), await ChainAsync(campaign, "13900000001"));
        Assert.Equal((a.Id, 0L, 0L), await ChainAsync(campaign, "13900000002"));
        Assert.Equal((b.Id, a.Id, 0L), await ChainAsync(campaign, "13900000003"));
        Assert.Equal((c.Id, b.Id, a.Id), await ChainAsync(campaign, "13900000004"));
        Assert.Equal((d.Id, c.Id, b.Id), await ChainAsync(campaign, "13900000005"));

        // In another campaign c registers through e: e, d and then c itself, so the chain stops at d.
        _ = await RegisterAsync(second, "13900000003", e.Code);
        Assert.Equal((e.Id, d.Id, 0L), await ChainAsync(second, "13900000003"));
        // b through d: d, c, and then b itself; a participant's own first referrer never changes.
        _ = await RegisterAsync(second, "13900000002", d.Code);
        Assert.Equal((d.Id, c.Id, 0L), await ChainAsync(second, "13900000002"));
        Assert.Equal(a.Id, await connection.ExecuteScalarAsync<long>("SELECT referred_by FROM participants WHERE id = @Id", new { b.Id }));
        // Through one's own code: no referrer at all.
        _ = await RegisterAsync(second, "13900000001", a.Code);
        Assert.Equal((0L, 0L, 0L), await ChainAsync(second, "13900000001"));
    }

    [Fact]
    public async Task A_campaign_edit_on_one_ingress_is_seen_by_another_at_once()
    {
        // An hour: only the change message can explain B seeing the edit.
        await using var a = NewIngress("01:00:00");
        await using var b = NewIngress("01:00:00");
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        var onB = b.CreateClient();
        Assert.Equal(HttpStatusCode.Created, (await OrderApiTests.PostOrderAsync(onB, Body(campaignId, "13800138001"))).StatusCode);

        var admin = a.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            a.Services.GetRequiredService<TokenService>().IssueAdmin(1, "admin", AdminRoles.Admin).Token);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/campaigns/{campaignId}/disable", null)).StatusCode);

        // Pub/sub delivers asynchronously: allow the message its milliseconds, far below the lifetime.
        var deadline = Stopwatch.StartNew();
        HttpResponseMessage response;
        var phone = 13800138100L;
        while (true)
        {
            response = await OrderApiTests.PostOrderAsync(onB, Body(campaignId, (phone++).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            if (response.StatusCode != HttpStatusCode.Created || deadline.Elapsed > TimeSpan.FromSeconds(5))
            {
                break;
            }

            await Task.Delay(20);
        }

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.EndsWith("/campaign-not-live", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
    }
}
