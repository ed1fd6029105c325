using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Dmh.IntegrationTests.Sms;

/// <summary>Against SMS pumping: budgets per phone prefix and in all, in the real Redis on a fake clock.</summary>
public sealed class SmsSendBudgetTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private async Task<T> WithClientAsync<T>(Dictionary<string, string?> settings, Func<HttpClient, Task<T>> test)
    {
        settings["RateLimits:PublicPermitLimit"] = "100000";
        await using var factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), settings);
        await using var app = factory.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<TimeProvider>(_time)));
        using var client = app.CreateClient();
        return await test(client);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string phone) =>
        client.PostAsJsonAsync("/api/v1/auth/sms/send", new { campaignId = 1, phone });

    private static async Task<TimeSpan> AssertTooManyAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.EndsWith("/too-many-requests", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        return response.Headers.RetryAfter?.Delta ?? throw new Xunit.Sdk.XunitException("Retry-After is missing");
    }

    [Fact]
    public Task Codes_for_one_phone_prefix_stop_at_its_budget_while_other_prefixes_still_get_codes() =>
        WithClientAsync(new() { ["RateLimits:SmsPerPrefixPermitLimit"] = "3", ["RateLimits:SmsPrefixWindowSeconds"] = "3600" }, async client =>
        {
            foreach (var phone in new[] { "13800130001", "13800130002", "13800130003" })
            {
                Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(client, phone)).StatusCode);
            }

            var retry = await AssertTooManyAsync(await SendAsync(client, "13800130004"));
            Assert.InRange(retry, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
            Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(client, "13800140001")).StatusCode);

            _time.Advance(TimeSpan.FromHours(1));
            Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(client, "13800130004")).StatusCode);
            return 0;
        });

    [Fact]
    public Task Codes_stop_at_the_global_budget_per_minute_until_the_next_minute() =>
        WithClientAsync(new() { ["RateLimits:SmsGlobalPermitLimit"] = "3", ["RateLimits:SmsGlobalWindowSeconds"] = "60" }, async client =>
        {
            foreach (var phone in new[] { "13500000001", "13600000001", "13700000001" })
            {
                Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(client, phone)).StatusCode);
            }

            var retry = await AssertTooManyAsync(await SendAsync(client, "13900000001"));
            Assert.InRange(retry, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));

            _time.Advance(TimeSpan.FromSeconds(60));
            Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(client, "13900000001")).StatusCode);
            return 0;
        });

    [Fact]
    public Task A_code_the_phone_limit_refuses_uses_no_budget() =>
        WithClientAsync(new() { ["RateLimits:SmsGlobalPermitLimit"] = "2" }, async client =>
        {
            Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(client, "13800138000")).StatusCode);
            for (var i = 0; i < 3; i++)
            {
                await AssertTooManyAsync(await SendAsync(client, "13800138000"));
            }

            Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(client, "13900139000")).StatusCode);
            return 0;
        });
}
