using System.Net;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Dmh.IntegrationTests.Foundation;

/// <summary>/healthz, /readyz and /metrics on every deployable, against the real servers.</summary>
public sealed class ServiceHealthTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    public static TheoryData<string> Services => ["ingress", "settlement", "syncer"];

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Health_readiness_and_metrics_answer(string service)
    {
        await using var factory = Create(service, new Dictionary<string, string?>());
        using var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        var ready = await client.GetAsync("/readyz");
        Assert.True(ready.StatusCode == HttpStatusCode.OK, await ready.Content.ReadAsStringAsync());
        // Ingress serves /metrics only on its management port (ManagementPortTests).
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        if (factory.ManagementPort is { } port)
        {
            request.From("127.0.0.1", port);
        }

        var metrics = await (await client.SendAsync(request)).Content.ReadAsStringAsync();
        Assert.Contains("process_cpu_seconds_total", metrics, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Readiness_fails_when_mysql_is_unreachable(string service)
    {
        await using var factory = Create(service, new Dictionary<string, string?>
        {
            // Port 1 refuses at once: nothing listens there.
            ["Database:ConnectionString"] = "Server=127.0.0.1;Port=1;User ID=x;Password=y;Database=dmh;Connection Timeout=2",
        });
        using var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task A_missing_setting_fails_start_up_naming_the_setting()
    {
        Exception ex;
        var attempt = 0;
        do
        {
            await using var factory = Create("settlement", new Dictionary<string, string?> { ["Database:ConnectionString"] = "" });
            ex = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        }
        // WebApplicationFactory races the entry point that disposes the failed host, and now and then
        // reports that as ObjectDisposedException instead of the start-up error (dotnet/aspnetcore#33494).
        while (ex is ObjectDisposedException && ++attempt < 5);

        Assert.True(ex.ToString().Contains("Database:ConnectionString", StringComparison.Ordinal), ex.ToString());
    }

    private Hosted Create(string service, Dictionary<string, string?> settings) => service switch
    {
        "ingress" => Hosted.Of(new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), settings).WithTestConnection()) with { ManagementPort = 5085 },
        "settlement" => Hosted.Of(new ServiceFactory<Dmh.Settlement.EntryPoint>(_db, TestKeys.NewRedisPrefix(), settings)),
        _ => Hosted.Of(new ServiceFactory<Dmh.Syncer.EntryPoint>(_db, TestKeys.NewRedisPrefix(), settings)),
    };

    /// <summary>Lets one theory drive factories of different entry points.</summary>
    private sealed record Hosted(IAsyncDisposable Factory, Func<HttpClient> CreateClient) : IAsyncDisposable
    {
        public int? ManagementPort { get; init; }

        public static Hosted Of<T>(WebApplicationFactory<T> factory)
            where T : class => new(factory, factory.CreateClient);

        public ValueTask DisposeAsync() => Factory.DisposeAsync();
    }
}
