using System.Security.Claims;
using System.Text.Json;
using Dmh.Contracts;
using Dmh.Ingress.Audit;
using Dmh.Ingress.Campaigns;
using Dmh.Ingress.Exports;
using Dmh.Ingress.Forms;
using Dmh.Ingress.Http;
using Dmh.Ingress.Participants;
using Dmh.Ingress.Security;
using Dmh.Ingress.Stats;
using Dmh.Ingress.Sync;
using Dmh.WechatPay;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Orders;

/// <summary>The registrant's view of an order: no stored personal data beyond the masked phone.</summary>
public sealed record OrderRegistrantView(
    long Id, long CampaignId, string Status, string PayStatus, long AmountFen, string PhoneMasked,
    string? RegistrationCode, string? ReferralCode, string? AccessToken);

public sealed record OrderAdminView(
    long Id, long CampaignId, string? CampaignName, string Phone, JsonElement? FormData, string? ChannelId, long ReferrerId,
    string Status, string PayStatus, long AmountFen, string? TradeNo, DateTimeOffset? PaidAt, string SyncStatus, DateTimeOffset CreatedAt,
    string? ReferrerName = null, string? ReferrerPhoneMasked = null);

public sealed record OrderPage(IReadOnlyList<OrderAdminView> Items, long Total, int Page, int PageSize);

public sealed record PaymentView(long Id, int Attempt, string OutTradeNo, string Channel, long AmountFen, string Status, string? TransactionId, DateTimeOffset? SuccessTime, DateTimeOffset CreatedAt);

public sealed record OrderRewardView(
    long Id, long UserId, int Level, long AmountFen, long ReversedFen, string Status, DateTimeOffset? SettledAt, string? Name = null, string? PhoneMasked = null);

public sealed record OrderRefundView(string OutRefundNo, long AmountFen, string Status, string? Reason, DateTimeOffset CreatedAt, DateTimeOffset? SuccessTime);

public sealed record OrderSyncView(IReadOnlyList<SyncEndpoints.SyncEntry> Entries);

/// <param name="RefundableFen">What a paid order can still be refunded: the amount paid less the refunds that did not fail (0 unless paid).</param>
public sealed record OrderDetail(
    OrderAdminView Order, IReadOnlyList<PaymentView> Payments, IReadOnlyList<OrderRewardView> Rewards, OrderSyncView Sync,
    IReadOnlyList<OrderRefundView> Refunds, long RefundableFen);

