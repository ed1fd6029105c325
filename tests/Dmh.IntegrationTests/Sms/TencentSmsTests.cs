using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dmh.Ingress.Sms;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.IntegrationTests.WechatPay;
using Microsoft.Extensions.Options;

namespace Dmh.IntegrationTests.Sms;

/// <summary>
/// Ingress's Tencent Cloud SMS client against the simulator's stand-in (both real HTTP), with the
/// settings ./dmh up uses (scripts/services.conf [ingress] Sms__*, [wechatsim] Simulator__Sms__*).
/// </summary>
public sealed class TencentSmsTests : IAsyncLifetime
{
    private readonly string _keyDirectory = Path.Combine(Path.GetTempPath(), "dmh-sms-sim-" + Guid.NewGuid().ToString("N")[..10]);
    private TestDatabase _db = null!;
    private SimulatorFactory _simulator = null!;
    private HttpClient _sim = null!;
    private string _simUrl = "";

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        var port = FreePort();
        _simUrl = $"http://127.0.0.1:{port}";
        _simulator = new SimulatorFactory(ServiceSettings.Section("wechatsim", Fill()));
        _simulator.UseKestrel(port);
        _simulator.StartServer();
        _sim = new HttpClient { BaseAddress = new Uri(_simUrl) };
    }

    public async Task DisposeAsync()
    {
        _sim.Dispose();
        await _simulator.DisposeAsync();
        await _db.DisposeAsync();
        try
        {
            Directory.Delete(_keyDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Dictionary<string, string> Fill() => new()
    {
        ["sim"] = _simUrl,
        ["ingress"] = "http://127.0.0.1:1",
        ["simKeys"] = _keyDirectory,
        ["merchantKeys"] = WechatPayTestKeys.KeyDirectory,
        ["merchantSerialNo"] = WechatPayTestKeys.MerchantSerialNo,
        ["apiV3Key"] = WechatPayTestKeys.ApiV3Key,
        ["appSecret"] = WechatPayTestKeys.AppSecret,
        ["smsSecretKey"] = WechatPayFixture.SmsSecretKey,
        ["root"] = "/nonexistent",
        ["data"] = "/nonexistent",
        ["managementPort"] = "1",
    };

    /// <summary>Ingress with the SMS settings of ./dmh up ([ingress] Sms__*), optionally changed.</summary>
    private ServiceFactory<Dmh.Ingress.EntryPoint> Ingress(Dictionary<string, string?>? changes = null)
    {
        var settings = ServiceSettings.Section("ingress", Fill())
            .Where(s => s.Key.StartsWith("Sms:", StringComparison.Ordinal))
            .ToDictionary(s => s.Key, s => s.Value);
        settings["Sms:Tencent:RetryDelay"] = "00:00:00.010";
        foreach (var (key, value) in changes ?? [])
        {
            settings[key] = value;
        }

        return new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), settings);
    }

    private static string Phone() => "139" + Random.Shared.Next(10_000_000, 99_999_999).ToString(CultureInfo.InvariantCulture);

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string phone) =>
        client.PostAsJsonAsync("/api/v1/auth/sms/send", new { campaignId = 1, phone });

    private Task QueueFaultAsync(string code, int count) =>
        _sim.PostAsJsonAsync("/sim/sms/faults", new { code, count });

    private async Task<int> QueuedFaultsAsync() =>
        (await _sim.GetFromJsonAsync<JsonElement>("/sim/sms/faults")).GetProperty("queued").GetInt32();

    [Fact]
    public async Task Code_goes_through_the_stand_in_with_template_and_parameters_and_signs_in()
    {
        await using var ingress = Ingress();
        using var client = ingress.CreateClient();
        var phone = Phone();

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(client, phone)).StatusCode);

        var sms = await _sim.GetFromJsonAsync<JsonElement>($"/sim/sms/{phone}");
        Assert.Equal("+86" + phone, sms.GetProperty("phoneNumber").GetString());
        Assert.Equal("1000001", sms.GetProperty("templateId").GetString());
        Assert.Equal("DMH", sms.GetProperty("signName").GetString());
        Assert.Equal("1400000001", sms.GetProperty("sdkAppId").GetString());
        var parameters = sms.GetProperty("templateParams").EnumerateArray().Select(p => p.GetString()).ToList();
        Assert.Matches("^[0-9]{6}$", parameters[0]);
        Assert.Equal("5", parameters[1]);
        var login = await client.PostAsJsonAsync("/api/v1/auth/sms/login", new { phone, code = parameters[0] });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task Errors_a_retry_may_fix_are_retried_and_the_code_still_arrives()
    {
        await using var ingress = Ingress();
        using var client = ingress.CreateClient();
        var phone = Phone();
        await QueueFaultAsync("InternalError.Timeout", 1);
        await QueueFaultAsync("RequestLimitExceeded", 1);

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(client, phone)).StatusCode);

        Assert.Equal(0, await QueuedFaultsAsync());
        Assert.Single((await _sim.GetFromJsonAsync<JsonElement>("/sim/sms")).EnumerateArray(), m => m.GetProperty("phoneNumber").GetString() == "+86" + phone);
    }

    [Fact]
    public async Task Retries_stop_after_the_configured_attempts_with_a_problem()
    {
        await using var ingress = Ingress(new() { ["Sms:Tencent:MaxAttempts"] = "3" });
        using var client = ingress.CreateClient();
        await QueueFaultAsync("InternalError.SendAndRecvFail", 5);

        var response = await SendAsync(client, Phone());

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.EndsWith("/sms-provider-error", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, await QueuedFaultsAsync());
    }

    [Theory]
    [InlineData("FailedOperation.TemplateIncorrectOrUnapproved", HttpStatusCode.BadGateway)]
    [InlineData("FailedOperation.InsufficientBalanceInSmsPackage", HttpStatusCode.BadGateway)]
    [InlineData("UnauthorizedOperation.SmsSdkAppIdVerifyFail", HttpStatusCode.BadGateway)]
    [InlineData("FailedOperation.PhoneNumberInBlacklist", HttpStatusCode.UnprocessableEntity)]
    [InlineData("LimitExceeded.PhoneNumberThirtySecondLimit", HttpStatusCode.TooManyRequests)]
    [InlineData("LimitExceeded.PhoneNumberDailyLimit", HttpStatusCode.TooManyRequests)]
    public async Task Errors_a_retry_cannot_fix_give_up_at_once_with_a_problem(string providerCode, HttpStatusCode expected)
    {
        await using var ingress = Ingress();
        using var client = ingress.CreateClient();
        var phone = Phone();
        await QueueFaultAsync(providerCode, 3);

        var response = await SendAsync(client, phone);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(2, await QueuedFaultsAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await _sim.GetAsync($"/sim/sms/{phone}")).StatusCode);
    }

    [Fact]
    public async Task A_wrong_secret_key_is_refused_by_the_stand_in_and_not_retried()
    {
        await using var ingress = Ingress(new() { ["Sms:Tencent:SecretKey"] = "not-the-key" });
        using var client = ingress.CreateClient();
        var phone = Phone();

        Assert.Equal(HttpStatusCode.BadGateway, (await SendAsync(client, phone)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _sim.GetAsync($"/sim/sms/{phone}")).StatusCode);
    }

    [Theory]
    [InlineData("wrong-key", null, 0, "AuthFailure.SignatureFailure")]
    [InlineData(null, "tampered", 0, "AuthFailure.SignatureFailure")]
    [InlineData(null, null, -600, "AuthFailure.SignatureExpire")]
    [InlineData(null, null, 0, null)]
    public async Task Stand_in_checks_the_signature_as_Tencent_Cloud_does(string? secretKey, string? tamper, int skewSeconds, string? expectedError)
    {
        var body = TencentSmsSender.RequestBody(new TencentSmsOptions
        {
            SdkAppId = "1400000001", SignName = "DMH", TemplateId = "1000001",
        }, "13912345678", "123456", 300);
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + skewSeconds;
        var host = new Uri(_simUrl).Authority;
        var authorization = Tc3Signer.Authorization("AKIDdmhLocalSimulatorKey00000000000", secretKey ?? WechatPayFixture.SmsSecretKey, "sms",
            [new("content-type", TencentSmsSender.ContentType), new("host", host), new("x-tc-action", "SendSms")], body, timestamp);
        var sent = tamper is null ? body : Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("123456", "654321", StringComparison.Ordinal));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new ByteArrayContent(sent) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", TencentSmsSender.ContentType);
        request.Headers.Add("X-TC-Action", "SendSms");
        request.Headers.Add("X-TC-Version", "2021-01-11");
        request.Headers.Add("X-TC-Region", "ap-guangzhou");
        request.Headers.Add("X-TC-Timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("Authorization", authorization);

        var response = await _sim.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Response");
        Assert.True(answer.TryGetProperty("RequestId", out _));
        if (expectedError is null)
        {
            Assert.False(answer.TryGetProperty("Error", out _));
            Assert.Equal("Ok", answer.GetProperty("SendStatusSet")[0].GetProperty("Code").GetString());
        }
        else
        {
            Assert.Equal(expectedError, answer.GetProperty("Error").GetProperty("Code").GetString());
            Assert.False(answer.TryGetProperty("SendStatusSet", out _));
        }
    }

    [Fact]
    public async Task Stand_in_refuses_an_unknown_secret_id_and_a_missing_authorization()
    {
        using var unsigned = new StringContent("{}", Encoding.UTF8, "application/json");
        var none = (await (await _sim.PostAsync("/", unsigned)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Response");
        Assert.Equal("AuthFailure.InvalidAuthorization", none.GetProperty("Error").GetProperty("Code").GetString());

        await using var ingress = Ingress(new() { ["Sms:Tencent:SecretId"] = "AKIDsomeoneelse" });
        using var client = ingress.CreateClient();
        Assert.Equal(HttpStatusCode.BadGateway, (await SendAsync(client, Phone())).StatusCode);
    }

    [Theory]
    [InlineData("Sms:Tencent:SecretKey", "", "Sms:Tencent:SecretId and Sms:Tencent:SecretKey")]
    [InlineData("Sms:Tencent:SdkAppId", "12345", "Sms:Tencent:SdkAppId")]
    [InlineData("Sms:Tencent:TemplateId", "", "Sms:Tencent:TemplateId")]
    [InlineData("Sms:Tencent:SignName", " ", "Sms:Tencent:SignName")]
    [InlineData("Sms:Tencent:AllowInsecureHttp", "false", "Sms:Tencent:Endpoint")]
    [InlineData("Sms:Tencent:TemplateParams", "minutes", "Sms:Tencent:TemplateParams")]
    [InlineData("Sms:Provider", "aliyun", "Sms:Provider")]
    [InlineData("Sms:DevOutbox", "true", "Sms:DevOutbox=true contradicts")]
    public async Task Ingress_refuses_to_start_with_incomplete_gateway_settings(string key, string value, string message)
    {
        await using var ingress = Ingress(new() { [key] = value });
        var error = Assert.Throws<OptionsValidationException>(() => ingress.CreateClient());
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
