using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Dmh.Contracts;
using Dmh.Ingress.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Orders;

/// <summary>The fields of <c>POST /api/v1/orders</c>, checked for shape (the rules are the handler's).</summary>
public sealed record CreateOrderInput(long CampaignId, string Phone, JsonElement FormData, string? ChannelId, string? ReferralCode, string? SmsCode);

/// <summary>
/// Binds <c>POST /api/v1/orders</c>: the body read within <see cref="RateLimitOptions.MaxJsonBodyBytes"/>,
/// parsed and checked for shape. Exactly one of <see cref="Input"/> and <see cref="Problem"/> is set:
/// 413 over the limit, 400 for a malformed body (not JSON, not an object, wrong shapes, no campaignId).
/// </summary>
public sealed class CreateOrderRequest
{
    public const int MaxChannelLength = 64;
    private const int MaxJsonDepth = 32;

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    private CreateOrderRequest(CreateOrderInput? input, ProblemHttpResult? problem)
    {
        Input = input;
        Problem = problem;
    }

    public CreateOrderInput? Input { get; }

    public ProblemHttpResult? Problem { get; }

    public static async ValueTask<CreateOrderRequest> BindAsync(HttpContext http)
    {
        var max = http.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value.MaxJsonBodyBytes;
        var body = await RequestBody.ReadAsync(http.Request, max, http.RequestAborted);
        if (body is null)
        {
            return new(null, PublicLimits.TooLarge(max));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = MaxJsonDepth });
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or DecoderFallbackException)
        {
            return new(null, Problems.Validation("body", "The body must be a JSON object."));
        }

        using (document)
        {
            return Read(document.RootElement);
        }
    }

    private static CreateOrderRequest Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return new(null, Problems.Validation("body", "The body must be a JSON object."));
        }

        var errors = new FieldErrors();
        long campaignId = 0;
        if (!root.TryGetProperty("campaignId", out var c) || c.ValueKind != JsonValueKind.Number || !c.TryGetInt64(out campaignId) || campaignId < 1)
        {
            errors.Add("campaignId", "campaignId (a positive integer) is required.");
        }

        var phone = String(root, "phone", 32, errors, required: true);
        var channel = String(root, "cId", MaxChannelLength, errors);
        var referral = String(root, "uId", 16, errors);
        var smsCode = String(root, "smsCode", 16, errors);
        var formData = EmptyObject;
        if (root.TryGetProperty("formData", out var f) && f.ValueKind != JsonValueKind.Null)
        {
            if (f.ValueKind == JsonValueKind.Object)
            {
                // A copy that outlives the request's document.
                formData = f.Clone();
            }
            else
            {
                errors.Add("formData", "formData must be an object.");
            }
        }

        if (errors.Any)
        {
            return new(null, Problems.Validation(errors));
        }

        return new(new CreateOrderInput(campaignId, phone!, formData, Empty(channel), Empty(referral), Empty(smsCode)), null);
    }

    private static string? Empty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private static string? String(JsonElement root, string name, int maxLength, FieldErrors errors, bool required = false)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                errors.Add(name, $"{name} is required.");
            }

            return null;
        }

        if (v.ValueKind != JsonValueKind.String)
        {
            errors.Add(name, $"{name} must be a string.");
            return null;
        }

        string? s;
        try
        {
            s = v.GetString();
        }
        catch (InvalidOperationException)
        {
            errors.Add(name, $"{name} is not valid text.");
            return null;
        }

        if (s is null || s.Length > maxLength)
        {
            errors.Add(name, $"{name} has at most {maxLength} characters.");
            return null;
        }

        return s;
    }
}

/// <summary>
/// Binds the admin order filter from the query string (<c>GET /api/v1/orders/export.csv</c>):
/// campaignId, status, payStatus, syncStatus, from, to, phone. Field errors are in <see cref="Errors"/>.
/// </summary>
public sealed class OrderFilterQuery
{
    internal static readonly IReadOnlySet<string> Statuses = new HashSet<string>(StringComparer.Ordinal)
        { OrderStatus.Pending, OrderStatus.Paid, OrderStatus.Closed, OrderStatus.Refunded };

    internal static readonly IReadOnlySet<string> PayStatuses = new HashSet<string>(StringComparer.Ordinal)
        { PayStatus.Unpaid, PayStatus.Paid, PayStatus.Refunded };

