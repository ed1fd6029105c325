using System.Net;
using System.Net.Http.Json;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Dmh.IntegrationTests.Admins;

/// <summary>Admin sign-in throttling per (username, client IP) with exponential backoff, on a fake clock and the real Redis.</summary>
public sealed class LoginThrottleTests : IAsyncLifetime
{
    private const string ClientIpHeader = "X-Test-Client-IP";
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Failures_from_one_ip_do_not_block_the_right_password_from_another_ip()
    {
        await using var app = Create();
        using var client = app.CreateClient();
        for (var i = 0; i < 10; i++)
        {
            var status = (await LoginAsync(client, "10.0.0.1", "admin", "guess-" + i)).StatusCode;
            Assert.True(status is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests, status.ToString());
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await LoginAsync(client, "10.0.0.1", "admin", TestKeys.AdminPassword)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(client, "10.0.0.2", "admin", TestKeys.AdminPassword)).StatusCode);
    }

    [Fact]
    public async Task Backoff_doubles_with_each_further_failure_and_resets_after_a_success()
    {
        await using var app = Create(new()
        {
            ["Admin:FailuresBeforeBackoff"] = "3",
            ["Admin:BackoffBaseSeconds"] = "2",
            ["Admin:MaxBackoffSeconds"] = "60",
        });
        using var client = app.CreateClient();
        const string ip = "10.0.1.1";
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(client, ip, "admin", "guess")).StatusCode);
        }

        // The 3rd failure starts the backoff: 2 s, then 4, 8, 16, 32, then the 60 s cap.
        foreach (var seconds in new[] { 2, 4, 8, 16, 32, 60, 60 })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(client, ip, "admin", "guess")).StatusCode);
            var blocked = await LoginAsync(client, ip, "admin", TestKeys.AdminPassword);
            Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(seconds), blocked.Headers.RetryAfter?.Delta);

            _time.Advance(TimeSpan.FromSeconds(seconds) - TimeSpan.FromMilliseconds(1));
            Assert.Equal(HttpStatusCode.TooManyRequests, (await LoginAsync(client, ip, "admin", TestKeys.AdminPassword)).StatusCode);
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(client, ip, "admin", TestKeys.AdminPassword)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(client, ip, "admin", "guess")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(client, ip, "admin", TestKeys.AdminPassword)).StatusCode);
    }

    [Fact]
    public async Task A_concurrent_burst_of_wrong_passwords_counts_every_attempt()
    {
        await using var app = Create(new() { ["Admin:FailuresBeforeBackoff"] = "3", ["Admin:BackoffBaseSeconds"] = "30" });
        using var client = app.CreateClient();
        var statuses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => LoginAsync(client, "10.0.2.1", "admin", "burst-" + i)
            .ContinueWith(t => t.Result.StatusCode, TaskScheduler.Default)));

        // The clock stands still: exactly the free attempts reach the password check, the rest wait.
        Assert.Equal(3, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(17, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        var next = await LoginAsync(client, "10.0.2.1", "admin", TestKeys.AdminPassword);
        Assert.Equal(TimeSpan.FromSeconds(30), next.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task A_concurrent_burst_from_one_ip_across_usernames_stops_at_the_ip_limit()
    {
        await using var app = Create(new() { ["Admin:MaxFailuresPerIp"] = "4" });
        using var client = app.CreateClient();
        var statuses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => LoginAsync(client, "10.0.3.1", "user" + i, "whatever-pw")
            .ContinueWith(t => t.Result.StatusCode, TaskScheduler.Default)));

        Assert.Equal(4, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(8, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(client, "10.0.3.2", "admin", TestKeys.AdminPassword)).StatusCode);
    }

    [Fact]
    public async Task Successful_sign_ins_do_not_use_up_the_ip_limit()
    {
        await using var app = Create(new() { ["Admin:MaxFailuresPerIp"] = "3" });
        using var client = app.CreateClient();
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await LoginAsync(client, "10.0.4.1", "admin", TestKeys.AdminPassword)).StatusCode);
        }
    }

    private static Task<HttpResponseMessage> LoginAsync(HttpClient client, string ip, string username, string password)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/admin/login") { Content = JsonContent.Create(new { username, password }) };
        request.Headers.Add(ClientIpHeader, ip);
        return client.SendAsync(request);
    }

    private WebApplicationFactory<Dmh.Ingress.EntryPoint> Create(Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?> { ["Admin:BcryptWorkFactor"] = "4" };
        foreach (var (k, v) in extra ?? [])
        {
            settings[k] = v;
        }

        return new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), settings)
            .WithWebHostBuilder(b => b.ConfigureServices(s =>
            {
                s.AddSingleton<TimeProvider>(_time);
                s.AddTransient<IStartupFilter, ClientIpFromHeader>();
            }));
    }

    /// <summary>The in-memory test server has no client address; this gives each request the one its header names.</summary>
    private sealed class ClientIpFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (IPAddress.TryParse(context.Request.Headers[ClientIpHeader], out var ip))
                {
                    context.Connection.RemoteIpAddress = ip;
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
