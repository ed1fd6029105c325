using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dmh.Ingress.WechatAuth;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Dmh.IntegrationTests.WechatPay;

/// <summary>
/// The server-issued OAuth state (issue 15, M9) on a fake clock against the real Redis. A refused state
/// answers before any code exchange, so no WeChat (simulator) is needed here.
/// </summary>
public sealed class OAuthStateTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _factory = null!;
    private WebApplicationFactory<Dmh.Ingress.EntryPoint> _app = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix());
        _app = _factory.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<TimeProvider>(_time)));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
    }

    private static async Task<string> StateAsync(HttpClient browser) =>
        (await browser.GetFromJsonAsync<JsonElement>("/api/v1/auth/wechat/state")).GetProperty("state").GetString()!;

    private static async Task<string> RefusedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.EndsWith("/invalid-state", problem.GetProperty("type").GetString());
        return problem.GetProperty("detail").GetString()!;
    }

    [Fact]
    public async Task State_is_hex_within_wechat_s_limit_and_sets_an_http_only_cookie_for_the_sign_in_path()
    {
        using var browser = _app.CreateClient();
        var response = await browser.GetAsync("/api/v1/auth/wechat/state");
        var state = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString()!;
        Assert.Matches("^[0-9a-f]{1,128}$", state);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith(OAuthStates.CookieName + "=", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/api/v1/auth/wechat", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("no-store", response.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_state_is_refused()
    {
        using var browser = _app.CreateClient();
        var state = await StateAsync(browser);
        _time.Advance(OAuthStates.Lifetime + TimeSpan.FromSeconds(1));
        var detail = await RefusedAsync(await browser.PostAsJsonAsync("/api/v1/auth/wechat", new { code = "SIMcode", state }));
        Assert.Contains("too long", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_forged_missing_or_other_browser_s_state_is_refused()
    {
        using var browser = _app.CreateClient();
        var state = await StateAsync(browser);
        var forged = (state[0] == 'a' ? "b" : "a") + state[1..];
        await RefusedAsync(await browser.PostAsJsonAsync("/api/v1/auth/wechat", new { code = "SIMcode", state = forged }));
        await RefusedAsync(await browser.PostAsJsonAsync("/api/v1/auth/wechat", new { code = "SIMcode" }));
        await RefusedAsync(await browser.PostAsJsonAsync("/api/v1/auth/wechat", new { code = "SIMcode", state = "abc" }));

        using var other = _app.CreateClient();
        await StateAsync(other);
        await RefusedAsync(await other.PostAsJsonAsync("/api/v1/auth/wechat", new { code = "SIMcode", state }));
    }
}
