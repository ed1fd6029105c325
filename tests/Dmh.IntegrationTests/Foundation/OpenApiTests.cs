using System.Net.Http.Json;
using System.Text.Json;
using Dmh.IntegrationTests.Infrastructure;

namespace Dmh.IntegrationTests.Foundation;

/// <summary>The OpenAPI document is served and describes the public and admin endpoints.</summary>
public sealed class OpenApiTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _factory = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix());
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task OpenApi_document_lists_the_endpoints()
    {
        await using var app = _factory.WithTestConnection();
        using var client = app.CreateClient();
        // On the management port only (Management:Urls in Dmh.Ingress/appsettings.json; ManagementPortTests).
        using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json").From("127.0.0.1", 5085);
        var document = await (await client.SendAsync(request)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = document.GetProperty("paths");
        foreach (var path in new[]
        {
            "/api/v1/auth/admin/login", "/api/v1/campaigns", "/api/v1/auth/sms/send", "/api/v1/auth/sms/login",
            "/api/v1/uploads/covers", "/api/v1/stats/overview", "/api/v1/sync/summary",
        })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from /openapi/v1.json");
        }

        var send = paths.GetProperty("/api/v1/auth/sms/send").GetProperty("post");
        Assert.Equal("SendSmsCode", send.GetProperty("operationId").GetString());
        Assert.False(paths.TryGetProperty("/api/v1/dev/sms/{phone}", out _));
    }
}
