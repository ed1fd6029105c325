using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dmh.Ingress.Http;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.IntegrationTests.Orders;
using Microsoft.Extensions.DependencyInjection;

namespace Dmh.IntegrationTests.Foundation;

/// <summary>
/// docs/API.md: every error is an RFC 7807 problem with a DMH <c>type</c>, whether a handler or the
/// framework (authorization, routing, binding, body limits, rate limits) answers it.
/// </summary>
public sealed class ProblemAnswerTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private sealed record Case(string Name, int Status, HttpMethod Method, string Path, HttpContent? Body = null, string? Bearer = null, string? OrderToken = null);

    private static JsonContent Json(object body) => JsonContent.Create(body);

    [Fact]
    public async Task Error_answers_of_every_feature_are_problems_with_a_DMH_type()
    {
        await using var factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Admin:BcryptWorkFactor"] = "4",
        });
        using var client = factory.CreateClient();
        var admin = await AdminLogin.TokenAsync(factory.Services, AdminRoles.Admin);
        var viewer = await AdminLogin.TokenAsync(factory.Services, AdminRoles.Viewer);
        var participant = factory.Services.GetRequiredService<TokenService>().IssueParticipant(424242).Token;

        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        var created = await client.PostAsJsonAsync("/api/v1/orders", new { campaignId, phone = "13800138000", formData = new { name = "张三" } });
        Assert.True(created.IsSuccessStatusCode, created.StatusCode.ToString());
        var order = await created.Content.ReadFromJsonAsync<JsonElement>();
        var orderId = order.GetProperty("id").GetInt64();
        var orderToken = order.GetProperty("accessToken").GetString();

        Case[] cases =
        [
            // Admins
            new("sign-in without fields", 400, HttpMethod.Post, "/api/v1/auth/admin/login", Json(new { })),
            new("sign-in as text/plain", 415, HttpMethod.Post, "/api/v1/auth/admin/login", new StringContent("admin", Encoding.UTF8, "text/plain")),
            new("me without a token", 401, HttpMethod.Get, "/api/v1/auth/admin/me"),
            new("accounts as a viewer", 403, HttpMethod.Get, "/api/v1/admin-users", Bearer: viewer),
            new("a taken username", 409, HttpMethod.Post, "/api/v1/admin-users", Json(new { username = "test-admin", password = "long-enough-1", role = "viewer" }), admin),
            // Campaigns
            new("campaign page not a number", 400, HttpMethod.Get, "/api/v1/campaigns?page=abc", Bearer: admin),
            new("unknown campaign", 404, HttpMethod.Get, "/api/v1/campaigns/99999999", Bearer: admin),
            new("reward above the price", 422, HttpMethod.Post, "/api/v1/campaigns",
                Json(new { name = "x", priceFen = 100, reward = new { type = "fixed", amountFen = 1000 } }), admin),
            // Orders
            new("registration not JSON", 400, HttpMethod.Post, "/api/v1/orders", new StringContent("{not json", Encoding.UTF8, "application/json")),
            new("registration with a bad phone", 422, HttpMethod.Post, "/api/v1/orders", Json(new { campaignId, phone = "123", formData = new { name = "张三" } })),
            new("repeat registration without proof", 409, HttpMethod.Post, "/api/v1/orders", Json(new { campaignId, phone = "13800138000", formData = new { name = "张三" } })),
            new("registration over 64 KiB", 413, HttpMethod.Post, "/api/v1/orders", Json(new { campaignId, phone = "13800138001", formData = new { name = new string('x', 70_000) } })),
            new("order without a token", 401, HttpMethod.Get, $"/api/v1/orders/{orderId}"),
            new("order list filter", 400, HttpMethod.Get, "/api/v1/orders?status=nope", Bearer: admin),
            new("order list as nobody", 401, HttpMethod.Get, "/api/v1/orders"),
            new("order export as nobody", 401, HttpMethod.Get, "/api/v1/orders/export.csv"),
            new("order export with an order token", 401, HttpMethod.Get, "/api/v1/orders/export.csv", OrderToken: orderToken),
            new("orders with DELETE", 405, HttpMethod.Delete, "/api/v1/orders"),
            new("unknown order detail", 404, HttpMethod.Get, "/api/v1/orders/99999999/detail", Bearer: admin),
            // Payments
            new("pay without a token", 401, HttpMethod.Post, $"/api/v1/orders/{orderId}/pay", Json(new { channel = "h5" })),
            new("pay on an unknown channel", 400, HttpMethod.Post, $"/api/v1/orders/{orderId}/pay", Json(new { channel = "card" }), OrderToken: orderToken),
            new("refund of an unpaid order", 409, HttpMethod.Post, $"/api/v1/orders/{orderId}/refund", Json(new { }), admin),
            new("pay with the token of another order", 401, HttpMethod.Post, $"/api/v1/orders/{orderId + 1}/pay", Json(new { channel = "h5" }), OrderToken: orderToken),
            new("callback without orderId", 400, HttpMethod.Post, "/api/v1/orders/payment/callback", Json(new { })),
            new("callback without a token", 401, HttpMethod.Post, "/api/v1/orders/payment/callback", Json(new { orderId })),
            new("callback with the token of another order", 401, HttpMethod.Post, "/api/v1/orders/payment/callback", Json(new { orderId = orderId + 1 }), OrderToken: orderToken),
            // Posters
            new("poster without a token", 401, HttpMethod.Post, "/api/v1/qrcode/generate", Json(new { orderId })),
            new("poster of an unpaid order", 409, HttpMethod.Post, "/api/v1/qrcode/generate", Json(new { orderId }), OrderToken: orderToken),
            // WeChat sign-in, SMS
            new("WeChat sign-in without a code", 400, HttpMethod.Post, "/api/v1/auth/wechat", Json(new { })),
            new("SMS to a bad phone", 422, HttpMethod.Post, "/api/v1/auth/sms/send", Json(new { phone = "12" })),
            new("SMS sign-in with a wrong code", 401, HttpMethod.Post, "/api/v1/auth/sms/login", Json(new { phone = "13800138000", code = "000000" })),
            // Rewards
            new("someone else's balance", 403, HttpMethod.Get, "/api/v1/rewards/balance/1", Bearer: participant),
            new("referrers page 0", 400, HttpMethod.Get, "/api/v1/rewards?page=0", Bearer: admin),
            new("referrers by a partial phone", 400, HttpMethod.Get, "/api/v1/rewards?phone=138", Bearer: admin),
            new("my rewards without a participant row", 404, HttpMethod.Get, "/api/v1/me/rewards", Bearer: participant),
            // Dead letters, sync, stats, uploads
            new("dead letters page 0", 400, HttpMethod.Get, "/api/v1/dead-letters?page=0", Bearer: admin),
            new("replay of an unknown dead letter", 404, HttpMethod.Post, "/api/v1/dead-letters/99999999/replay", Bearer: admin),
            new("sync status of an unknown order", 404, HttpMethod.Get, "/api/v1/sync/status/99999999", Bearer: admin),
            new("sync failed page 0", 400, HttpMethod.Get, "/api/v1/sync/failed?page=0", Bearer: admin),
            new("sync retry as a viewer", 403, HttpMethod.Post, $"/api/v1/sync/retry/{orderId}", Bearer: viewer),
            new("stats with a bad date", 400, HttpMethod.Get, "/api/v1/stats/overview?from=yesterday", Bearer: admin),
            new("upload not multipart", 400, HttpMethod.Post, "/api/v1/uploads/covers", Json(new { }), admin),
            new("unknown upload", 404, HttpMethod.Get, "/uploads/covers/nothing.png"),
            // No endpoint at all
            new("unknown API path", 404, HttpMethod.Get, "/api/v1/no-such-thing"),
        ];

        var failures = new List<string>();
        foreach (var c in cases)
        {
            using var request = new HttpRequestMessage(c.Method, c.Path) { Content = c.Body };
            if (c.Bearer is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", c.Bearer);
            }

            if (c.OrderToken is not null)
            {
                request.Headers.Add(OrderAccessTokens.HeaderName, c.OrderToken);
            }

            using var response = await client.SendAsync(request);
            if (await ProblemFailureAsync(response, c.Status) is { } failure)
            {
                failures.Add($"{c.Name} ({c.Method} {c.Path}): {failure}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public async Task A_rate_limited_answer_is_a_problem_with_a_DMH_type()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        await using var factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["RateLimits:PublicPermitLimit"] = "1",
        });
        using var client = factory.CreateClient();
        Assert.True((await client.GetAsync($"/api/v1/campaigns/{campaignId}/form")).IsSuccessStatusCode);

        using var limited = await client.GetAsync($"/api/v1/campaigns/{campaignId}/form");
        Assert.Null(await ProblemFailureAsync(limited, 429));
    }

    [Fact]
    public async Task The_WeChat_notify_answers_in_WeChat_format_also_when_its_body_is_too_large()
    {
        await using var factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix());
        using var client = factory.CreateClient();
        var huge = Encoding.UTF8.GetBytes("{\"x\":\"" + new string('x', 70_000) + "\"}");

        using var withLength = new ByteArrayContent(huge);
        withLength.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        await AssertWechatFailAsync(await client.PostAsync("/api/v1/orders/payment/notify", withLength), 413);

        // No Content-Length to check up front: the reader stops at the limit.
        using var chunked = new StreamContent(new MemoryStream(huge));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var chunkedRequest = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders/payment/notify") { Content = chunked };
        chunkedRequest.Headers.TransferEncodingChunked = true;
        await AssertWechatFailAsync(await client.SendAsync(chunkedRequest), 413);

        using var unsigned = new StringContent("{}", Encoding.UTF8, "application/json");
        await AssertWechatFailAsync(await client.PostAsync("/api/v1/orders/payment/notify", unsigned), 401);
    }

    private static async Task AssertWechatFailAsync(HttpResponseMessage response, int status)
    {
        using (response)
        {
            Assert.Equal(status, (int)response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("FAIL", body.GetProperty("code").GetString());
            Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
        }
    }

    /// <summary>Null when the answer is a problem of this status with a DMH type, else what is wrong.</summary>
    private static async Task<string?> ProblemFailureAsync(HttpResponseMessage response, int status)
    {
        var body = await response.Content.ReadAsStringAsync();
        var shown = body.Length > 200 ? body[..200] : body;
        if ((int)response.StatusCode != status)
        {
            return $"status {(int)response.StatusCode}, expected {status}: {shown}";
        }

        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"content type {response.Content.Headers.ContentType}: {shown}";
        }

        var problem = JsonDocument.Parse(body).RootElement;
        var type = problem.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type is null || !type.StartsWith(Problems.TypeBase, StringComparison.Ordinal))
        {
            return $"type {type ?? "(none)"}: {shown}";
        }

        return problem.TryGetProperty("status", out var s) && s.GetInt32() == status ? null : $"status in the body is not {status}: {shown}";
    }
}