/// <summary>Registration (public), the registrant's and admins' reads, the admin list, export and close (docs/API.md).</summary>
public static class OrderEndpoints
{
    // Stored as readable UTF-8 (admins, CSV, the syncer); the API re-encodes whatever it answers.
    private static readonly JsonSerializerOptions StoredJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static WebApplicationBuilder AddOrders(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<OrderStore>();
        builder.Services.AddOptions<RegistrationBatchOptions>().BindConfiguration(RegistrationBatchOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<RegistrationBatches>();
        builder.Services.AddHostedService(services => services.GetRequiredService<RegistrationBatches>());
        builder.Services.AddSingleton<FormDataValidator>();
        builder.Services.AddSingleton<FreeOrders>();
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
        group.MapGet("/export.xlsx", ExportXlsxAsync).RequireAuthorization(Policies.AdminRead);
        group.MapGet("/{id:long}/detail", DetailAsync).RequireAuthorization(Policies.AdminRead);
        group.MapPost("/{id:long}/close", CloseAsync).RequireAuthorization(Policies.AdminWrite);
        return app;
    }

    public static async Task<Results<Created<OrderRegistrantView>, Ok<OrderRegistrantView>, ProblemHttpResult>> CreateAsync(
        CreateOrderRequest request, HttpContext http, CampaignCache campaigns, OrderStore orders, RegistrationBatches registrations,
        FormDataValidator forms, OrderAccessTokens tokens,
        ISmsCodeVerifier sms, FreeOrders free, TimeProvider time, CancellationToken ct)
    {
        if (request.Problem is { } malformed)
        {
            return malformed;
        }

        var input = request.Input!;
        var campaign = await campaigns.FindAsync(input.CampaignId, ct);
        if (campaign is null || campaign.Status == StoredStatus.Draft)
        {
            return Problems.NotFound("The campaign");
        }

        var state = CampaignStatus.PublicState(CampaignStatus.Derive(campaign.Status, campaign.StartTime, campaign.EndTime, time.GetUtcNow()));
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
            var registration = await registrations.RegisterAsync(new NewOrder(
                input.CampaignId, input.Phone, formJson, input.ChannelId, input.ReferralCode, campaign.Price, sessionOpenid, phoneProven), ct);
            if (registration.Created)
            {
                var orderId = registration.Order.Id;
                var row = registration.Order;
                if (campaign.Price == 0)
                {
                    await free.CompleteAsync(orderId, ct);
                    row = (await orders.FindRegistrantAsync(orderId, ct))!;
                }

                return TypedResults.Created($"/api/v1/orders/{orderId}", RegistrantView(row, tokens.Issue(orderId, 1, expires)));
            }

            var existing = registration.Live;
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
                    if (campaign.Price == 0)
                    {
                        await free.CompleteAsync(existing.Id, ct);
                    }

                    return TypedResults.Ok(RegistrantView((await orders.FindRegistrantAsync(existing.Id, ct))!, tokens.Issue(existing.Id, version, expires)));
                case RepeatOutcome.AlreadyPaid:
                    return AlreadyRegistered();
                case RepeatOutcome.TokenRevoked:
                    return Problems.Of(StatusCodes.Status409Conflict, "registration-exists", "This order token has been revoked.",
                        "报名凭证已失效，请通过短信验证码验证本人后继续 (verify by SMS).");
            }

            // The order vanished (soft-deleted) while proving the repeat: register again.
            if (attempt >= 5)
            {
                throw new InvalidOperationException("The order of this phone kept changing while registering.");
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

    public static async Task<Results<Ok<OrderRegistrantView>, Ok<OrderAdminView>, ProblemHttpResult>> GetAsync(long id, HttpContext http, OrderAccessTokens tokens, OrderStore orders, CancellationToken ct)
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
            ? Problems.InvalidOrderToken()
            : Problems.Forbidden("This token does not give access to this order.");
    }

    public static async Task<Results<Ok<OrderPage>, ProblemHttpResult>> ListAsync(OrderListQuery query, OrderStore orders, CancellationToken ct)
    {
        if (query.Errors.Any)
        {
            return Problems.Validation(query.Errors);
        }

        var mask = query.Where.MasksPhones;
        var (items, total) = await orders.ListAsync(query.Where.Filter, query.Page, query.PageSize, ct);
        return TypedResults.Ok(new OrderPage(items.Select(r => AdminView(r, mask)).ToList(), total, query.Page, query.PageSize));
    }

    public static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> ExportAsync(
        OrderFilterQuery query, HttpContext http, OrderStore orders, AuditLog audit, CancellationToken ct)
    {
        if (query.Errors.Any)
        {
            return Problems.Validation(query.Errors);
        }

        await audit.WriteAsync(AuditEntry.Of(http, AuditActions.Export, "orders", detail: query.Filter), ct);
        return TypedResults.Stream(stream => OrderCsv.WriteAsync(stream, orders.StreamAsync(query.Filter, ct), query.MasksPhones, ct),
            "text/csv; charset=utf-8", "orders.csv");
    }

    /// <summary>The Excel export (docs/API.md, "Operator screens, exports and the audit log").</summary>
    public static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> ExportXlsxAsync(
        OrderFilterQuery query, HttpContext http, OrderStore orders, AuditLog audit, IOptions<StatsOptions> stats, TimeProvider time, CancellationToken ct)
    {
        if (query.Errors.Any)
        {
            return Problems.Validation(query.Errors);
        }

        var campaigns = await orders.ExportCampaignsAsync(query.Filter, ct);
        if (query.Filter.CampaignId is not null && campaigns.Count == 0)
        {
            return Problems.NotFound("The campaign");
        }

        var zone = stats.Value.ResolveZone();
        var name = OrderXlsx.FileName(query.Filter.CampaignId is null ? null : campaigns[0].Name, time.GetUtcNow(), zone);
        var form = OrderXlsx.FormColumns(campaigns);
        await audit.WriteAsync(AuditEntry.Of(http, AuditActions.Export, "orders", detail: query.Filter), ct);
        return TypedResults.Stream(stream => OrderXlsx.WriteAsync(stream, form, orders.StreamAsync(query.Filter, ct), zone, query.MasksPhones, ct),
            XlsxWriter.ContentType, name);
    }

    public static async Task<Results<Ok<OrderDetail>, ProblemHttpResult>> DetailAsync(long id, ClaimsPrincipal user, OrderStore orders, CancellationToken ct)
    {
        if (await orders.FindAdminAsync(id, ct) is not { } row)
        {
            return Problems.NotFound("The order");
        }

        var (payments, rewards, sync, refunds) = await orders.FindDetailAsync(id, ct);
        var view = AdminView(row, MasksPhones(user));
        var refundable = view.PayStatus is PayStatus.Paid or PayStatus.Refunded
            ? Math.Max(0, view.AmountFen - refunds.Where(f => f.Status != "closed").Sum(f => f.AmountFen))
            : 0;
        return TypedResults.Ok(new OrderDetail(
            view,
            payments.Select(p => new PaymentView(p.Id, p.Attempt, p.OutTradeNo, p.Channel, p.AmountFen, p.Status, p.TransactionId, Utc(p.SuccessTime), Utc(p.CreatedAt))).ToList(),
            rewards.Select(r => new OrderRewardView(r.Id, r.UserId, r.Level, OrderStore.Fen(r.Amount), r.ReversedFen, r.Status, Utc(r.SettledAt),
                r.Name, r.Phone is null ? null : PhoneNumbers.Mask(r.Phone))).ToList(),
            new OrderSyncView(sync.Select(s => new SyncEndpoints.SyncEntry(s.Entity, s.EntityId, s.Status, s.Attempts, s.LastError, Utc(s.SyncedAt), Utc(s.UpdatedAt))).ToList()),
            refunds.Select(f => new OrderRefundView(f.OutRefundNo, f.AmountFen, f.Status, f.Reason, Utc(f.CreatedAt), Utc(f.SuccessTime))).ToList(),
            refundable));
    }

    public static async Task<Results<Ok<OrderAdminView>, ProblemHttpResult>> CloseAsync(
        long id, HttpContext http, OrderStore orders, IPaymentProvider provider, ILogger<OrderStore> logger, CancellationToken ct)
    {
        var (outcome, prepaid) = await orders.CloseAsync(id, ct, AuditEntry.Of(http, AuditActions.OrderClose, "order", id));
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

    public static OrderRegistrantView RegistrantView(RegistrantOrderRow row, string? accessToken)
    {
        var paid = row.PayStatus == PayStatus.Paid;
        return new OrderRegistrantView(row.Id, row.CampaignId, row.Status, row.PayStatus, OrderStore.Fen(row.Amount), PhoneNumbers.Mask(row.Phone),
            paid ? row.RegistrationCode : null, paid ? row.ReferralCode : null, accessToken);
    }

    public static OrderAdminView AdminView(AdminOrderRow r, bool maskPhone = false) => new(
        r.Id, r.CampaignId, r.CampaignName, maskPhone ? PhoneNumbers.Mask(r.Phone) : r.Phone, ParseJson(r.FormData), r.ChannelId, r.ReferrerId, r.Status, r.PayStatus,
        OrderStore.Fen(r.Amount), r.TradeNo, Utc(r.PaidAt), r.SyncStatus, Utc(r.CreatedAt),
        r.ReferrerId > 0 ? r.ReferrerName : null, r.ReferrerId > 0 && r.ReferrerPhone is { } rp ? PhoneNumbers.Mask(rp) : null);

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
