using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Dmh.Ingress.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Orders;

/// <summary>Per-client-IP limits of the public endpoints (configuration section <c>RateLimits</c>).</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimits";

    /// <summary>Requests per client IP and window over all public endpoints.</summary>
    [Range(1, 10_000_000)]
    public int PublicPermitLimit { get; set; } = 600;

    [Range(1, 3600)]
    public int PublicWindowSeconds { get; set; } = 60;

    /// <summary>Largest JSON request body; larger answers 413.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxJsonBodyBytes { get; set; } = 64 * 1024;
}

/// <summary>
/// Rate limiting of the public (anonymous) endpoints by client IP, and the JSON body size limit.
/// The limiter is global but only partitions requests of public paths, so features mapped by other
/// folders (form, posters, SMS) are covered without each opting in; WeChat's notify is never limited.
/// </summary>
public static class PublicLimits
{
    public const string PolicyName = "public";

    public static WebApplicationBuilder AddPublicLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((o, limits) =>
        {
            var permit = limits.Value.PublicPermitLimit;
            var window = TimeSpan.FromSeconds(limits.Value.PublicWindowSeconds);
            FixedWindowRateLimiterOptions Window() => new() { PermitLimit = permit, Window = window, QueueLimit = 0, AutoReplenishment = true };
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(PolicyName, http => RateLimitPartition.GetFixedWindowLimiter(ClientIp(http), _ => Window()));
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http => IsPublic(http.Request)
                ? RateLimitPartition.GetFixedWindowLimiter(ClientIp(http), _ => Window())
                : RateLimitPartition.GetNoLimiter("-"));
            o.OnRejected = async (context, ct) =>
            {
                var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : window;
                var http = context.HttpContext;
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await Problems.TooManyRequests("Too many requests from this address; try again later.").ExecuteAsync(http);
            };
        });
        return builder;
    }

    /// <summary>The limiter, then the JSON body limit (413 problem before the body is read).</summary>
    public static WebApplication UsePublicLimits(this WebApplication app)
    {
        app.UseRateLimiter();
        app.Use(async (http, next) =>
        {
            var max = http.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value.MaxJsonBodyBytes;
            var request = http.Request;
            // WeChat's notify answers in WeChat's format and enforces its own limit.
            var notify = request.Path.Value?.EndsWith("/payment/notify", StringComparison.OrdinalIgnoreCase) == true;
            // Signed-in admins may send larger bodies (a campaign with a 64 KiB form schema and a long
            // description); authorization has already turned away anonymous calls to their endpoints.
            if (!notify && !Dmh.Ingress.Security.AuthExtensions.IsAdmin(http.User) && (request.HasJsonContentType() || (request.ContentType is null && request.ContentLength > 0)))
            {
                if (request.ContentLength > max)
                {
                    await TooLarge(max).ExecuteAsync(http);
                    return;
                }

                if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
                {
                    size.MaxRequestBodySize = max;
                }
            }

            await next(http);
        });
        return app;
    }

    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult TooLarge(int max) =>
        Problems.Of(StatusCodes.Status413PayloadTooLarge, "payload-too-large", "The request body is too large.",
            string.Create(CultureInfo.InvariantCulture, $"JSON bodies are at most {max} bytes."));

    private static bool IsPublic(HttpRequest request)
    {
        var path = request.Path.Value ?? "";
        if (HttpMethods.IsPost(request.Method) && path.TrimEnd('/').Equals("/api/v1/orders", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return path.StartsWith("/api/v1/qrcode/", StringComparison.OrdinalIgnoreCase)
            || path.StartsWith("/api/v1/auth/sms/", StringComparison.OrdinalIgnoreCase)
            || (path.StartsWith("/api/v1/campaigns/", StringComparison.OrdinalIgnoreCase) && path.EndsWith("/form", StringComparison.OrdinalIgnoreCase));
    }

    private static string ClientIp(HttpContext http)
    {
        var ip = http.Connection.RemoteIpAddress;
        return (ip?.IsIPv4MappedToIPv6 == true ? ip.MapToIPv4() : ip ?? IPAddress.None).ToString();
    }
}
