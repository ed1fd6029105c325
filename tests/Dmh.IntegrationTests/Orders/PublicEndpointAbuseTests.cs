using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Dmh.IntegrationTests.Infrastructure;

namespace Dmh.IntegrationTests.Orders;

/// <summary>Malformed input on every public endpoint, rate limits and body size limits.</summary>
public sealed class PublicEndpointAbuseTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private ServiceFactory<Dmh.Ingress.EntryPoint> Factory(int permitLimit) => new(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
    {
        ["Admin:BcryptWorkFactor"] = "4",
        ["Admin:MaxFailuresPerIp"] = "1000000",
        ["Admin:FailuresBeforeBackoff"] = "1000000",
        ["RateLimits:PublicPermitLimit"] = permitLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    private async Task<(long Orders, long Participants, long Payments)> CountsAsync()
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM orders"),
            await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM participants"),
            await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM payments"));
    }

    [Fact]
    public async Task A_thousand_malformed_bodies_per_public_endpoint_get_no_server_error_and_change_nothing()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        await using var factory = Factory(10_000_000);
        using var client = factory.CreateClient();
        var before = await CountsAsync();
        var random = new Random(20261125);
        var bodies = Enumerable.Range(0, 1000).Select(_ => Fuzz.Body(random, campaignId)).ToList();
        var oddIds = new[] { "0", "-1", "abc", "99999999999999999999", "1.5", "%20", "1%3BDROP", "..%2F..", new string('9', 300), campaignId + "0", "1e3" };
        var failures = new List<string>();

        string[] paths =
        [
            "/api/v1/orders", "/api/v1/orders/1/pay", "/api/v1/orders/payment/callback", "/api/v1/orders/payment/notify",
            "/api/v1/qrcode/generate", "/api/v1/auth/admin/login", "/api/v1/auth/sms/send", "/api/v1/auth/sms/login", "/api/v1/auth/wechat",
        ];
        foreach (var path in paths)
        {
            await Parallel.ForEachAsync(bodies, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (body, ct) =>
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
                request.Headers.TryAddWithoutValidation("X-Order-Token", "1.forged");
                using var response = await client.SendAsync(request, ct);
                if ((int)response.StatusCode >= 500)
                {
                    lock (failures)
                    {
                        failures.Add($"{path} {(int)response.StatusCode} {Encoding.UTF8.GetString(body)[..Math.Min(200, body.Length)]}");
                    }
                }
            });
        }

        for (var i = 0; i < 1000; i++)
        {
            var id = i < oddIds.Length ? oddIds[i] : random.Next(-1000, 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            using var response = await client.GetAsync($"/api/v1/campaigns/{id}/form");
            if ((int)response.StatusCode >= 500)
            {
                failures.Add($"form {id} {(int)response.StatusCode}");
            }
        }

        Assert.Empty(failures);
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task Public_endpoints_over_the_limit_answer_429_problem_with_retry_after_but_the_notify_is_not_limited()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        await using var factory = Factory(3);
        using var client = factory.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            // Distinct phones: a repeat of one phone without proof would answer 409 registration-exists (issue 15).
            var ok = await client.PostAsJsonAsync("/api/v1/orders", new { campaignId, phone = "1380013800" + i, formData = new { name = "张三" } });
            Assert.True(ok.IsSuccessStatusCode, ok.StatusCode.ToString());
        }

        var limited = await client.PostAsJsonAsync("/api/v1/orders", new { campaignId, phone = "13800138000", formData = new { name = "张三" } });
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.EndsWith("/too-many-requests", (await limited.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.GetAsync($"/api/v1/campaigns/{campaignId}/form")).StatusCode);

        for (var i = 0; i < 5; i++)
        {
            using var notify = await client.PostAsync("/api/v1/orders/payment/notify", new StringContent("{}", Encoding.UTF8, "application/json"));
            Assert.NotEqual(HttpStatusCode.TooManyRequests, notify.StatusCode);
        }
    }

    [Fact]
    public async Task Issuing_WeChat_sign_in_states_is_limited_per_client_ip()
    {
        await using var factory = Factory(3);
        using var client = factory.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/auth/wechat/state")).StatusCode);
        }

        var limited = await client.GetAsync("/api/v1/auth/wechat/state");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);
    }

    [Fact]
    public async Task Guessing_referral_codes_for_the_inviter_name_is_limited_per_client_ip()
    {
        // The name behind a code is masked, but codes must not be enumerable at full speed.
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        await using var factory = Factory(3);
        using var client = factory.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            Assert.NotEqual(HttpStatusCode.TooManyRequests, (await client.GetAsync($"/api/v1/campaigns/{campaignId}/referrer/GUESS{i}")).StatusCode);
        }

        var limited = await client.GetAsync($"/api/v1/campaigns/{campaignId}/referrer/GUESS9");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
    }

    [Fact]
    public async Task Json_body_over_64_KiB_answers_413_problem()
    {
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        await using var factory = Factory(1000);
        using var client = factory.CreateClient();
        var huge = await client.PostAsJsonAsync("/api/v1/orders", new { campaignId, phone = "13800138000", formData = new { name = new string('x', 70_000) } });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        Assert.Equal("application/problem+json", huge.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0L, (await CountsAsync()).Orders);
    }
}

