using System.Net;
using System.Net.Sockets;
using Dmh.IntegrationTests.Infrastructure;

namespace Dmh.IntegrationTests.Foundation;

/// <summary>/metrics and /openapi only on Ingress's management port; health on both; the API only on the public port.</summary>
public sealed class ManagementPortTests : IAsyncLifetime
{
    // Management:Urls in Dmh.Ingress/appsettings.json.
    private const int DefaultManagementPort = 5085;
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private static async Task<HttpStatusCode> GetAsync(HttpClient client, string path, int? localPort)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path).From("127.0.0.1", localPort);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Metrics_and_openapi_answer_404_on_the_public_port_and_are_served_on_the_management_port()
    {
        await using var factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix());
        await using var app = factory.WithTestConnection();
        using var client = app.CreateClient();

        foreach (var path in new[] { "/metrics", "/openapi/v1.json" })
        {
            Assert.Equal(HttpStatusCode.NotFound, await GetAsync(client, path, localPort: 5080));
            // A Host header naming the management port changes nothing: the connection's port decides.
            using var spoofed = new HttpRequestMessage(HttpMethod.Get, path).From("127.0.0.1", 5080);
            spoofed.Headers.Host = "127.0.0.1:" + DefaultManagementPort;
            Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(spoofed)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, await GetAsync(client, path, DefaultManagementPort));
        }

        foreach (var path in new[] { "/healthz", "/readyz" })
        {
            Assert.Equal(HttpStatusCode.OK, await GetAsync(client, path, 5080));
            Assert.Equal(HttpStatusCode.OK, await GetAsync(client, path, DefaultManagementPort));
        }

        Assert.Equal(HttpStatusCode.NotFound, await GetAsync(client, "/api/v1/h5/config", DefaultManagementPort));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(client, "/api/v1/h5/config", 5080));
    }

    [Fact]
    public async Task Ingress_listens_on_its_management_urls_beside_its_public_urls()
    {
        var (publicPort, managementPort) = (FreePort(), FreePort());
        await using var factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Urls"] = $"http://127.0.0.1:{publicPort}",
            ["Management:Urls"] = $"http://127.0.0.1:{managementPort}",
        });
        factory.UseKestrel();
        factory.StartServer();
        using var client = new HttpClient();

        async Task<HttpStatusCode> StatusAsync(int port, string path)
        {
            using var response = await client.GetAsync($"http://127.0.0.1:{port}{path}");
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(publicPort, "/metrics"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(publicPort, "/openapi/v1.json"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(publicPort, "/readyz"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(publicPort, "/api/v1/h5/config"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(managementPort, "/metrics"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(managementPort, "/openapi/v1.json"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(managementPort, "/healthz"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(managementPort, "/api/v1/h5/config"));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
