using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Dmh.Perf;

/// <summary>
/// <c>POST /api/v1/orders</c> on a live campaign it creates and publishes itself: unique phones, with
/// every tenth request repeating an earlier phone (the unpaid-order reuse path, answered 200).
/// Admin credentials from <c>DMH_ADMIN_USER</c>/<c>DMH_ADMIN_PASSWORD</c> (./dmh perf sets them).
/// </summary>
public sealed class OrdersScenario : IScenario
{
    // A run-specific phone block, so repeated runs against one database never collide with old orders.
    private readonly long _phoneBase = 13_000_000_000L + Random.Shared.NextInt64(0, 900_000_000L);
    private long _campaignId;

    public static string PhoneFor(long phoneBase, long index) =>
        (phoneBase + (index % 10 == 9 ? index - 9 : index)).ToString(CultureInfo.InvariantCulture);

    public async Task<Uri> SetUpAsync(RunOptions options, CancellationToken ct)
    {
        using var client = new HttpClient { BaseAddress = options.BaseUrl };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await SignInAsync(client, ct));
        var now = DateTimeOffset.UtcNow;
        var campaign = new
        {
            name = $"压测活动 {now:yyyyMMdd-HHmmss}",
            description = "负载测试自动创建",
            startTime = now.AddMinutes(-5),
            endTime = now.AddDays(1),
            priceFen = 9900,
            reward = new { type = "fixed", amountFen = 1000 },
            payment = new { description = "报名费" },
            requireSms = false,
            formSchema = JsonDocument.Parse("""
                {"type":"object","required":["name"],"properties":{
                  "name":{"type":"string","title":"姓名","x-widget":"text","x-order":1,"minLength":2,"maxLength":20},
                  "grade":{"type":"string","title":"年级","x-widget":"select","x-order":2,"enum":["一年级","二年级","三年级"]}}}
                """).RootElement,
        };
        var created = await client.PostAsJsonAsync("/api/v1/campaigns", campaign, ct);
        await EnsureAsync(created, "create the campaign", ct);
        _campaignId = (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetInt64();
        await EnsureAsync(await client.PostAsync($"/api/v1/campaigns/{_campaignId}/publish", null, ct), "publish the campaign", ct);
        return options.BaseUrl;
    }

    public HttpRequestMessage CreateRequest(Uri baseUrl, long index)
    {
        var body = $$"""{"campaignId":{{_campaignId}},"phone":"{{PhoneFor(_phoneBase, index)}}","formData":{"name":"学员{{index % 1000}}","grade":"二年级"},"cId":"perf-{{index % 7}}"}""";
        return new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "/api/v1/orders"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
    }

    public bool IsSuccess(HttpResponseMessage response) => response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    internal static async Task<string> SignInAsync(HttpClient client, CancellationToken ct)
    {
        var user = Environment.GetEnvironmentVariable("DMH_ADMIN_USER") ?? "admin";
        var password = Environment.GetEnvironmentVariable("DMH_ADMIN_PASSWORD")
            ?? throw new InvalidOperationException("DMH_ADMIN_PASSWORD is not set (./dmh perf sets it from .dmh/keys/admin-password).");
        var login = await client.PostAsJsonAsync("/api/v1/auth/admin/login", new { username = user, password }, ct);
        await EnsureAsync(login, "sign in", ct);
        return (await login.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("token").GetString()!;
    }

    private static async Task EnsureAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Could not {what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }
    }
}