/// <summary>Random and malformed request bodies; none of them is a valid registration.</summary>
internal static class Fuzz
{
    private static readonly string[] BadPhones = ["", "1", "12345678901", "+8613800138000", "1380013800a", "138 0013 8000", "１３８００１３８０００", "23800138000", "138001380001"];

    public static byte[] Body(Random random, long campaignId) => random.Next(10) switch
    {
        0 => [],
        1 => RandomBytes(random),
        2 => Encoding.UTF8.GetBytes(new string('[', random.Next(10, 5000))),
        3 => InvalidUtf8(random, campaignId),
        4 => Encoding.UTF8.GetBytes(Deep(random.Next(30, 200))),
        5 => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { campaignId, phone = BadPhones[random.Next(BadPhones.Length)], formData = new { name = new string('名', random.Next(1, 20_000)) } })),
        6 => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["campaignId"] = Pick<object?>(random, "1", -1, 0, long.MaxValue, 1.5, true, null, new[] { 1 }),
            ["phone"] = Pick<object?>(random, 13800138000L, null, new { x = 1 }, new[] { "13800138000" }, false),
            ["formData"] = Pick<object?>(random, "text", 5, new[] { 1, 2 }, null),
            ["orderId"] = Pick<object?>(random, "1", -5, 1.5, null, long.MinValue),
            ["username"] = Pick<object?>(random, 5, null, new string('u', 5000), ""),
            ["password"] = Pick<object?>(random, null, new { }, new string('p', 100_000)),
        })),
        7 => Encoding.UTF8.GetBytes(RandomJson(random, 0)),
        8 => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { campaignId, phone = "13800138000", formData = new { name = "张三" }, cId = new string('c', random.Next(65, 5000)) })),
        _ => Encoding.UTF8.GetBytes("{\"campaignId\":" + campaignId + ",\"phone\":\"13800138000\",\"formData\":{\"name\":\"x\"" + Truncation(random)),
    };

    private static T Pick<T>(Random random, params T[] values) => values[random.Next(values.Length)];

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(1, 3000)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] InvalidUtf8(Random random, long campaignId)
    {
        var prefix = Encoding.UTF8.GetBytes("{\"campaignId\":" + campaignId + ",\"phone\":\"138");
        var suffix = Encoding.UTF8.GetBytes("\",\"formData\":{\"name\":\"a\"},\"username\":\"\xff\",\"orderId\":1}");
        byte[][] bad = [[0xFF, 0xFE], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]];
        return [.. prefix, .. bad[random.Next(bad.Length)], .. suffix];
    }

    private static string Deep(int depth) =>
        "{\"campaignId\":1,\"phone\":\"1\",\"formData\":" + string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth) + "}";

    private static string Truncation(Random random) => random.Next(4) switch
    {
        0 => "",
        1 => ",",
        2 => "}}}}",
        _ => ",\"x\":",
    };

    private static string RandomJson(Random random, int depth)
    {
        switch (depth > 4 ? random.Next(4) : random.Next(7))
        {
            case 0: return random.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
            case 1: return JsonSerializer.Serialize(RandomString(random));
            case 2: return random.Next(2) == 0 ? "true" : "null";
            case 3: return "-1e400";
            case 4:
                return "[" + string.Join(',', Enumerable.Range(0, random.Next(5)).Select(_ => RandomJson(random, depth + 1))) + "]";
            default:
                var keys = new[] { "campaignId", "phone", "formData", "cId", "uId", "smsCode", "openid", "orderId", "username", "password", RandomString(random) };
                return "{" + string.Join(',', Enumerable.Range(0, random.Next(7)).Select(_ =>
                    JsonSerializer.Serialize(keys[random.Next(keys.Length)]) + ":" + RandomJson(random, depth + 1))) + "}";
        }
    }

    private static string RandomString(Random random)
    {
        var chars = new char[random.Next(0, 40)];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)random.Next(1, 0xD7FF);
        }

        return new string(chars);
    }
}
