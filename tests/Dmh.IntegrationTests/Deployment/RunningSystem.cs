using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.IntegrationTests.WechatPay;

namespace Dmh.IntegrationTests.Deployment;

/// <summary>
/// The WeChat Pay simulator, Ingress and Settlement listening on real ports (Kestrel), on one database and
/// Redis: what nginx fronts and what a backup must bring back.
/// </summary>
public sealed class RunningSystem : IAsyncDisposable
{
    private readonly string _simKeys = Directory.CreateTempSubdirectory("dmh-system-sim-").FullName;

    private SimulatorFactory _simulator = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _ingress = null!;
    private ServiceFactory<Dmh.Settlement.EntryPoint> _settlement = null!;

    public string IngressUrl { get; private set; } = "";

    public HttpClient Sim { get; private set; } = null!;

    /// <summary><paramref name="settings"/> go to Ingress and Settlement, after the defaults (e.g. another database).</summary>
    public static async Task<RunningSystem> StartAsync(TestDatabase db, string redisPrefix, IDictionary<string, string?>? settings = null, string? simKeys = null)
    {
        var system = new RunningSystem();
        var keys = simKeys ?? system._simKeys;
        var (simPort, ingressPort) = (FreePort(), FreePort());
        var simUrl = $"http://127.0.0.1:{simPort}";
        system.IngressUrl = $"http://127.0.0.1:{ingressPort}";
        var fill = new Dictionary<string, string>
        {
            ["sim"] = simUrl,
            ["ingress"] = system.IngressUrl,
            ["simKeys"] = keys,
            ["merchantKeys"] = WechatPayTestKeys.KeyDirectory,
            ["merchantSerialNo"] = WechatPayTestKeys.MerchantSerialNo,
            ["apiV3Key"] = WechatPayTestKeys.ApiV3Key,
            ["appSecret"] = WechatPayTestKeys.AppSecret,
            ["smsSecretKey"] = WechatPay.WechatPayFixture.SmsSecretKey,
        };
        system._simulator = new SimulatorFactory(ServiceSettings.Section("wechatsim", fill));
        system._simulator.UseKestrel(simPort);
        system._simulator.StartServer();
        fill["simPublicKeyId"] = (await File.ReadAllTextAsync(Path.Combine(keys, "wechatpay_public_key_id"))).Trim();

        var common = ServiceSettings.Section("wechatpay", fill);
        common["Admin:BcryptWorkFactor"] = "4";
        common["Reconciliation:Interval"] = "00:00:01";
        // Not appsettings.json's fixed 5085: several systems run at once.
        common["Management:Urls"] = $"http://127.0.0.1:{FreePort()}";
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            common[key] = value;
        }

        system._ingress = new ServiceFactory<Dmh.Ingress.EntryPoint>(db, redisPrefix, common);
        system._ingress.UseKestrel(ingressPort);
        system._ingress.StartServer();
        system._settlement = new ServiceFactory<Dmh.Settlement.EntryPoint>(db, redisPrefix, common);
        system._settlement.StartServer();
        system.Sim = new HttpClient { BaseAddress = new Uri(simUrl) };
        return system;
    }

    public async ValueTask DisposeAsync()
    {
        Sim.Dispose();
        await _settlement.DisposeAsync();
        await _ingress.DisposeAsync();
        await _simulator.DisposeAsync();
        Directory.Delete(_simKeys, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The core journey over HTTP: an admin publishes a campaign, a registrant signs up and pays (H5), the order settles.</summary>
public static class CoreJourney
{
    public sealed record Paid(long CampaignId, long OrderId, string OutTradeNo, string OrderToken, string RegistrationCode);

    /// <param name="site">The public site (Ingress, or nginx in front of it).</param>
    /// <param name="sim">The WeChat Pay simulator's control API.</param>
    public static async Task<Paid> RunAsync(HttpClient site, HttpClient sim, string phone)
    {
        var login = await Json(await site.PostAsJsonAsync("/api/v1/auth/admin/login", new { username = "admin", password = TestKeys.AdminPassword }));
        var admin = new AuthenticationHeaderValue("Bearer", login.GetProperty("token").GetString());

        var campaign = await Json(await Send(site, HttpMethod.Post, "/api/v1/campaigns", admin, new
        {
            name = "春季训练营",
            description = "描述",
            startTime = DateTimeOffset.UtcNow.AddDays(-1),
            endTime = DateTimeOffset.UtcNow.AddDays(5),
            priceFen = 9900,
            reward = new { type = "fixed", amountFen = 1000 },
            payment = new { description = "报名费" },
            requireSms = false,
            formSchema = JsonDocument.Parse("""{"type":"object","required":["name"],"properties":{"name":{"type":"string","title":"姓名","maxLength":20}}}""").RootElement,
        }), HttpStatusCode.Created);
        var campaignId = campaign.GetProperty("id").GetInt64();
        await Json(await Send(site, HttpMethod.Post, $"/api/v1/campaigns/{campaignId}/publish", admin, null));

        var form = await Json(await site.GetAsync($"/api/v1/campaigns/{campaignId}/form"));
        Assert.Equal(9900, form.GetProperty("priceFen").GetInt64());
        var order = await Json(await site.PostAsJsonAsync("/api/v1/orders", new { campaignId, phone, formData = new { name = "张三" } }), HttpStatusCode.Created);
        var orderId = order.GetProperty("id").GetInt64();
        var token = order.GetProperty("accessToken").GetString()!;

        using var pay = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/orders/{orderId}/pay") { Content = JsonContent.Create(new { channel = "h5" }) };
        pay.Headers.Add("X-Order-Token", token);
        var prepay = await Json(await site.SendAsync(pay));
        var outTradeNo = prepay.GetProperty("outTradeNo").GetString()!;
        (await sim.PostAsJsonAsync("/sim/pay", new { outTradeNo })).EnsureSuccessStatusCode();

        JsonElement paid = default;
        await WechatPayFixture.WaitUntilAsync(async () =>
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/orders/{orderId}");
            get.Headers.Add("X-Order-Token", token);
            paid = await Json(await site.SendAsync(get));
            return paid.GetProperty("status").GetString() == "paid";
        }, seconds: 60);
        var code = paid.GetProperty("registrationCode").GetString();
        Assert.False(string.IsNullOrEmpty(code));

        // The admin sees it paid, with WeChat's transaction id.
        var seen = await Json(await Send(site, HttpMethod.Get, $"/api/v1/orders/{orderId}", admin, null));
        Assert.Equal("paid", seen.GetProperty("payStatus").GetString());
        Assert.StartsWith("4200", seen.GetProperty("tradeNo").GetString(), StringComparison.Ordinal);
        return new Paid(campaignId, orderId, outTradeNo, token, code!);
    }

    private static async Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string path, AuthenticationHeaderValue admin, object? body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = admin;
        return await client.SendAsync(request);
    }

    public static async Task<JsonElement> Json(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
