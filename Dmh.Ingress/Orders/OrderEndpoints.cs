using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Dmh.Contracts;
using Dmh.Ingress.Campaigns;
using Dmh.Ingress.Forms;
using Dmh.Ingress.Http;
using Dmh.Ingress.Participants;
using Dmh.Ingress.Security;
using Dmh.Ingress.Sync;
using Dmh.WechatPay;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using CampaignState = Dmh.Ingress.Campaigns.CampaignStatus;

namespace Dmh.Ingress.Orders;

/// <summary>The registrant's view of an order: no stored personal data beyond the masked phone.</summary>
public sealed record OrderRegistrantView(
    long Id, long CampaignId, string Status, string PayStatus, long AmountFen, string PhoneMasked,
    string? RegistrationCode, string? ReferralCode, string? AccessToken);

public sealed record OrderAdminView(
    long Id, long CampaignId, string? CampaignName, string Phone, JsonElement? FormData, string? ChannelId, long ReferrerId,
    string Status, string PayStatus, long AmountFen, string? TradeNo, DateTimeOffset? PaidAt, string SyncStatus, DateTimeOffset CreatedAt);

public sealed record OrderPage(IReadOnlyList<OrderAdminView> Items, long Total, int Page, int PageSize);

public sealed record PaymentView(long Id, int Attempt, string OutTradeNo, string Channel, long AmountFen, string Status, string? TransactionId, DateTimeOffset? SuccessTime, DateTimeOffset CreatedAt);

public sealed record OrderRewardView(long Id, long UserId, long AmountFen, string Status, DateTimeOffset? SettledAt);

public sealed record OrderSyncView(IReadOnlyList<SyncEndpoints.SyncEntry> Entries);

public sealed record OrderDetail(OrderAdminView Order, IReadOnlyList<PaymentView> Payments, IReadOnlyList<OrderRewardView> Rewards, OrderSyncView Sync);

/// <summary>Registration (public), the registrant's and admins' reads, the admin list, export and close (docs/API.md).</summary>
public static class OrderEndpoints
{
    public const int MaxPageSize = 200;
    public const int MaxChannelLength = 64;
    private const int MaxJsonDepth = 32;

    // Stored as readable UTF-8 (admins, CSV, the syncer); the API re-encodes whatever it answers.
    private static readonly JsonSerializerOptions StoredJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly IReadOnlySet<string> Statuses = new HashSet<string>(StringComparer.Ordinal)
        { OrderStatus.Pending, OrderStatus.Paid, OrderStatus.Closed, OrderStatus.Refunded };

    private static readonly IReadOnlySet<string> PayStatuses = new HashSet<string>(StringComparer.Ordinal)
        { PayStatus.Unpaid, PayStatus.Paid, PayStatus.Refunded };

    private static readonly IReadOnlySet<string> SyncStatuses = new HashSet<string>(StringComparer.Ordinal)
        { SyncStatus.None, SyncStatus.Pending, SyncStatus.Synced, SyncStatus.Failed };

    public static WebApplicationBuilder AddOrders(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<OrderStore>();
        builder.Services.AddSingleton<FormDataValidator>();
        builder.AddPublicLimits();
        return builder;
    }

