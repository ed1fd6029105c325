using System.Text.Json;
using Dmh.Platform.Database;
using Dmh.Platform.Redis;
using Dmh.Platform.Streams;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Dmh.Platform.Hosting;

/// <summary>
/// What every DMH deployable has (after eShop's ServiceDefaults): structured logs, MySQL and Redis
/// with validated options, <c>/healthz</c> (alive), <c>/readyz</c> (dependencies reachable),
/// <c>/metrics</c> (Prometheus) and RFC 7807 problem responses. A service that also faces the public
/// (Ingress) serves <c>/metrics</c> on a separate management port (<see cref="ManagementPort"/>).
/// </summary>
public static class ServiceDefaults
{
    public const string ReadyTag = "ready";

    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        if (string.Equals(builder.Configuration["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddJsonConsole(o => o.TimestampFormat = "O");
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
                o.UseUtcTimestamp = true;
            });
        }

        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddDmhDatabase();
        builder.AddDmhRedis();
        builder.AddStreamPublisher();
        builder.Services.AddProblemDetails();
        builder.Services.AddHealthChecks()
            .AddCheck<MySqlHealthCheck>("mysql", tags: [ReadyTag])
            .AddCheck<RedisHealthCheck>("redis", tags: [ReadyTag]);
        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false })
            .WithMetadata(ManagementEndpointMetadata.AlsoPublic);
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains(ReadyTag),
            ResponseWriter = WriteHealthAsync,
        }).WithMetadata(ManagementEndpointMetadata.AlsoPublic);
        // Only on the management port where the service has one (ManagementPort); else on its only port.
        app.MapMetrics("/metrics").ManagementOnly();
        return app;
    }

    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), e.Value.Description }),
        });
    }
}
