using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Dmh.Ingress.Http;
using Dmh.Ingress.Security;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Orders;

/// <summary>
/// Request limits of the public endpoints (configuration section <c>RateLimits</c>; each can be set as
/// <c>RateLimits__Name</c> in the environment). Counts are per Ingress process, except the SMS budgets,
/// which are kept in Redis and shared by every process.
/// </summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimits";

    /// <summary>Requests per client IP and window over the public endpoints not limited on their own below.</summary>
    [Range(1, 10_000_000)]
    public int PublicPermitLimit { get; set; } = 600;

    [Range(1, 3600)]
    public int PublicWindowSeconds { get; set; } = 60;

    /// <summary><c>POST /api/v1/orders/{id}/pay</c> per client IP and <see cref="EndpointWindowSeconds"/>.</summary>
    [Range(1, 10_000_000)]
    public int PayPerIpPermitLimit { get; set; } = 30;

    /// <summary>
    /// <c>POST /api/v1/orders/{id}/pay</c> per order and window. Only calls with the order's valid token
    /// count, so nobody can use up someone else's order by guessing its id.
    /// </summary>
    [Range(1, 10_000_000)]
    public int PayPerOrderPermitLimit { get; set; } = 10;

    /// <summary><c>POST /api/v1/orders/payment/callback</c> per client IP and window (the page polls it every 3 s while it waits).</summary>
    [Range(1, 10_000_000)]
    public int CallbackPerIpPermitLimit { get; set; } = 120;

    /// <summary><c>POST /api/v1/orders/payment/callback</c> per order and window (valid token only, as for pay).</summary>
    [Range(1, 10_000_000)]
    public int CallbackPerOrderPermitLimit { get; set; } = 30;

    /// <summary><c>POST /api/v1/auth/wechat</c> per client IP and window.</summary>
    [Range(1, 10_000_000)]
    public int WechatAuthPerIpPermitLimit { get; set; } = 30;

    /// <summary>
    /// <c>POST /api/v1/track</c> per client IP and window: a page sends a few batches, but many phones
    /// share a carrier's or an office's address.
    /// </summary>
    [Range(1, 10_000_000)]
    public int TrackPerIpPermitLimit { get; set; } = 600;

    /// <summary>The window of the pay, callback, WeChat sign-in and tracking limits.</summary>
    [Range(1, 3600)]
    public int EndpointWindowSeconds { get; set; } = 60;

    /// <summary>How many leading digits of a phone make its prefix (7: the number block of one carrier and city).</summary>
    [Range(3, 10)]
    public int SmsPrefixDigits { get; set; } = 7;

    /// <summary>SMS codes sent to the phones of one prefix per <see cref="SmsPrefixWindowSeconds"/> (SMS pumping walks a number block).</summary>
    [Range(1, 10_000_000)]
    public int SmsPerPrefixPermitLimit { get; set; } = 30;

    [Range(1, 86_400)]
    public int SmsPrefixWindowSeconds { get; set; } = 3600;

    /// <summary>SMS codes sent in all per <see cref="SmsGlobalWindowSeconds"/>: the most a pumping attack can cost.</summary>
    [Range(1, 10_000_000)]
    public int SmsGlobalPermitLimit { get; set; } = 300;

    [Range(1, 3600)]
    public int SmsGlobalWindowSeconds { get; set; } = 60;

    /// <summary>Largest JSON request body; larger answers 413.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxJsonBodyBytes { get; set; } = 64 * 1024;
}

/// <summary>
/// Rate limiting of the public (anonymous) endpoints by client IP (<see cref="ClientAddress"/>), per
/// order where an order is named, and the JSON body size limit. The IP limiter is global but only
/// partitions requests of public paths, so features mapped by other folders (form, posters, SMS,
/// WeChat sign-in) are covered without each opting in. WeChat's payment notify is never limited:
/// WeChat sends it from few addresses, many per second under load, and a refused one is retried for hours.
/// </summary>
public static class PublicLimits
{
    public const string PolicyName = "public";

