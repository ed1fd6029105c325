using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.Platform.Wechat;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.WechatPay;

/// <summary>
/// JS-SDK share (issue 19): <c>wx.config</c> signatures from Ingress checked by the simulator's JS-SDK
/// stand-in, and the shared access_token / jsapi_ticket cache in the real Redis.
/// </summary>
public sealed class JsSdkShareTests(WechatPayFixture f) : IClassFixture<WechatPayFixture>, IAsyncLifetime
{
    private const string Site = "https://act.example.com";

    private sealed record Signed(string AppId, long Timestamp, string NonceStr, string Signature, string Url);

    private sealed record Calls(long Token, long Ticket);

    private readonly List<IAsyncDisposable> _hosts = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }
    }

    /// <summary>An Ingress process with its own Redis prefix (or a shared one), public at <see cref="Site"/>.</summary>
    private ServiceFactory<Dmh.Ingress.EntryPoint> NewIngress(string prefix)
    {
        var settings = new Dictionary<string, string?>(f.IngressSettings) { ["Public:BaseUrl"] = Site };
        var host = new ServiceFactory<Dmh.Ingress.EntryPoint>(f.Db, prefix, settings);
        _hosts.Add(host);
        return host;
    }

    private async Task<Calls> CallsAsync() => (await f.Sim.GetFromJsonAsync<Calls>("/sim/mp/calls"))!;

    private static async Task<Signed> SignAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync("/api/v1/h5/jssdk-config?url=" + Uri.EscapeDataString(url));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<Signed>())!;
    }

    /// <summary>What the simulator's wx.config says about a signature used on the page at <paramref name="pageUrl"/>.</summary>
    private async Task<string> ConfigAsync(Signed s, string pageUrl)
    {
        var answer = await f.Sim.PostAsJsonAsync("/sim/jssdk/config", new { s.AppId, s.Timestamp, s.NonceStr, s.Signature, url = pageUrl });
        return (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errMsg").GetString()!;
    }

    [Fact]
    public async Task Signature_covers_the_page_url_with_its_query_and_without_its_hash()
    {
        using var client = NewIngress(TestKeys.NewRedisPrefix()).CreateClient();
        // What WeChat opens after a share: its own parameters added to the query, the app's route in the hash.
        var page = Site + "/h5/?from=singlemessage&isappinstalled=0#/pages/campaign/index?id=7&u_id=AbC123xyz_";
        var signed = await SignAsync(client, page);

        Assert.Equal(Site + "/h5/?from=singlemessage&isappinstalled=0", signed.Url);
        Assert.Matches("^[0-9a-f]{40}$", signed.Signature);
        Assert.Equal(WechatPayTestKeys.AppId, signed.AppId);
        Assert.Equal("config:ok", await ConfigAsync(signed, page));
        Assert.Equal("config:ok", await ConfigAsync(signed, Site + "/h5/?from=singlemessage&isappinstalled=0#/pages/success/index"));
        // The query is part of what is signed: the same page with another query (or none) fails.
        Assert.Equal("config:invalid signature", await ConfigAsync(signed, Site + "/h5/#/pages/campaign/index?id=7"));
        Assert.Equal("config:invalid signature", await ConfigAsync(signed, Site + "/h5/?from=timeline&isappinstalled=0"));
    }

    [Theory]
    [InlineData("https://evil.example.com/h5/")]
    [InlineData("http://act.example.com/h5/")]
    [InlineData("https://act.example.com:8443/h5/")]
    [InlineData("https://user@act.example.com/h5/")]
    [InlineData("https://act.example.com.evil.example/h5/")]
    [InlineData("/h5/")]
    [InlineData("javascript:alert(1)//https://act.example.com/")]
    [InlineData("https://act.example.com/h5/ x")]
    [InlineData("")]
    public async Task Pages_outside_the_public_base_url_are_not_signed(string url)
    {
        using var client = NewIngress(TestKeys.NewRedisPrefix()).CreateClient();
        var before = await CallsAsync();
        var response = await client.GetAsync("/api/v1/h5/jssdk-config?url=" + Uri.EscapeDataString(url));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, await CallsAsync());
    }

    [Fact]
    public async Task Concurrent_first_requests_of_two_processes_fetch_the_token_and_the_ticket_once()
    {
        var prefix = TestKeys.NewRedisPrefix();
        using var one = NewIngress(prefix).CreateClient();
        using var two = NewIngress(prefix).CreateClient();
        var before = await CallsAsync();

        var signed = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => SignAsync(i % 2 == 0 ? one : two, $"{Site}/h5/?n={i}")));

        var after = await CallsAsync();
        Assert.Equal(1, after.Token - before.Token);
        Assert.Equal(1, after.Ticket - before.Ticket);
        foreach (var s in signed)
        {
            Assert.Equal("config:ok", await ConfigAsync(s, s.Url));
        }
    }

    [Fact]
    public async Task A_ticket_near_its_expiry_is_renewed_by_one_caller_while_the_old_one_still_serves()
    {
        var prefix = TestKeys.NewRedisPrefix();
        var host = NewIngress(prefix);
        using var client = host.CreateClient();
        var first = await SignAsync(client, Site + "/h5/");
        var db = f.Redis.GetDatabase();
        RedisKey ticketKey = prefix + "wechat:credential:" + WechatCredentials.JsapiTicketName;
        var oldTicket = (string)(await db.StringGetAsync(ticketKey))!;
        Assert.Equal("config:ok", await ConfigAsync(first, first.Url));
        // Less left than CredentialRefreshBefore (10 minutes) but still valid at WeChat.
        await db.KeyExpireAsync(ticketKey, TimeSpan.FromMinutes(2));
        var before = await CallsAsync();

        var credentials = host.Services.GetRequiredService<WechatCredentials>();
        var tickets = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => credentials.JsapiTicketAsync()));

        var after = await CallsAsync();
        Assert.Equal(1, after.Ticket - before.Ticket);
        Assert.Equal(0, after.Token - before.Token);
        var newTicket = (string)(await db.StringGetAsync(ticketKey))!;
        Assert.NotEqual(oldTicket, newTicket);
        Assert.All(tickets, t => Assert.Contains(t, new[] { oldTicket, newTicket }));
        Assert.True((await db.KeyTimeToLiveAsync(ticketKey)) > TimeSpan.FromHours(1));
    }

    [Fact]
    public async Task Jssdk_config_is_rate_limited_like_the_other_public_endpoints()
    {
        var settings = new Dictionary<string, string?>(f.IngressSettings) { ["Public:BaseUrl"] = Site, ["RateLimits:PublicPermitLimit"] = "3" };
        var host = new ServiceFactory<Dmh.Ingress.EntryPoint>(f.Db, TestKeys.NewRedisPrefix(), settings);
        _hosts.Add(host);
        using var client = host.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await client.GetAsync("/api/v1/h5/jssdk-config?url=" + Uri.EscapeDataString(Site + "/h5/"))).StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }
}
