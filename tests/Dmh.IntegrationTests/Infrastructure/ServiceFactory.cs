using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace Dmh.IntegrationTests.Infrastructure;

/// <summary>
/// Hosts one DMH service in memory against the real test servers: its own database and its own Redis
/// key prefix, so test classes never see each other's data.
/// </summary>
public class ServiceFactory<TEntryPoint>(TestDatabase database, string redisPrefix, IDictionary<string, string?>? settings = null)
    : WebApplicationFactory<TEntryPoint>
    where TEntryPoint : class
{
    public TestDatabase Database { get; } = database;

    public string RedisPrefix { get; } = redisPrefix;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        var values = new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = Database.ConnectionString,
            ["Database:ApplyMigrations"] = "false",
            ["Redis:Configuration"] = TestEnvironment.Redis,
            ["Redis:KeyPrefix"] = RedisPrefix,
            ["Security:TokenKey"] = TestKeys.TokenKey,
            ["Security:JwtKey"] = TestKeys.JwtKey,
            ["Security:DataKey"] = TestKeys.DataKey,
            ["Admin:InitialUser"] = "admin",
            ["Admin:InitialPassword"] = TestKeys.AdminPassword,
        };
        foreach (var (key, value) in WechatPayTestKeys.DefaultSettings())
        {
            values[key] = value;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        // Settings given here win over appsettings.json and the environment.
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(values));
    }
}

/// <summary>Fixed keys for tests only (real ones come from .dmh/keys or the deployment's configuration).</summary>
public static class TestKeys
{
    public const string TokenKey = "dGVzdC10b2tlbi1rZXktZm9yLWRtaC10ZXN0cy0wMDAwMDAwMA==";
    public const string JwtKey = "dGVzdC1qd3Qta2V5LWZvci1kbWgtdGVzdHMtMDAwMDAwMDAwMDA=";
    public const string DataKey = "dGVzdC1kYXRhLWtleS1mb3ItZG1oLXRlc3RzLTAwMDAwMDAwMDA=";
    public const string AdminPassword = "admin-test-password";

    public static string NewRedisPrefix() => "t" + Guid.NewGuid().ToString("N")[..10] + ":";
}