    public static WebApplicationBuilder AddPublicLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<OrderRateLimiter>();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((o, limits) =>
        {
            var l = limits.Value;
            var publicWindow = TimeSpan.FromSeconds(l.PublicWindowSeconds);
            var endpointWindow = TimeSpan.FromSeconds(l.EndpointWindowSeconds);
            FixedWindowRateLimiterOptions Window(int permit, TimeSpan window) =>
                new() { PermitLimit = permit, Window = window, QueueLimit = 0, AutoReplenishment = true };
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(PolicyName, http => RateLimitPartition.GetFixedWindowLimiter(ClientAddress.Of(http), _ => Window(l.PublicPermitLimit, publicWindow)));
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http => Classify(http.Request) switch
            {
                Limited.Public => RateLimitPartition.GetFixedWindowLimiter("public|" + ClientAddress.Of(http), _ => Window(l.PublicPermitLimit, publicWindow)),
                Limited.Pay => RateLimitPartition.GetFixedWindowLimiter("pay|" + ClientAddress.Of(http), _ => Window(l.PayPerIpPermitLimit, endpointWindow)),
                Limited.Callback => RateLimitPartition.GetFixedWindowLimiter("callback|" + ClientAddress.Of(http), _ => Window(l.CallbackPerIpPermitLimit, endpointWindow)),
                Limited.WechatAuth => RateLimitPartition.GetFixedWindowLimiter("wechat-auth|" + ClientAddress.Of(http), _ => Window(l.WechatAuthPerIpPermitLimit, endpointWindow)),
                Limited.Track => RateLimitPartition.GetFixedWindowLimiter("track|" + ClientAddress.Of(http), _ => Window(l.TrackPerIpPermitLimit, endpointWindow)),
                _ => RateLimitPartition.GetNoLimiter("-"),
            });
            o.OnRejected = async (context, ct) =>
            {
                var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : publicWindow;
                await TooManyRequests(context.HttpContext, retry, "Too many requests from this address; try again later.").ExecuteAsync(context.HttpContext);
            };
        });
        return builder;
    }

    /// <summary>
    /// Limits the endpoint per order (<see cref="OrderRateLimiter"/>), counting only calls that carry a
    /// signed, unexpired <c>X-Order-Token</c> of the order (no database read here; a revoked one still
    /// counts); the others are the handler's to refuse (401).
    /// </summary>
    public static RouteHandlerBuilder LimitPerOrder(this RouteHandlerBuilder builder, OrderLimit limit, Func<EndpointFilterInvocationContext, long?> orderId) =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (orderId(context) is { } id
                && http.RequestServices.GetRequiredService<OrderAccessTokens>().Read(http.Request.Headers[OrderAccessTokens.HeaderName], id) is not null
                && http.RequestServices.GetRequiredService<OrderRateLimiter>().TryAcquire(limit, id) is { } retry)
            {
                return TooManyRequests(http, retry, "Too many requests for this order; try again later.");
            }

            return await next(context);
        });

    /// <summary>A 429 problem with <c>Retry-After</c> in whole seconds (at least 1).</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult TooManyRequests(HttpContext http, TimeSpan retryAfter, string detail)
    {
        http.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return Problems.TooManyRequests(detail);
    }

    /// <summary>The limiter, then the JSON body limit (413 problem before the body is read).</summary>
    public static WebApplication UsePublicLimits(this WebApplication app)
    {
        app.UseRateLimiter();
        app.Use(async (http, next) =>
        {
            var max = http.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value.MaxJsonBodyBytes;
            var request = http.Request;
            // WeChat's notifies (payment, transfer) answer in WeChat's format and enforce their own limit.
            var notify = request.Path.Value?.EndsWith("/payment/notify", StringComparison.OrdinalIgnoreCase) == true
                || request.Path.Value?.EndsWith("/transfer/notify", StringComparison.OrdinalIgnoreCase) == true;
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

    private enum Limited
    {
        None,
        Public,
        Pay,
        Callback,
        WechatAuth,
        Track,
    }

    private static Limited Classify(HttpRequest request)
    {
        var path = (request.Path.Value ?? "").TrimEnd('/');
        if (HttpMethods.IsPost(request.Method))
        {
            if (path.Equals("/api/v1/orders", StringComparison.OrdinalIgnoreCase))
            {
                return Limited.Public;
            }

            if (path.Equals("/api/v1/orders/payment/callback", StringComparison.OrdinalIgnoreCase))
            {
                return Limited.Callback;
            }

            if (path.Equals("/api/v1/auth/wechat", StringComparison.OrdinalIgnoreCase))
            {
                return Limited.WechatAuth;
            }

            if (path.Equals("/api/v1/track", StringComparison.OrdinalIgnoreCase))
            {
                return Limited.Track;
            }

            if (path.StartsWith("/api/v1/orders/", StringComparison.OrdinalIgnoreCase) && path.EndsWith("/pay", StringComparison.OrdinalIgnoreCase))
            {
                return Limited.Pay;
            }
        }

        return path.StartsWith("/api/v1/qrcode/", StringComparison.OrdinalIgnoreCase)
            || path.StartsWith("/api/v1/auth/sms/", StringComparison.OrdinalIgnoreCase)
            || path.Equals("/api/v1/auth/wechat/state", StringComparison.OrdinalIgnoreCase)
            || path.Equals("/api/v1/h5/jssdk-config", StringComparison.OrdinalIgnoreCase)
            || (path.StartsWith("/api/v1/campaigns/", StringComparison.OrdinalIgnoreCase) && path.EndsWith("/form", StringComparison.OrdinalIgnoreCase))
            ? Limited.Public
            : Limited.None;
    }
}

/// <summary>The endpoints limited per order.</summary>
public enum OrderLimit
{
    Pay,
    Callback,
}

/// <summary>Fixed windows per (endpoint, order), in this process.</summary>
public sealed class OrderRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<(OrderLimit, long)> _limiter;

    public OrderRateLimiter(IOptions<RateLimitOptions> options)
    {
        var o = options.Value;
        var window = TimeSpan.FromSeconds(o.EndpointWindowSeconds);
        _limiter = PartitionedRateLimiter.Create<(OrderLimit Limit, long OrderId), (OrderLimit, long)>(key =>
            RateLimitPartition.GetFixedWindowLimiter(key, k => new FixedWindowRateLimiterOptions
            {
                PermitLimit = k.Item1 == OrderLimit.Pay ? o.PayPerOrderPermitLimit : o.CallbackPerOrderPermitLimit,
                Window = window,
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
    }

    /// <summary>Null when the call may go ahead, else how long to wait.</summary>
    public TimeSpan? TryAcquire(OrderLimit limit, long orderId)
    {
        using var lease = _limiter.AttemptAcquire((limit, orderId));
        return lease.IsAcquired ? null : lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? retry : TimeSpan.FromSeconds(1);
    }

    public void Dispose() => _limiter.Dispose();
}
