using System.Net;
using System.Net.Sockets;
using Dmh.IntegrationTests.WechatPay;

namespace Dmh.IntegrationTests.Notices;

/// <summary>
/// The simulator alone on a real port (the notifier calls it over HTTP), and the WeChat Pay settings an
/// Ingress uses with it. Ingress itself runs in memory per test: no port of its own, so no clash with a
/// running DMH.
/// </summary>
public sealed class NoticeSimulatorFixture : IAsyncLifetime
{
    private readonly string _keyDirectory = Path.Combine(Path.GetTempPath(), "dmh-sim-" + Guid.NewGuid().ToString("N")[..10]);

    public SimulatorFactory Simulator { get; private set; } = null!;

    public string SimUrl { get; private set; } = "";

    public HttpClient Sim { get; private set; } = null!;

    public Dictionary<string, string?> IngressSettings { get; private set; } = [];

    public async Task InitializeAsync()
    {
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            SimUrl = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        }

        var fill = new Dictionary<string, string>
        {
            ["sim"] = SimUrl,
            ["ingress"] = "http://127.0.0.1:5080",
            ["simKeys"] = _keyDirectory,
            ["merchantKeys"] = WechatPayTestKeys.KeyDirectory,
            ["merchantSerialNo"] = WechatPayTestKeys.MerchantSerialNo,
            ["apiV3Key"] = WechatPayTestKeys.ApiV3Key,
            ["appSecret"] = WechatPayTestKeys.AppSecret,
            ["smsSecretKey"] = WechatPayFixture.SmsSecretKey,
        };
        Simulator = new SimulatorFactory(ServiceSettings.Section("wechatsim", fill));
        Simulator.UseKestrel(new Uri(SimUrl).Port);
        Simulator.StartServer();
        fill["simPublicKeyId"] = (await File.ReadAllTextAsync(Path.Combine(_keyDirectory, "wechatpay_public_key_id"))).Trim();
        IngressSettings = ServiceSettings.Section("wechatpay", fill);
        Sim = new HttpClient { BaseAddress = new Uri(SimUrl) };
    }

    public async Task DisposeAsync()
    {
        Sim.Dispose();
        await Simulator.DisposeAsync();
        try
        {
            Directory.Delete(_keyDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
