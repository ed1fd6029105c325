using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.Ingress.Sms;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Dmh.IntegrationTests.Sms;

/// <summary>SMS codes against the real Redis on a fake clock: send, login, expiry, rate limits, attempts, dev outbox.</summary>
public sealed class SmsLoginTests : IAsyncLifetime
{
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
            ["Sms:DevOutbox"] = "true",
        });
        _app = _factory.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<TimeProvider>(_time)));
        _client = _app.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
    }

    private Task<HttpResponseMessage> SendAsync(string phone) =>
        _client.PostAsJsonAsync("/api/v1/auth/sms/send", new { campaignId = 1, phone });

    private Task<HttpResponseMessage> LoginAsync(string phone, string code) =>
        _client.PostAsJsonAsync("/api/v1/auth/sms/login", new { phone, code });

    private async Task<string> OutboxAsync(string phone)
    {
        var view = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/dev/sms/{phone}");
        return view.GetProperty("code").GetString()!;
    }

    private static string Wrong(string code) => ((int.Parse(code, System.Globalization.CultureInfo.InvariantCulture) + 1) % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Sent_code_signs_in_once_and_creates_the_participant()
    {
        const string phone = "13800138001";
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(phone)).StatusCode);
        var code = await OutboxAsync(phone);
        Assert.Matches("^[0-9]{6}$", code);

        var login = await LoginAsync(phone, code);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var body = await login.Content.ReadFromJsonAsync<JsonElement>();
        var participantId = body.GetProperty("participantId").GetInt64();
        Assert.False(string.IsNullOrEmpty(body.GetProperty("sessionToken").GetString()));
        Assert.True(body.GetProperty("expiresAt").GetDateTimeOffset() > _time.GetUtcNow().AddDays(6));
        await using (var connection = await _db.DataSource.OpenConnectionAsync())
        {
            Assert.Equal(phone, await connection.QuerySingleAsync<string>("SELECT phone FROM participants WHERE id = @participantId", new { participantId }));
        }

        var again = await LoginAsync(phone, code);
        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);

        // A later sign-in of the same phone finds the same participant.
        _time.Advance(TimeSpan.FromSeconds(61));
        await SendAsync(phone);
        var second = await (await LoginAsync(phone, await OutboxAsync(phone))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(participantId, second.GetProperty("participantId").GetInt64());
    }

    [Fact]
    public async Task Session_token_reads_the_participants_own_rewards()
    {
        const string phone = "13800138002";
        await SendAsync(phone);
        var body = await (await LoginAsync(phone, await OutboxAsync(phone))).Content.ReadFromJsonAsync<JsonElement>();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me/rewards");
        request.Headers.Authorization = new("Bearer", body.GetProperty("sessionToken").GetString());
        var rewards = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, rewards.StatusCode);
    }

    [Fact]
    public async Task Sends_are_limited_per_minute_and_per_hour()
    {
        const string phone = "13800138003";
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(phone)).StatusCode);
        _time.Advance(TimeSpan.FromSeconds(30));
        var early = await SendAsync(phone);
        Assert.Equal(HttpStatusCode.TooManyRequests, early.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(30), early.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", early.Content.Headers.ContentType?.MediaType);

        for (var i = 2; i <= 5; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(60));
            Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(phone)).StatusCode);
        }

        _time.Advance(TimeSpan.FromSeconds(60));
        var sixth = await SendAsync(phone);
        Assert.Equal(HttpStatusCode.TooManyRequests, sixth.StatusCode);
        // The first send (at 0 s) leaves the hour window at 3600 s; now is 30 + 5 × 60 = 330 s.
        Assert.Equal(TimeSpan.FromSeconds(3600 - 330), sixth.Headers.RetryAfter?.Delta);

        _time.Advance(TimeSpan.FromSeconds(3600 - 330));
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(phone)).StatusCode);

        // Another phone is not affected.
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync("13800138013")).StatusCode);
    }

    [Fact]
    public async Task Code_expires_after_five_minutes()
    {
        const string phone = "13800138004";
        await SendAsync(phone);
        var code = await OutboxAsync(phone);
        _time.Advance(TimeSpan.FromSeconds(300));
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(phone, code)).StatusCode);
    }

    [Fact]
    public async Task Code_still_works_just_before_expiry()
    {
        const string phone = "13800138005";
        await SendAsync(phone);
        var code = await OutboxAsync(phone);
        _time.Advance(TimeSpan.FromSeconds(299));
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(phone, code)).StatusCode);
    }

    [Fact]
    public async Task Code_is_burnt_after_five_wrong_attempts()
    {
        const string phone = "13800138006";
        await SendAsync(phone);
        var code = await OutboxAsync(phone);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(phone, Wrong(code))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(phone, code)).StatusCode);
    }

    [Fact]
    public async Task Four_wrong_attempts_leave_the_code_usable()
    {
        var codes = _app.Services.GetRequiredService<SmsCodes>();
        const string phone = "13800138007";
        await codes.SendAsync(phone);
        var code = await OutboxAsync(phone);
        for (var i = 0; i < 4; i++)
        {
            Assert.False(await codes.VerifyAsync(phone, Wrong(code)));
        }

        Assert.True(await codes.VerifyAsync(phone, code));
        Assert.False(await codes.VerifyAsync(phone, code));
    }

    [Fact]
    public async Task New_code_replaces_the_previous_one()
    {
        const string phone = "13800138008";
        await SendAsync(phone);
        var first = await OutboxAsync(phone);
        _time.Advance(TimeSpan.FromSeconds(60));
        await SendAsync(phone);
        var second = await OutboxAsync(phone);
        if (first != second)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(phone, first)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(phone, second)).StatusCode);
    }

    [Theory]
    [InlineData("12345", "123456", "phone")]
    [InlineData("13800138000", "12345", "code")]
    [InlineData("13800138000", "abcdef", "code")]
    [InlineData(null, null, "phone")]
    public async Task Malformed_login_is_422_with_field_errors(string? phone, string? code, string field)
    {
        var response = await _client.PostAsJsonAsync("/api/v1/auth/sms/login", new { phone, code });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Theory]
    [InlineData("1380013800")]
    [InlineData("23800138000")]
    [InlineData("")]
    public async Task Send_to_a_bad_phone_is_422(string phone)
    {
        var response = await SendAsync(phone);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Login_without_a_sent_code_is_401()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync("13800138009", "123456")).StatusCode);
    }

    [Fact]
    public async Task Dev_outbox_is_not_mapped_unless_enabled()
    {
        await using var plain = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix());
        using var client = plain.CreateClient();
        Assert.IsType<LogSmsSender>(plain.Services.GetRequiredService<ISmsSender>());
        var sent = await client.PostAsJsonAsync("/api/v1/auth/sms/send", new { phone = "13800138010" });
        Assert.Equal(HttpStatusCode.NoContent, sent.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/dev/sms/13800138010")).StatusCode);
    }
}
