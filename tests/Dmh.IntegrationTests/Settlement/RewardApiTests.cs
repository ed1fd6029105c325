using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.Contracts;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.Settlement;

/// <summary>Rewards and dead-letter endpoints of Ingress: who may read what.</summary>
public sealed class RewardApiTests : IAsyncLifetime, IDisposable
{
    private TestDatabase _db = null!;
    private ConnectionMultiplexer _redis = null!;
    private SettlementKit _kit = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _factory = null!;
    private HttpClient _client = null!;

    private readonly Dictionary<string, string> _adminTokens = [];

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        _kit = new SettlementKit(_db, _redis, TestKeys.NewRedisPrefix());
        _factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, _kit.Prefix);
        _client = _factory.CreateClient();
        foreach (var role in new[] { AdminRoles.Admin, AdminRoles.Operator, AdminRoles.Viewer })
        {
            _adminTokens[role] = await AdminLogin.TokenAsync(_factory.Services, role);
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await _kit.DeleteKeysAsync();
        await _redis.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Balance_and_rewards_are_for_the_participant_themself_or_an_admin()
    {
        var (referrer, _) = await SeedRewardsAsync();
        var other = await _kit.ParticipantAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync($"/api/v1/rewards/balance/{referrer}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync($"/api/v1/rewards/{referrer}", null)).StatusCode);
        var forbidden = await GetAsync($"/api/v1/rewards/balance/{referrer}", Participant(other));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("application/problem+json", forbidden.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync($"/api/v1/rewards/{referrer}", Participant(other))).StatusCode);

        var own = await GetAsync($"/api/v1/rewards/balance/{referrer}", Participant(referrer));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        var balance = await own.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(referrer, balance.GetProperty("userId").GetInt64());
        Assert.Equal(2500, balance.GetProperty("balanceFen").GetInt64());
        Assert.Equal(2500, balance.GetProperty("totalRewardFen").GetInt64());
        Assert.Equal(2, balance.GetProperty("version").GetInt64());

        var page = await (await GetAsync($"/api/v1/rewards/{referrer}?page=1&pageSize=1", Admin("viewer"))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, page.GetProperty("total").GetInt64());
        Assert.Equal(1, page.GetProperty("items").GetArrayLength());
        var item = page.GetProperty("items")[0];
        Assert.True(item.GetProperty("amountFen").GetInt64() is 1000 or 1500);
        Assert.EndsWith("+00:00", item.GetProperty("settledAt").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await GetAsync($"/api/v1/rewards/{referrer}?pageSize=1000", Admin("viewer"))).StatusCode);

        var empty = await (await GetAsync($"/api/v1/rewards/balance/{other}", Participant(other))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, empty.GetProperty("balanceFen").GetInt64());
    }

    [Fact]
    public async Task Me_rewards_needs_a_session_and_the_admin_list_needs_an_admin()
    {
        var (referrer, phone) = await SeedRewardsAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync("/api/v1/me/rewards", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync("/api/v1/me/rewards", Admin("admin"))).StatusCode);
        var mine = await (await GetAsync("/api/v1/me/rewards", Participant(referrer))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(referrer, mine.GetProperty("participantId").GetInt64());
        Assert.Equal(2500, mine.GetProperty("balanceFen").GetInt64());
        Assert.Equal(2, mine.GetProperty("items").GetArrayLength());
        Assert.StartsWith("r", mine.GetProperty("referralCode").GetString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync("/api/v1/rewards", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync("/api/v1/rewards", Participant(referrer))).StatusCode);
        var list = await (await GetAsync("/api/v1/rewards", Admin("viewer"))).Content.ReadFromJsonAsync<JsonElement>();
        var row = list.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("participantId").GetInt64() == referrer);
        Assert.Equal($"{phone[..3]}****{phone[^4..]}", row.GetProperty("phoneMasked").GetString());
        Assert.Equal(2, row.GetProperty("rewardCount").GetInt64());
        Assert.Equal(2500, row.GetProperty("totalRewardFen").GetInt64());

        // One referrer looked up by their whole number, as the rewards page's search does.
        var found = await (await GetAsync($"/api/v1/rewards?phone={phone}", Admin("viewer"))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, found.GetProperty("total").GetInt64());
        Assert.Equal(referrer, found.GetProperty("items")[0].GetProperty("participantId").GetInt64());
    }

    [Fact]
    public async Task Dead_letters_are_listed_for_admins_and_replayed_once_onto_their_stream()
    {
        long id;
        await using (var c = await _db.DataSource.OpenConnectionAsync())
        {
            id = await c.ExecuteScalarAsync<long>("""
                INSERT INTO dead_letters (stream, entry_id, group_name, consumer, deliveries, message_type, message_key, payload, error)
                VALUES ('dmh:payments', '1-1', 'settlement', 'c', 6, 'PaymentSucceeded', 'D1A1', '{"outTradeNo":"D1A1"}', 'No payment attempt');
                SELECT LAST_INSERT_ID();
                """);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync("/api/v1/dead-letters", null)).StatusCode);
        var list = await (await GetAsync("/api/v1/dead-letters", Admin("viewer"))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, list.GetProperty("total").GetInt64());
        Assert.Equal("No payment attempt", list.GetProperty("items")[0].GetProperty("error").GetString());

        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync($"/api/v1/dead-letters/{id}/replay", Admin("viewer"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync("/api/v1/dead-letters/999999/replay", Admin("operator"))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync($"/api/v1/dead-letters/{id}/replay", Admin("operator"))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync($"/api/v1/dead-letters/{id}/replay", Admin("operator"))).StatusCode);

        var entries = await _kit.Redis.StreamRangeAsync(_kit.Prefix + StreamNames.Payments);
        var entry = Assert.Single(entries);
        Assert.Equal("PaymentSucceeded", (string)entry["type"]!);
        Assert.Equal("D1A1", (string)entry["key"]!);
        Assert.Equal("{\"outTradeNo\":\"D1A1\"}", (string)entry["payload"]!);
    }

    private async Task<(long Referrer, string Phone)> SeedRewardsAsync()
    {
        var referrer = await _kit.ParticipantAsync();
        await using var c = await _db.DataSource.OpenConnectionAsync();
        await c.ExecuteAsync("""
            INSERT INTO rewards (user_id, order_id, campaign_id, amount, amount_fen, status, settled_at, available_at)
            VALUES (@referrer, 1, 1, 10.00, 1000, 'available', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3)), (@referrer, 2, 1, 15.00, 1500, 'available', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3));
            INSERT INTO user_balances (user_id, balance, total_reward, available_fen, total_earned_fen, version) VALUES (@referrer, 25.00, 25.00, 2500, 2500, 2);
            """, new { referrer });
        return (referrer, await c.ExecuteScalarAsync<string>("SELECT phone FROM participants WHERE id = @referrer", new { referrer }) ?? "");
    }

    private string Participant(long id) => _factory.Services.GetRequiredService<TokenService>().IssueParticipant(id).Token;

    private string Admin(string role) => _adminTokens[role];

    private Task<HttpResponseMessage> GetAsync(string path, string? token) => SendAsync(HttpMethod.Get, path, token);

    private Task<HttpResponseMessage> PostAsync(string path, string? token) => SendAsync(HttpMethod.Post, path, token);

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return _client.SendAsync(request);
    }

    private async Task<HttpResponseMessage> PostJsonAsync(string path, string? token, object body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await _client.SendAsync(request);
    }

    [Fact]
    public async Task An_adjustment_is_for_the_admin_role_only_lands_in_the_ledger_and_a_retried_key_writes_once()
    {
        var (referrer, _) = await SeedRewardsAsync();
        var path = $"/api/v1/rewards/{referrer}/adjustments";
        var body = new { amountFen = -300, reason = "手工扣减：重复奖励" };
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostJsonAsync(path, null, body)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostJsonAsync(path, Admin("operator"), body)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostJsonAsync(path, Admin("viewer"), body)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostJsonAsync(path, Participant(referrer), new { amountFen = 100000, reason = "me" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostJsonAsync(path, Admin("admin"), new { amountFen = 0, reason = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostJsonAsync(path, Admin("admin"), new { amountFen = 5, reason = "" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PostJsonAsync("/api/v1/rewards/999999/adjustments", Admin("admin"), body)).StatusCode);
        Assert.Equal(2500, await _kit.ScalarAsync<long>("SELECT available_fen FROM user_balances WHERE user_id = @referrer", new { referrer }));

        var created = await PostJsonAsync(path, Admin("admin"), body, "k-1");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var answer = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("adjustment", answer.GetProperty("entry").GetProperty("kind").GetString());
        Assert.Equal(-300, answer.GetProperty("entry").GetProperty("availableDeltaFen").GetInt64());
        Assert.Equal(2200, answer.GetProperty("balance").GetProperty("availableFen").GetInt64());
        var again = await PostJsonAsync(path, Admin("admin"), body, "k-1");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(2200, await _kit.ScalarAsync<long>("SELECT available_fen FROM user_balances WHERE user_id = @referrer", new { referrer }));

        var ledger = await (await GetAsync($"/api/v1/rewards/{referrer}/ledger", Admin("viewer"))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, ledger.GetProperty("total").GetInt64());
        Assert.Equal("手工扣减：重复奖励", ledger.GetProperty("items")[0].GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync($"/api/v1/rewards/{referrer}/ledger", Participant(referrer))).StatusCode);
        var records = await (await GetAsync($"/api/v1/rewards/records?userId={referrer}&status=available", Admin("viewer"))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, records.GetProperty("total").GetInt64());
        Assert.Equal(HttpStatusCode.BadRequest, (await GetAsync("/api/v1/rewards/records?status=bogus", Admin("viewer"))).StatusCode);
    }
}
