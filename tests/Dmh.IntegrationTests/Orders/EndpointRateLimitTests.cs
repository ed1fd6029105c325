using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.WechatPay;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dmh.IntegrationTests.Orders;

/// <summary>
/// Per-IP and per-order limits of pay, the payment callback and WeChat sign-in (429 problem with
/// Retry-After), and the client address behind a reverse proxy (X-Forwarded-For from known proxies only).
/// </summary>
public sealed class EndpointRateLimitTests : IAsyncLifetime
{
    private readonly H5Provider _provider = new();
    private TestDatabase _db = null!;
    private long _campaignId;
    private int _phone;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _campaignId = await OrderApiTests.SeedCampaignAsync(_db);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private (ServiceFactory<Dmh.Ingress.EntryPoint> Factory, WebApplicationFactory<Dmh.Ingress.EntryPoint> App) Create(Dictionary<string, string?> settings)
    {
        settings["RateLimits:PublicPermitLimit"] = "100000";
        var factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), settings);
        return (factory, factory.WithTestConnection(s => s.AddSingleton<IPaymentProvider>(_provider)));
    }

    private async Task<(long Id, string Token)> RegisterAsync(HttpClient client)
    {
        var phone = "1370000" + Interlocked.Increment(ref _phone).ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders")
        {
            Content = JsonContent.Create(new { campaignId = _campaignId, phone, formData = new { name = "张三" } }),
        }.From("198.51.100.1");
        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var view = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (view.GetProperty("id").GetInt64(), view.GetProperty("accessToken").GetString()!);
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, object body, string peer, string? token = null, string? forwardedFor = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) }.From(peer);
        if (token is not null)
        {
            request.Headers.Add("X-Order-Token", token);
        }

        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        return await client.SendAsync(request);
    }

    private static Task<HttpResponseMessage> PayAsync(HttpClient client, long id, string? token, string peer, string? forwardedFor = null) =>
        PostAsync(client, $"/api/v1/orders/{id}/pay", new { channel = "h5" }, peer, token, forwardedFor);

    private static Task<HttpResponseMessage> CallbackAsync(HttpClient client, long id, string? token, string peer) =>
        PostAsync(client, "/api/v1/orders/payment/callback", new { orderId = id }, peer, token);

    private static async Task AssertTooManyAsync(HttpResponseMessage response, string detailPart)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "Retry-After is missing");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.EndsWith("/too-many-requests", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Contains(detailPart, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pay_over_its_per_ip_budget_answers_429_problem_while_other_addresses_still_pay()
    {
        var (factory, app) = Create(new() { ["RateLimits:PayPerIpPermitLimit"] = "3" });
        await using var _ = factory;
        await using var __ = app;
        using var client = app.CreateClient();
        var orders = new List<(long Id, string Token)>();
        for (var i = 0; i < 4; i++)
        {
            orders.Add(await RegisterAsync(client));
        }

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await PayAsync(client, orders[i].Id, orders[i].Token, "203.0.113.10")).StatusCode);
        }

        await AssertTooManyAsync(await PayAsync(client, orders[3].Id, orders[3].Token, "203.0.113.10"), "address");
        Assert.Equal(HttpStatusCode.OK, (await PayAsync(client, orders[3].Id, orders[3].Token, "203.0.113.11")).StatusCode);
    }

    [Fact]
    public async Task Pay_over_its_per_order_budget_answers_429_from_any_address_and_calls_without_the_token_do_not_count()
    {
        var (factory, app) = Create(new() { ["RateLimits:PayPerOrderPermitLimit"] = "2" });
        await using var _ = factory;
        await using var __ = app;
        using var client = app.CreateClient();
        var order = await RegisterAsync(client);
        var other = await RegisterAsync(client);

        // Someone guessing the order id cannot use up its budget.
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await PayAsync(client, order.Id, "1.forged", "192.0.2.66")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await PayAsync(client, order.Id, order.Token, "203.0.113.1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PayAsync(client, order.Id, order.Token, "203.0.113.2")).StatusCode);
        await AssertTooManyAsync(await PayAsync(client, order.Id, order.Token, "203.0.113.3"), "order");
        Assert.Equal(HttpStatusCode.OK, (await PayAsync(client, other.Id, other.Token, "203.0.113.3")).StatusCode);
    }

    [Fact]
    public async Task Payment_callback_is_limited_per_ip_and_per_order()
    {
        var (factory, app) = Create(new()
        {
            ["RateLimits:CallbackPerIpPermitLimit"] = "4",
            ["RateLimits:CallbackPerOrderPermitLimit"] = "2",
        });
        await using var _ = factory;
        await using var __ = app;
        using var client = app.CreateClient();
        var a = await RegisterAsync(client);
        var b = await RegisterAsync(client);
        var c = await RegisterAsync(client);

        Assert.Equal(HttpStatusCode.Unauthorized, (await CallbackAsync(client, a.Id, "1.forged", "192.0.2.66")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await CallbackAsync(client, a.Id, a.Token, "203.0.113.1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await CallbackAsync(client, a.Id, a.Token, "203.0.113.2")).StatusCode);
        await AssertTooManyAsync(await CallbackAsync(client, a.Id, a.Token, "203.0.113.3"), "order");

        Assert.Equal(HttpStatusCode.OK, (await CallbackAsync(client, b.Id, b.Token, "203.0.113.9")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await CallbackAsync(client, c.Id, c.Token, "203.0.113.9")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await CallbackAsync(client, b.Id, b.Token, "203.0.113.9")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await CallbackAsync(client, c.Id, c.Token, "203.0.113.9")).StatusCode);
        await AssertTooManyAsync(await CallbackAsync(client, b.Id, b.Token, "203.0.113.9"), "address");
    }

    [Fact]
    public async Task Wechat_sign_in_over_its_per_ip_budget_answers_429_but_the_payment_notify_is_never_limited()
    {
        var (factory, app) = Create(new()
        {
            ["RateLimits:WechatAuthPerIpPermitLimit"] = "2",
            ["RateLimits:PayPerIpPermitLimit"] = "1",
            ["RateLimits:CallbackPerIpPermitLimit"] = "1",
        });
        await using var _ = factory;
        await using var __ = app;
        using var client = app.CreateClient();
        for (var i = 0; i < 2; i++)
        {
            Assert.NotEqual(HttpStatusCode.TooManyRequests, (await PostAsync(client, "/api/v1/auth/wechat", new { code = "c" + i, state = "s" }, "203.0.113.5")).StatusCode);
        }

        await AssertTooManyAsync(await PostAsync(client, "/api/v1/auth/wechat", new { code = "c9", state = "s" }, "203.0.113.5"), "address");
        Assert.NotEqual(HttpStatusCode.TooManyRequests, (await PostAsync(client, "/api/v1/auth/wechat", new { code = "c9", state = "s" }, "203.0.113.6")).StatusCode);

        await PayAsync(client, 1, "1.forged", "203.0.113.5");
        await CallbackAsync(client, 1, "1.forged", "203.0.113.5");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await PayAsync(client, 1, "1.forged", "203.0.113.5")).StatusCode);
        for (var i = 0; i < 20; i++)
        {
            using var notify = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders/payment/notify")
            {
                Content = new StringContent("{}", Encoding.UTF8, "application/json"),
            }.From("203.0.113.5");
            using var response = await client.SendAsync(notify);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task Forwarded_for_from_a_peer_that_is_not_a_configured_proxy_is_ignored()
    {
        var (factory, app) = Create(new() { ["RateLimits:PayPerIpPermitLimit"] = "2" });
        await using var _ = factory;
        await using var __ = app;
        using var client = app.CreateClient();
        var order = await RegisterAsync(client);

        // Loopback too: ASP.NET Core would trust it by default.
        foreach (var peer in new[] { "203.0.113.7", "127.0.0.1" })
        {
            Assert.Equal(HttpStatusCode.OK, (await PayAsync(client, order.Id, order.Token, peer, forwardedFor: "198.51.100.1")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await PayAsync(client, order.Id, order.Token, peer, forwardedFor: "198.51.100.2")).StatusCode);
            Assert.Equal(HttpStatusCode.TooManyRequests, (await PayAsync(client, order.Id, order.Token, peer, forwardedFor: "198.51.100.3")).StatusCode);
        }

        Assert.Equal(["203.0.113.7", "203.0.113.7", "127.0.0.1", "127.0.0.1"], _provider.PayerIps.ToArray());
    }

    [Fact]
    public async Task Forwarded_for_from_a_configured_proxy_is_the_client_for_limits_and_payer_client_ip()
    {
        var (factory, app) = Create(new()
        {
            ["RateLimits:PayPerIpPermitLimit"] = "2",
            ["ForwardedHeaders:KnownProxies:0"] = "10.0.0.5",
            ["ForwardedHeaders:KnownNetworks:0"] = "172.16.0.0/12",
        });
        await using var _ = factory;
        await using var __ = app;
        using var client = app.CreateClient();
        var order = await RegisterAsync(client);

        // Through the proxy each client has its own budget; a client's own X-Forwarded-For in front is not believed.
        Assert.Equal(HttpStatusCode.OK, (await PayAsync(client, order.Id, order.Token, "10.0.0.5", forwardedFor: "198.51.100.1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PayAsync(client, order.Id, order.Token, "10.0.0.5", forwardedFor: "6.6.6.6, 198.51.100.1")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await PayAsync(client, order.Id, order.Token, "10.0.0.5", forwardedFor: "198.51.100.1")).StatusCode);
        // A chain of known proxies: 172.20.0.3 (a known network) forwarded to 10.0.0.5.
        Assert.Equal(HttpStatusCode.OK, (await PayAsync(client, order.Id, order.Token, "10.0.0.5", forwardedFor: "198.51.100.2, 172.20.0.3")).StatusCode);
        // Not from a proxy: the header is ignored and the peer is the client.
        Assert.Equal(HttpStatusCode.OK, (await PayAsync(client, order.Id, order.Token, "203.0.113.8", forwardedFor: "198.51.100.1")).StatusCode);

        Assert.Equal(["198.51.100.1", "198.51.100.1", "198.51.100.2", "203.0.113.8"], _provider.PayerIps.ToArray());
    }

    /// <summary>H5 prepay that records the payer_client_ip it is given.</summary>
    private sealed class H5Provider : IPaymentProvider
    {
        public ConcurrentQueue<string> PayerIps { get; } = new();

        public Task<JsapiPrepay> PrepayJsapiAsync(PrepayRequest request, string openid, CancellationToken ct) => throw new InvalidOperationException("not used");

        public Task<H5Prepay> PrepayH5Async(PrepayRequest request, string payerClientIp, CancellationToken ct)
        {
            PayerIps.Enqueue(payerClientIp);
            return Task.FromResult(new H5Prepay("https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=" + request.OutTradeNo));
        }

        public Task<TradeQueryResult> QueryAsync(string outTradeNo, CancellationToken ct) =>
            Task.FromResult(new TradeQueryResult(TradeQueryResult.NotPay, null, null, null, null, null, null));

        public Task CloseAsync(string outTradeNo, CancellationToken ct) => Task.CompletedTask;

        public Task<RefundResult> RefundAsync(RefundRequest request, CancellationToken ct) => throw new InvalidOperationException("not used");

        public Task<RefundQueryResult> QueryRefundAsync(string outRefundNo, CancellationToken ct) => throw new InvalidOperationException("not used");
    }
}