    internal static readonly IReadOnlySet<string> SyncStatuses = new HashSet<string>(StringComparer.Ordinal)
        { SyncStatus.None, SyncStatus.Pending, SyncStatus.Synced, SyncStatus.Failed };

    private OrderFilterQuery(OrderFilter filter, bool masksPhones, FieldErrors errors)
    {
        Filter = filter;
        MasksPhones = masksPhones;
        Errors = errors;
    }

    public OrderFilter Filter { get; }

    /// <summary>The caller is a viewer: phones are masked, and a phone filter must be the whole number.</summary>
    public bool MasksPhones { get; }

    public FieldErrors Errors { get; }

    public static ValueTask<OrderFilterQuery> BindAsync(HttpContext http) => ValueTask.FromResult(Read(http.Request.Query, http.User, new FieldErrors()));

    internal static OrderFilterQuery Read(IQueryCollection query, ClaimsPrincipal user, FieldErrors errors)
    {
        var mask = OrderEndpoints.MasksPhones(user);
        long? campaignId = null;
        if (query.TryGetValue("campaignId", out var c) && !string.IsNullOrEmpty(c))
        {
            if (long.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0)
            {
                campaignId = v;
            }
            else
            {
                errors.Add("campaignId", "campaignId is a positive integer.");
            }
        }

        var filter = new OrderFilter(
            campaignId,
            OneOf(query, "status", Statuses, errors),
            OneOf(query, "payStatus", PayStatuses, errors),
            OneOf(query, "syncStatus", SyncStatuses, errors),
            Time(query, "from", errors),
            Time(query, "to", errors),
            Phone(query, mask, errors));
        return new(filter, mask, errors);
    }

    private static string? OneOf(IQueryCollection query, string name, IReadOnlySet<string> allowed, FieldErrors errors)
    {
        if (!query.TryGetValue(name, out var v) || string.IsNullOrEmpty(v))
        {
            return null;
        }

        if (!allowed.Contains(v.ToString()))
        {
            errors.Add(name, $"{name} is one of {string.Join(", ", allowed)}.");
            return null;
        }

        return v.ToString();
    }

    private static DateTimeOffset? Time(IQueryCollection query, string name, FieldErrors errors)
    {
        if (!query.TryGetValue(name, out var v) || string.IsNullOrEmpty(v))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
        {
            return t;
        }

        errors.Add(name, $"{name} is an ISO 8601 time, e.g. 2026-12-01T00:00:00+08:00.");
        return null;
    }

    private static string? Phone(IQueryCollection query, bool wholeOnly, FieldErrors errors)
    {
        if (!query.TryGetValue("phone", out var v) || string.IsNullOrEmpty(v))
        {
            return null;
        }

        var s = v.ToString();
        if (s.Length > 11 || !s.All(char.IsAsciiDigit))
        {
            errors.Add("phone", "phone is 1 to 11 digits (a prefix or the full number).");
            return null;
        }

        // Prefix searches would let a viewer uncover masked digits one at a time.
        if (wholeOnly && s.Length != 11)
        {
            errors.Add("phone", "phone is the full 11-digit number for the viewer role.");
            return null;
        }

        return s;
    }
}

/// <summary>Binds the admin order list (<c>GET /api/v1/orders</c>): the filter, then page and pageSize.</summary>
public sealed class OrderListQuery
{
    public const int MaxPageSize = 200;

    private OrderListQuery(OrderFilterQuery where, int page, int pageSize)
    {
        Where = where;
        Page = page;
        PageSize = pageSize;
    }

    public OrderFilterQuery Where { get; }

    public int Page { get; }

    public int PageSize { get; }

    public FieldErrors Errors => Where.Errors;

    public static ValueTask<OrderListQuery> BindAsync(HttpContext http)
    {
        var query = http.Request.Query;
        var errors = new FieldErrors();
        var where = OrderFilterQuery.Read(query, http.User, errors);
        var page = Int(query, "page", 1, 1, 1_000_000, errors);
        var pageSize = Int(query, "pageSize", 20, 1, MaxPageSize, errors);
        return ValueTask.FromResult(new OrderListQuery(where, page, pageSize));
    }

    private static int Int(IQueryCollection query, string name, int fallback, int min, int max, FieldErrors errors)
    {
        if (!query.TryGetValue(name, out var v) || string.IsNullOrEmpty(v))
        {
            return fallback;
        }

        if (int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max)
        {
            return n;
        }

        errors.Add(name, string.Create(CultureInfo.InvariantCulture, $"{name} is {min} to {max}."));
        return fallback;
    }
}
