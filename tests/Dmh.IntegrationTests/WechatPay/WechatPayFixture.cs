using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Dapper;
using Dmh.Contracts;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.Platform.Streams;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.WechatPay;

/// <summary>The simulator and Ingress, both on real Kestrel ports, against a fresh database and Redis prefix.</summary>
public sealed class WechatPayFixture : IAsyncLifetime
{
    public string KeyDirectory => _keyDirectory;

    private readonly string _keyDirectory = Path.Combine(Path.GetTempPath(), "dmh-sim-" + Guid.NewGuid().ToString("N")[..10]);

    /// <summary>The Tencent Cloud SMS API key the simulator's stand-in accepts (scripts/services.conf [wechatsim]).</summary>
    public const string SmsSecretKey = "test-sms-secret-key-0123456789";

    public TestDatabase Db { get; private set; } = null!;
    public string Prefix { get; } = TestKeys.NewRedisPrefix();
    public SimulatorFactory Simulator { get; private set; } = null!;
    public ServiceFactory<Dmh.Ingress.EntryPoint> Ingress { get; private set; } = null!;
    public string SimUrl { get; private set; } = "";
    public string IngressUrl { get; private set; } = "";
    public HttpClient Sim { get; private set; } = null!;
    public HttpClient Api { get; private set; } = null!;
    public ConnectionMultiplexer Redis { get; private set; } = null!;

    /// <summary>The WechatPay settings Ingress runs with (pointing at the simulator).</summary>
    public Dictionary<string, string?> IngressSettings { get; private set; } = [];