    public static IEndpointRouteBuilder MapOrderEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/orders").WithTags("Orders");
        group.MapPost("/", CreateAsync).AllowAnonymous().WithName("CreateOrder");
        group.MapGet("/{id:long}", GetAsync).AllowAnonymous();
        group.MapGet("/", ListAsync).RequireAuthorization(Policies.AdminRead);
        group.MapGet("/export.csv", ExportAsync).RequireAuthorization(Policies.AdminRead);
        group.MapGet("/{id:long}/detail", DetailAsync).RequireAuthorization(Policies.AdminRead);
        group.MapPost("/{id:long}/close", CloseAsync).RequireAuthorization(Policies.AdminWrite);
        return app;
    }

    private sealed record CreateInput(long CampaignId, string Phone, JsonElement FormData, string? ChannelId, string? ReferralCode, string? SmsCode);

    public static async Task<IResult> CreateAsync(
        HttpContext http, CampaignStore campaigns, OrderStore orders, FormDataValidator forms, OrderAccessTokens tokens,
        ISmsCodeVerifier sms, IOptions<RateLimitOptions> limits, TimeProvider time, CancellationToken ct)
    {
        var max = limits.Value.MaxJsonBodyBytes;
        var body = await ReadBodyAsync(http.Request, max, ct);
        if (body is null)
        {
            return PublicLimits.TooLarge(max);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = MaxJsonDepth });
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or DecoderFallbackException)
        {
            return Problems.Validation("body", "The body must be a JSON object.");
        }

        using (document)
        {
            var (input, shape) = ReadInput(document.RootElement);
            if (shape is not null)
            {
                return shape;
            }

            var campaign = await campaigns.FindAsync(input!.CampaignId, ct);
            if (campaign is null || campaign.Status == StoredStatus.Draft)
            {
                return Problems.NotFound("The campaign");
            }

            var state = CampaignState.PublicState(CampaignState.Derive(campaign.Status, campaign.StartTime, campaign.EndTime, time.GetUtcNow()));
            if (state != "live")
            {
                return Problems.Of(StatusCodes.Status409Conflict, "campaign-not-live", "The campaign is not open for registration.",
                    state switch
                    {
                        "not_started" => "活动尚未开始 (the campaign has not started yet).",
                        "ended" => "活动已结束 (the campaign has ended).",
                        _ => "活动已下线 (the campaign is offline).",
                    });
            }

            var errors = new FieldErrors();
            if (!PhoneNumbers.IsMainlandMobile(input.Phone))
            {
                errors.Add("phone", "请输入正确的手机号 (a mainland mobile number: 11 digits starting 13-19).");
            }

            try
            {
                await forms.ValidateAsync(campaign.FormFields, input.FormData, errors);
            }
            catch (Exception ex) when (ex is JsonException or Newtonsoft.Json.JsonException or InvalidOperationException or ArgumentException)
            {
                errors.Add("formData", "The form data could not be checked against the form.");
            }

            if (campaign.RequireSms && string.IsNullOrEmpty(input.SmsCode))
            {
                errors.Add("smsCode", "This campaign needs the SMS code sent to the phone.");
            }

            if (errors.Any)
            {
                return Problems.Validation(errors.ToDictionary(), StatusCodes.Status422UnprocessableEntity);
            }

            // A given code is always checked (it is the proof of a repeat registration too); once verified it is used up.
            var phoneProven = false;
            if (input.SmsCode is not null)
            {
                if (!await sms.VerifyAsync(input.Phone, input.SmsCode, ct))
                {
                    return Problems.Validation("smsCode", "验证码错误或已过期 (the SMS code is wrong or expired).", StatusCodes.Status422UnprocessableEntity);
                }

                phoneProven = true;
            }

            var formJson = JsonSerializer.Serialize(input.FormData, StoredJson);
            var expires = tokens.ExpiryFor(campaign.EndTime);
            var sessionOpenid = http.User.WechatOpenid();
            for (var attempt = 1; ; attempt++)
            {
                var existing = await orders.FindLiveAsync(input.CampaignId, input.Phone, ct);
                if (existing is null)
                {
                    var created = await orders.InsertAsync(new NewOrder(
                        input.CampaignId, input.Phone, formJson, input.ChannelId, input.ReferralCode, campaign.Price, sessionOpenid, phoneProven), ct);
                    if (created is { } orderId)
                    {
                        var view = RegistrantView((await orders.FindRegistrantAsync(orderId, ct))!, tokens.Issue(orderId, 1, expires));
                        return TypedResults.Created($"/api/v1/orders/{orderId}", view);
                    }
                }
                else
                {
                    if (existing.PayStatus != PayStatus.Unpaid)
                    {
                        return AlreadyRegistered();
                    }

                    var proof = Proof(existing, http, tokens, phoneProven);
                    if (proof is null)
                    {
                        return Problems.Of(StatusCodes.Status409Conflict, "registration-exists", "This phone already has an unpaid registration.",
                            "该手机号已提交过报名，请通过短信验证码验证本人后继续 (prove it is you: send smsCode, the code POST /api/v1/auth/sms/send sent to this phone).");
                    }

                    var (outcome, version) = await orders.UpdateProvenAsync(existing.Id, new ProvenRepeat(
                        formJson, campaign.Price,
                        RequiredTokenVersion: proof == RepeatProof.OrderToken ? existing.TokenVersion : null,
                        Revoke: proof != RepeatProof.OrderToken,
                        OpenidToAttach: phoneProven && sessionOpenid != existing.ParticipantOpenid ? sessionOpenid : null), ct);
                    switch (outcome)
                    {
                        case RepeatOutcome.Updated:
                            return TypedResults.Ok(RegistrantView((await orders.FindRegistrantAsync(existing.Id, ct))!, tokens.Issue(existing.Id, version, expires)));
                        case RepeatOutcome.AlreadyPaid:
                            return AlreadyRegistered();
                        case RepeatOutcome.TokenRevoked:
                            return Problems.Of(StatusCodes.Status409Conflict, "registration-exists", "This order token has been revoked.",
                                "报名凭证已失效，请通过短信验证码验证本人后继续 (verify by SMS).");
                    }
                }

                // Lost a race with another registration of this phone (or the order vanished): read it again.
                if (attempt >= 5)
                {
                    throw new InvalidOperationException("The order of this phone kept changing while registering.");
                }
            }
        }
    }

    private enum RepeatProof
    {
        OrderToken,
        SmsCode,
        Session,
    }

    /// <summary>
    /// How the caller of a repeat registration proved to be the registrant, or null: the order's valid
    /// token, then an SMS code for the phone (checked already), then an H5 session of the order's participant
    /// (signed in by SMS as that participant, or by WeChat with the participant's openid).
    /// </summary>
    private static RepeatProof? Proof(LiveOrder order, HttpContext http, OrderAccessTokens tokens, bool phoneProven)
    {
        if (tokens.Read(http.Request.Headers[OrderAccessTokens.HeaderName], order.Id) is { } token && token.Version == order.TokenVersion)
        {
            return RepeatProof.OrderToken;
        }

        if (phoneProven)
        {
            return RepeatProof.SmsCode;
        }

        var openid = http.User.WechatOpenid();
        return http.User.ParticipantId() == order.ParticipantId || (openid is not null && openid == order.ParticipantOpenid)
            ? RepeatProof.Session
            : null;
    }

    private static ProblemHttpResult AlreadyRegistered() =>
        Problems.Of(StatusCodes.Status409Conflict, "already-registered", "This phone is already registered.",
            "该手机号已报名并完成支付 (this phone has already registered and paid for this campaign).");

    /// <summary>The body, or null when it is over the limit (chunked bodies have no Content-Length to check up front).</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int max, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > max)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }

        return buffer.ToArray();
    }

    /// <summary>400 for a malformed body (wrong shapes, missing campaignId), else the input.</summary>
    private static (CreateInput? Input, IResult? Problem) ReadInput(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, Problems.Validation("body", "The body must be a JSON object."));
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
        JsonElement formData = default;
        if (!root.TryGetProperty("formData", out formData) || formData.ValueKind == JsonValueKind.Null)
        {
            formData = JsonDocument.Parse("{}").RootElement;
        }
        else if (formData.ValueKind != JsonValueKind.Object)
        {
            errors.Add("formData", "formData must be an object.");
        }

        if (errors.Any)
        {
            return (null, Problems.Validation(errors.ToDictionary()));
        }

        return (new CreateInput(campaignId, phone!, formData, Empty(channel), Empty(referral), Empty(smsCode)), null);
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

    public static async Task<IResult> GetAsync(long id, HttpContext http, OrderAccessTokens tokens, OrderStore orders, CancellationToken ct)
    {
        var token = http.Request.Headers[OrderAccessTokens.HeaderName].ToString();
        if (!string.IsNullOrEmpty(token) && await tokens.IsValidAsync(token, id, ct))
        {
            return await orders.FindRegistrantAsync(id, ct) is { } row ? TypedResults.Ok(RegistrantView(row, null)) : Problems.NotFound("The order");
        }

        if (http.User.IsAdmin())
        {
            return await orders.FindAdminAsync(id, ct) is { } admin ? TypedResults.Ok(AdminView(admin, MasksPhones(http.User))) : Problems.NotFound("The order");
        }

        return string.IsNullOrEmpty(token) && http.User.Identity?.IsAuthenticated != true
            ? Problems.Of(StatusCodes.Status401Unauthorized, "invalid-order-token", "A valid X-Order-Token for this order is required.")
            : Problems.Of(StatusCodes.Status403Forbidden, "forbidden", "This token does not give access to this order.");
    }

    public static async Task<IResult> ListAsync(HttpRequest request, OrderStore orders, CancellationToken ct)
    {
        var mask = MasksPhones(request.HttpContext.User);
        var errors = new FieldErrors();
        var filter = ReadFilter(request.Query, mask, errors);
        var page = Int(request.Query, "page", 1, 1, 1_000_000, errors);
        var pageSize = Int(request.Query, "pageSize", 20, 1, MaxPageSize, errors);
        if (errors.Any)
        {
            return Problems.Validation(errors.ToDictionary());
        }

        var (items, total) = await orders.ListAsync(filter, page, pageSize, ct);
        return TypedResults.Ok(new OrderPage(items.Select(r => AdminView(r, mask)).ToList(), total, page, pageSize));
    }

    public static IResult ExportAsync(HttpRequest request, OrderStore orders)
    {
        var mask = MasksPhones(request.HttpContext.User);
        var errors = new FieldErrors();
        var filter = ReadFilter(request.Query, mask, errors);
        if (errors.Any)
        {
            return Problems.Validation(errors.ToDictionary());
        }

        var ct = request.HttpContext.RequestAborted;
        return TypedResults.Stream(stream => OrderCsv.WriteAsync(stream, orders.StreamAsync(filter, ct), mask, ct),
            "text/csv; charset=utf-8", "orders.csv");
    }

    public static async Task<IResult> DetailAsync(long id, ClaimsPrincipal user, OrderStore orders, CancellationToken ct)
    {
        if (await orders.FindAdminAsync(id, ct) is not { } row)
        {
            return Problems.NotFound("The order");
        }

        var (payments, rewards, sync) = await orders.FindDetailAsync(id, ct);
        return TypedResults.Ok(new OrderDetail(
            AdminView(row, MasksPhones(user)),
            payments.Select(p => new PaymentView(p.Id, p.Attempt, p.OutTradeNo, p.Channel, p.AmountFen, p.Status, p.TransactionId, Utc(p.SuccessTime), Utc(p.CreatedAt))).ToList(),
            rewards.Select(r => new OrderRewardView(r.Id, r.UserId, OrderStore.Fen(r.Amount), r.Status, Utc(r.SettledAt))).ToList(),
            new OrderSyncView(sync.Select(s => new SyncEndpoints.SyncEntry(s.Entity, s.EntityId, s.Status, s.Attempts, s.LastError, Utc(s.SyncedAt), Utc(s.UpdatedAt))).ToList())));
    }

    public static async Task<IResult> CloseAsync(long id, OrderStore orders, IPaymentProvider provider, ILogger<OrderStore> logger, CancellationToken ct)
    {
        var (outcome, prepaid) = await orders.CloseAsync(id, ct);
        switch (outcome)
        {
            case OrderStore.CloseOutcome.NotFound:
                return Problems.NotFound("The order");
            case OrderStore.CloseOutcome.NotUnpaid:
                return Problems.Of(StatusCodes.Status409Conflict, "not-closable", "Only an unpaid order can be closed.");
        }

        if (prepaid is not null)
        {
            try
            {
                await provider.CloseAsync(prepaid, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The trade stays open at WeChat until it expires; reconciliation closes it later.
                logger.LogWarning(ex, "Closing {OutTradeNo} at the payment provider failed", prepaid);
            }
        }

        return TypedResults.Ok(AdminView((await orders.FindAdminAsync(id, ct))!));
    }

    /// <summary>The viewer role sees phones masked (<c>138****5678</c>); admin and operator see them whole.</summary>
    public static bool MasksPhones(ClaimsPrincipal user) => !user.IsInRole(AdminRoles.Admin) && !user.IsInRole(AdminRoles.Operator);

    private static OrderFilter ReadFilter(IQueryCollection query, bool wholePhoneOnly, FieldErrors errors)
    {
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

        return new OrderFilter(
            campaignId,
            OneOf(query, "status", Statuses, errors),
            OneOf(query, "payStatus", PayStatuses, errors),
            OneOf(query, "syncStatus", SyncStatuses, errors),
            Time(query, "from", errors),
            Time(query, "to", errors),
            Phone(query, wholePhoneOnly, errors));
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

    public static OrderRegistrantView RegistrantView(RegistrantOrderRow row, string? accessToken)
    {
        var paid = row.PayStatus == PayStatus.Paid;
        return new OrderRegistrantView(row.Id, row.CampaignId, row.Status, row.PayStatus, OrderStore.Fen(row.Amount), PhoneNumbers.Mask(row.Phone),
            paid ? row.RegistrationCode : null, paid ? row.ReferralCode : null, accessToken);
    }

    public static OrderAdminView AdminView(AdminOrderRow r, bool maskPhone = false) => new(
        r.Id, r.CampaignId, r.CampaignName, maskPhone ? PhoneNumbers.Mask(r.Phone) : r.Phone, ParseJson(r.FormData), r.ChannelId, r.ReferrerId, r.Status, r.PayStatus,
        OrderStore.Fen(r.Amount), r.TradeNo, Utc(r.PaidAt), r.SyncStatus, Utc(r.CreatedAt));

    private static JsonElement? ParseJson(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    private static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));

    private static DateTimeOffset? Utc(DateTime? t) => t is { } v ? Utc(v) : null;
}
