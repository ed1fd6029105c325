using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.Ingress.Orders;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Dmh.IntegrationTests.Orders;

/// <summary>
/// Issue 15 (H1, H2, M12) as attacks over HTTP against real MariaDB/Redis: a repeat registration must
/// prove it is the registrant; an openid comes only from a WeChat session; a reopened order takes the current price.
/// </summary>
public sealed class RegistrationProofTests : IAsyncLifetime
{
    private const string Victim = "13800138000";
    private const string SmsCode = "246810";

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _factory = null!;
    private WebApplicationFactory<Dmh.Ingress.EntryPoint> _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["RateLimits:PublicPermitLimit"] = "100000",
        });
        _app = _factory.WithWebHostBuilder(b => b.ConfigureServices(s =>
        {
            s.AddSingleton<ISmsCodeVerifier>(new FixedSmsCode(SmsCode));
            s.AddSingleton<TimeProvider>(_time);
        }));
        _client = _app.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
    }

    private static object Body(long campaignId, string name, string phone = Victim, string? smsCode = null, string? openid = null) =>
        new { campaignId, phone, formData = new { name }, smsCode, openid };

    private Task<HttpResponseMessage> PostAsync(object body, string? orderToken = null, string? session = null) =>
        OrderApiTests.PostOrderAsync(_client, body, orderToken, session);

    private async Task<(long Id, string Token)> RegisterAsync(long campaignId, string name, string phone = Victim, string? session = null)
    {
        var response = await PostAsync(Body(campaignId, name, phone), session: session);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var view = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (view.GetProperty("id").GetInt64(), view.GetProperty("accessToken").GetString()!);
    }

    private async Task<HttpStatusCode> ReadWithTokenAsync(long id, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/orders/{id}");
        request.Headers.Add(OrderAccessTokens.HeaderName, token);
        return (await _client.SendAsync(request)).StatusCode;
    }

    private async Task<T?> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<T>(sql, args);
    }

    private string WechatSession(string openid, long? participantId = null) =>
        _app.Services.GetRequiredService<TokenService>().IssueWechatSession(openid, participantId).Token;

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string slug)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("/" + slug, JsonDocument.Parse(text).RootElement.GetProperty("type").GetString());
        Assert.DoesNotContain("accessToken", text, StringComparison.Ordinal);
        Assert.False(response.Headers.Contains(OrderAccessTokens.HeaderName));
    }

    [Fact]
    public async Task Repeat_registration_without_proof_changes_nothing_and_gets_no_token()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        var (id, victimToken) = await RegisterAsync(campaignId, "张三");
        var before = await ScalarAsync<string>("SELECT CAST(form_data AS CHAR) FROM orders WHERE id = @id", new { id });

        // The attacker knows the phone only.
        var attack = await PostAsync(Body(campaignId, "攻击者"));
        await AssertProblemAsync(attack, HttpStatusCode.Conflict, "registration-exists");
        Assert.Contains("短信验证码", (await attack.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());

        // …nor with a forged or foreign token, a WeChat session of someone else, or a closed order.
        var other = await RegisterAsync(campaignId, "路人", "13900139000");
        await AssertProblemAsync(await PostAsync(Body(campaignId, "攻击者"), orderToken: other.Token), HttpStatusCode.Conflict, "registration-exists");
        await AssertProblemAsync(await PostAsync(Body(campaignId, "攻击者"), orderToken: id + ".1.9999999999.forged"), HttpStatusCode.Conflict, "registration-exists");
        await AssertProblemAsync(await PostAsync(Body(campaignId, "攻击者"), session: WechatSession("oAttacker")), HttpStatusCode.Conflict, "registration-exists");
        await using (var connection = await _db.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("UPDATE orders SET status = 'closed' WHERE id = @id", new { id });
        }

        await AssertProblemAsync(await PostAsync(Body(campaignId, "攻击者")), HttpStatusCode.Conflict, "registration-exists");

        Assert.Equal(before, await ScalarAsync<string>("SELECT CAST(form_data AS CHAR) FROM orders WHERE id = @id", new { id }));
        Assert.Equal("closed", await ScalarAsync<string>("SELECT status FROM orders WHERE id = @id", new { id }));
        Assert.Equal(1, await ScalarAsync<int>("SELECT token_version FROM orders WHERE id = @id", new { id }));
        Assert.Equal(HttpStatusCode.OK, await ReadWithTokenAsync(id, victimToken));
    }

    [Fact]
    public async Task Repeat_registration_with_the_order_token_updates_the_form_and_the_token_stays_valid()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        var (id, token) = await RegisterAsync(campaignId, "张三");

        var again = await PostAsync(Body(campaignId, "张三丰"), orderToken: token);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var view = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(id, view.GetProperty("id").GetInt64());
        Assert.Contains("张三丰", await ScalarAsync<string>("SELECT CAST(form_data AS CHAR) FROM orders WHERE id = @id", new { id }));
        Assert.Equal(HttpStatusCode.OK, await ReadWithTokenAsync(id, token));
        Assert.Equal(HttpStatusCode.OK, await ReadWithTokenAsync(id, view.GetProperty("accessToken").GetString()!));
    }

    [Fact]
    public async Task Repeat_registration_proven_by_sms_takes_the_order_over_and_revokes_earlier_tokens()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        // Someone registered the victim's phone first and holds that order's token.
        var (id, squatterToken) = await RegisterAsync(campaignId, "冒名者");

        var wrong = await PostAsync(Body(campaignId, "本人", smsCode: "000000"));
        await AssertProblemAsync(wrong, HttpStatusCode.UnprocessableEntity, "validation-failed");
        Assert.Contains("冒名者", await ScalarAsync<string>("SELECT CAST(form_data AS CHAR) FROM orders WHERE id = @id", new { id }));

        var proven = await PostAsync(Body(campaignId, "本人", smsCode: SmsCode));
        Assert.Equal(HttpStatusCode.OK, proven.StatusCode);
        var token = (await proven.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
        Assert.Contains("本人", await ScalarAsync<string>("SELECT CAST(form_data AS CHAR) FROM orders WHERE id = @id", new { id }));
        Assert.Equal(2, await ScalarAsync<int>("SELECT token_version FROM orders WHERE id = @id", new { id }));
        Assert.Equal(HttpStatusCode.OK, await ReadWithTokenAsync(id, token));
        Assert.Equal(HttpStatusCode.Forbidden, await ReadWithTokenAsync(id, squatterToken));
        await AssertProblemAsync(await PostAsync(Body(campaignId, "冒名者"), orderToken: squatterToken), HttpStatusCode.Conflict, "registration-exists");
    }

    [Fact]
    public async Task Repeat_registration_proven_by_a_session_of_the_participant()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        var (id, _) = await RegisterAsync(campaignId, "张三", session: WechatSession("oVictim"));
        Assert.Equal("oVictim", await ScalarAsync<string>("SELECT openid FROM participants WHERE phone = @Victim", new { Victim }));
        var participantId = await ScalarAsync<long>("SELECT id FROM participants WHERE phone = @Victim", new { Victim });

        var wechat = await PostAsync(Body(campaignId, "张三 (微信)"), session: WechatSession("oVictim"));
        Assert.Equal(HttpStatusCode.OK, wechat.StatusCode);
        var sms = _app.Services.GetRequiredService<TokenService>().IssueParticipant(participantId).Token;
        var signedIn = await PostAsync(Body(campaignId, "张三 (短信登录)"), session: sms);
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        Assert.Contains("短信登录", await ScalarAsync<string>("SELECT CAST(form_data AS CHAR) FROM orders WHERE id = @id", new { id }));
        Assert.Equal(3, await ScalarAsync<int>("SELECT token_version FROM orders WHERE id = @id", new { id }));
    }

    [Fact]
    public async Task A_paid_order_answers_already_registered_whatever_the_proof()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        var (id, token) = await RegisterAsync(campaignId, "张三");
        await using (var connection = await _db.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("UPDATE orders SET status = 'paid', pay_status = 'paid', registration_code = 'RC1' WHERE id = @id", new { id });
        }

        await AssertProblemAsync(await PostAsync(Body(campaignId, "李四")), HttpStatusCode.Conflict, "already-registered");
        await AssertProblemAsync(await PostAsync(Body(campaignId, "李四"), orderToken: token), HttpStatusCode.Conflict, "already-registered");
        Assert.Contains("张三", await ScalarAsync<string>("SELECT CAST(form_data AS CHAR) FROM orders WHERE id = @id", new { id }));
    }

    [Fact]
    public async Task Order_token_expires_30_days_after_the_campaign_ends()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db, endDays: 5);
        var (id, token) = await RegisterAsync(campaignId, "张三");
        var end = await ScalarAsync<DateTime>("SELECT end_time FROM campaigns WHERE id = @campaignId", new { campaignId });

        _time.SetUtcNow(new DateTimeOffset(DateTime.SpecifyKind(end, DateTimeKind.Utc)).AddDays(30).AddMinutes(-1));
        Assert.Equal(HttpStatusCode.OK, await ReadWithTokenAsync(id, token));
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.Forbidden, await ReadWithTokenAsync(id, token));
    }

    [Fact]
    public async Task Openid_in_the_body_is_ignored()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        var response = await PostAsync(Body(campaignId, "张三", openid: "oAttacker"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Null(await ScalarAsync<string>("SELECT openid FROM participants WHERE phone = @Victim", new { Victim }));
        Assert.Equal(0, await ScalarAsync<int>("SELECT COUNT(*) FROM participants WHERE openid = 'oAttacker'"));
    }

    [Fact]
    public async Task Session_openid_binds_a_new_participant_but_an_existing_one_only_with_an_sms_code()
    {
        var first = await OrderApiTests.SeedCampaignAsync(_db);
        var second = await OrderApiTests.SeedCampaignAsync(_db);
        var third = await OrderApiTests.SeedCampaignAsync(_db);
        // The victim registered once without WeChat.
        await RegisterAsync(first, "张三");

        // An attacker registers the victim's (existing) phone in another campaign from the attacker's WeChat.
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(Body(second, "攻击者"), session: WechatSession("oAttacker"))).StatusCode);
        Assert.Null(await ScalarAsync<string>("SELECT openid FROM participants WHERE phone = @Victim", new { Victim }));

        // The victim with an SMS code binds their own WeChat.
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(Body(third, "张三", smsCode: SmsCode), session: WechatSession("oVictim"))).StatusCode);
        Assert.Equal("oVictim", await ScalarAsync<string>("SELECT openid FROM participants WHERE phone = @Victim", new { Victim }));

        // A new phone gets the session's openid, but one already bound is never moved.
        await RegisterAsync(first, "王五", "13700137000", WechatSession("oNew"));
        Assert.Equal("oNew", await ScalarAsync<string>("SELECT openid FROM participants WHERE phone = '13700137000'"));
        await RegisterAsync(first, "赵六", "13600136000", WechatSession("oVictim"));
        Assert.Null(await ScalarAsync<string>("SELECT openid FROM participants WHERE phone = '13600136000'"));
        Assert.Equal("oVictim", await ScalarAsync<string>("SELECT openid FROM participants WHERE phone = @Victim", new { Victim }));
    }

    [Fact]
    public async Task A_reopened_closed_order_takes_the_campaign_s_current_price()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db, price: 99.00m);
        var (id, token) = await RegisterAsync(campaignId, "张三");
        await using (var connection = await _db.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("UPDATE orders SET status = 'closed' WHERE id = @id; UPDATE campaigns SET price = 129.00 WHERE id = @campaignId",
                new { id, campaignId });
        }

        // Edited in SQL, not through the API: drop the cached campaign as an edit through the API does.
        await _app.Services.GetRequiredService<Dmh.Ingress.Campaigns.CampaignCache>().InvalidateAsync(campaignId);

        var reopened = await PostAsync(Body(campaignId, "张三"), orderToken: token);
        Assert.Equal(HttpStatusCode.OK, reopened.StatusCode);
        var view = await reopened.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("pending", view.GetProperty("status").GetString());
        Assert.Equal(12900, view.GetProperty("amountFen").GetInt64());
        Assert.Equal(129.00m, await ScalarAsync<decimal>("SELECT amount FROM orders WHERE id = @id", new { id }));

        // A pending order keeps the price it was registered at (a payment attempt may be open).
        await using (var connection = await _db.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("UPDATE campaigns SET price = 150.00 WHERE id = @campaignId", new { campaignId });
        }

        await _app.Services.GetRequiredService<Dmh.Ingress.Campaigns.CampaignCache>().InvalidateAsync(campaignId);

        var pending = await PostAsync(Body(campaignId, "张三"), orderToken: token);
        Assert.Equal(12900, (await pending.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("amountFen").GetInt64());
    }

    private sealed class FixedSmsCode(string code) : ISmsCodeVerifier
    {
        public Task<bool> VerifyAsync(string phone, string candidate, CancellationToken ct) => Task.FromResult(candidate == code);
    }
}