    /// <summary>A TRANSACTION.SUCCESS notify signed with the simulator's key, built here to aim it at any host.</summary>
    public HttpRequestMessage SignedNotify(string outTradeNo, long totalFen, string tradeType = "JSAPI", string? currency = "CNY")
    {
        using var key = System.Security.Cryptography.RSA.Create();
        key.ImportFromPem(File.ReadAllText(Path.Combine(_keyDirectory, "wechatpay_private_key.pem")));
        var plain = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new
        {
            appid = WechatPayTestKeys.AppId, mchid = WechatPayTestKeys.MchId, out_trade_no = outTradeNo, transaction_id = "4200000000000000001",
            trade_type = tradeType, trade_state = "SUCCESS", success_time = "2026-11-25T18:00:00.123+08:00",
            amount = new { total = totalFen, payer_total = totalFen, currency, payer_currency = currency },
        });
        var nonce = Dmh.WechatPay.WechatPayCrypto.NewNonce(12);
        var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new
        {
            id = "EV-" + Guid.NewGuid().ToString("N"), event_type = "TRANSACTION.SUCCESS", resource_type = "encrypt-resource", summary = "支付成功",
            resource = new
            {
                original_type = "transaction", algorithm = "AEAD_AES_256_GCM", associated_data = "transaction", nonce,
                ciphertext = Dmh.WechatPay.WechatPayCrypto.Encrypt(System.Text.Encoding.UTF8.GetBytes(WechatPayTestKeys.ApiV3Key), nonce, "transaction", plain),
            },
        });
        var ts = Dmh.WechatPay.WechatPayCrypto.UnixSeconds(DateTimeOffset.UtcNow);
        var n = Dmh.WechatPay.WechatPayCrypto.NewNonce();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders/payment/notify") { Content = new ByteArrayContent(body) };
        request.Headers.Add("Wechatpay-Timestamp", ts);
        request.Headers.Add("Wechatpay-Nonce", n);
        request.Headers.Add("Wechatpay-Serial", File.ReadAllText(Path.Combine(_keyDirectory, "wechatpay_public_key_id")).Trim());
        request.Headers.Add("Wechatpay-Signature", Dmh.WechatPay.WechatPayCrypto.Sign(key, Dmh.WechatPay.WechatPayCrypto.ResponseMessage(ts, n, body)));
        return request;
    }

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync();
        Redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        var simPort = FreePort();
        var ingressPort = FreePort();
        SimUrl = $"http://127.0.0.1:{simPort}";
        IngressUrl = $"http://127.0.0.1:{ingressPort}";
        var fill = new Dictionary<string, string>
        {
            ["sim"] = SimUrl,
            ["ingress"] = IngressUrl,
            ["simKeys"] = _keyDirectory,
            ["merchantKeys"] = WechatPayTestKeys.KeyDirectory,
            ["merchantSerialNo"] = WechatPayTestKeys.MerchantSerialNo,
            ["apiV3Key"] = WechatPayTestKeys.ApiV3Key,
            ["appSecret"] = WechatPayTestKeys.AppSecret,
            ["smsSecretKey"] = SmsSecretKey,
        };
        var simulatorSettings = ServiceSettings.Section("wechatsim", fill);
        // 15 s → 1.5 ms: the whole 24-hour schedule takes under 10 s.
        simulatorSettings["Simulator:TimeCompression"] = "0.0001";
        simulatorSettings["Simulator:RefundDelay"] = "00:00:00.200";
        Simulator = new SimulatorFactory(simulatorSettings);
        Simulator.UseKestrel(simPort);
        Simulator.StartServer();

        fill["simPublicKeyId"] = (await File.ReadAllTextAsync(Path.Combine(_keyDirectory, "wechatpay_public_key_id"))).Trim();
        IngressSettings = ServiceSettings.Section("wechatpay", fill);
        // Both modes, as during WeChat's migration from platform certificates to the public key.
        IngressSettings["WechatPay:UsePlatformCertificates"] = "true";
        // Withdrawals are paid by merchant transfer through this simulator (issue 18), as ./dmh up runs them.
        IngressSettings["Withdrawals:Mode"] = "wechat";
        // Its own management port: appsettings.json's 5085 may be taken by another Ingress on this machine.
        IngressSettings["Management:Urls"] = $"http://127.0.0.1:{FreePort()}";
        Ingress = new ServiceFactory<Dmh.Ingress.EntryPoint>(Db, Prefix, IngressSettings);
        Ingress.UseKestrel(ingressPort);
        Ingress.StartServer();
        Sim = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(SimUrl) };
        Api = new HttpClient { BaseAddress = new Uri(IngressUrl) };
    }

    public async Task DisposeAsync()
    {
        Sim.Dispose();
        Api.Dispose();
        await Ingress.DisposeAsync();
        await Simulator.DisposeAsync();
        await Redis.GetDatabase().KeyDeleteAsync(Prefix + StreamNames.Payments);
        await Redis.DisposeAsync();
        await Db.DisposeAsync();
        try
        {
            Directory.Delete(_keyDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A token for an order written directly (token version 1, as the column defaults).</summary>
    public string OrderToken(long orderId) => Ingress.Services.GetRequiredService<OrderAccessTokens>().Issue(orderId, 1, DateTimeOffset.UtcNow.AddDays(1));

    /// <summary>A campaign and an unpaid order (the orders feature is another issue: rows are written directly).</summary>
    public async Task<long> CreateOrderAsync(decimal amount = 99.00m)
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        var campaign = await connection.ExecuteScalarAsync<long>("""
            INSERT INTO campaigns (name, price, status, payment_settings) VALUES ('春季训练营', @amount, 'active', JSON_OBJECT('description', '春季训练营报名费'));
            SELECT LAST_INSERT_ID();
            """, new { amount });
        return await connection.ExecuteScalarAsync<long>("""
            INSERT INTO orders (campaign_id, phone, amount) VALUES (@campaign, @phone, @amount);
            SELECT LAST_INSERT_ID();
            """, new { campaign, phone = "139" + Random.Shared.Next(10_000_000, 99_999_999), amount });
    }

    public async Task<HttpResponseMessage> PayAsync(long orderId, object body, string? session = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/orders/{orderId}/pay") { Content = JsonContent.Create(body) };
        request.Headers.Add(OrderAccessTokens.HeaderName, OrderToken(orderId));
        if (session is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", session);
        }

        return await Api.SendAsync(request);
    }

    /// <summary>Another browser: its own cookies, talking to Ingress.</summary>
    public HttpClient NewBrowser() => new() { BaseAddress = new Uri(IngressUrl) };

    /// <summary>
    /// The first half of WeChat sign-in as the H5 page does it: a state from Ingress (which sets the
    /// browser's binding cookie), then the simulator's authorize page, which answers code and state.
    /// </summary>
    public async Task<(string Code, string State)> AuthorizeAsync(HttpClient browser, string openid, string extra = "")
    {
        var issued = await browser.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/auth/wechat/state");
        var state = issued.GetProperty("state").GetString()!;
        var authorize = await Sim.GetAsync($"/connect/oauth2/authorize?appid={WechatPayTestKeys.AppId}&redirect_uri={Uri.EscapeDataString(IngressUrl + "/h5/")}"
            + $"&response_type=code&scope=snsapi_base&state={state}&sim_openid={openid}{extra}");
        Assert.Equal(HttpStatusCode.Redirect, authorize.StatusCode);
        var query = System.Web.HttpUtility.ParseQueryString(authorize.Headers.Location!.Query);
        return (query["code"]!, query["state"]!);
    }

    /// <summary>A WeChat session of this openid in this browser (<c>sessionToken</c>).</summary>
    public async Task<string> SignInAsync(HttpClient browser, string openid)
    {
        var (code, state) = await AuthorizeAsync(browser, openid);
        var login = await browser.PostAsJsonAsync("/api/v1/auth/wechat", new { code, state });
        Assert.True(login.IsSuccessStatusCode, await login.Content.ReadAsStringAsync());
        return (await login.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("sessionToken").GetString()!;
    }

    /// <summary>Entries of the payments stream with this key.</summary>
    public async Task<List<Envelope>> EntriesAsync(string outTradeNo) =>
        (await Redis.GetDatabase().StreamRangeAsync(Prefix + StreamNames.Payments))
            .Select(e => StreamPublisher.FromFields(e.Values))
            .Where(e => e.Key == outTradeNo)
            .ToList();

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met within {seconds} s");
            await Task.Delay(20);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed class SimulatorFactory(IDictionary<string, string?> settings) : WebApplicationFactory<Dmh.WechatSim.EntryPoint>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings));
    }
}
