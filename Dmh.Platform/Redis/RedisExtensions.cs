using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.Platform.Redis;

public static class RedisExtensions
{
    /// <summary>Registers one shared multiplexer and key naming.</summary>
    public static IHostApplicationBuilder AddDmhRedis(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RedisOptions>()
            .BindConfiguration(RedisOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var options = ConfigurationOptions.Parse(sp.GetRequiredService<IOptions<RedisOptions>>().Value.Configuration);
            // Keep retrying in the background instead of failing start-up when Redis is briefly down;
            // /readyz reports it meanwhile.
            options.AbortOnConnectFail = false;
            // One primary, no failover election: no tie-breaker key or configuration channel, which
            // the services' ACL users (redis/users.acl) have no rights on.
            options.TieBreaker = "";
            options.ConfigurationChannel = "";
            return ConnectionMultiplexer.Connect(options);
        });
        builder.Services.AddSingleton<RedisKeys>();
        return builder;
    }
}
