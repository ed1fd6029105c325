using System.Globalization;
using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using System.Text.RegularExpressions;
using Dmh.Ingress.Audit;
using Dmh.Ingress.Campaigns;
using Dmh.Ingress.Exports;
using Dmh.Ingress.Http;
using Dmh.Ingress.Orders;
using Dmh.Ingress.Participants;
using Dmh.Ingress.Security;
using Dmh.Ingress.Stats;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.CheckIns;

public sealed record CheckInRequest(string? Code, string? Method);

public sealed record UndoCheckInRequest(string? Reason);

public sealed record ActiveCheckInView(long Id, DateTimeOffset CheckedInAt, string? CheckedInBy, string Method);

/// <summary>What the check-in desk sees for a code: who (form name, masked phone), which campaign, paid or not, checked in or not.</summary>
public sealed record CheckInCard(
    long OrderId, long CampaignId, string? CampaignName, string? Name, string PhoneMasked, string Status, long AmountFen,
    string RegistrationCode, DateTimeOffset? PaidAt, ActiveCheckInView? CheckIn);

public sealed record CheckInView(
    long Id, long OrderId, long CampaignId, string? CampaignName, string? Name, string PhoneMasked, string RegistrationCode,
    DateTimeOffset CheckedInAt, string? CheckedInBy, string Method, DateTimeOffset? UndoneAt, string? UndoneBy, string? UndoReason);

public sealed record CheckInPage(IReadOnlyList<CheckInView> Items, long Total, int Page, int PageSize);

public sealed record CheckInSummary(long? CampaignId, long Paid, long CheckedIn);

/// <summary>Check-in (核销) of paid registrations by staff, operators and admins (docs/API.md, "Check-in and my registrations").</summary>
public static partial class CheckInEndpoints
{
    public const string Typed = "typed";
    public const string Scan = "scan";

    public static WebApplicationBuilder AddCheckIns(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<CheckInOptions>()
            .BindConfiguration(CheckInOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<CheckInStore>();
        builder.Services.AddSingleton<CheckInThrottle>();
        return builder;
    }

    public static IEndpointRouteBuilder MapCheckInEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/check-ins").WithTags("Check-in");
        group.MapGet("/lookup", LookupAsync).RequireAuthorization(Policies.CheckIn);
        group.MapPost("/", CheckInAsync).RequireAuthorization(Policies.CheckIn);
        group.MapPost("/{id:long}/undo", UndoAsync).RequireAuthorization(Policies.CheckIn);
        group.MapGet("/", ListAsync).RequireAuthorization(Policies.Console);
        group.MapGet("/summary", SummaryAsync).RequireAuthorization(Policies.Console);
        group.MapGet("/export.csv", ExportAsync).RequireAuthorization(Policies.AdminRead);
        group.MapGet("/export.xlsx", ExportXlsxAsync).RequireAuthorization(Policies.AdminRead);
        return app;
    }

    public static async Task<Results<Ok<CheckInCard>, ProblemHttpResult>> LookupAsync(
        string? code, ClaimsPrincipal user, CheckInStore store, CheckInThrottle throttle, HttpContext http, CancellationToken ct)
    {
        if (Normalize(code) is not { } normalized)
        {
            return BadCode();
        }

        if (await Throttled(throttle, user, http) is { } wait)
        {
            return wait;
        }

        if (await store.FindByCodeAsync(normalized, ct) is not { } card)
        {
            await throttle.MissAsync(AdminId(user));
            return UnknownCode();
        }

        return TypedResults.Ok(Card(card));
    }

    public static async Task<Results<Created<CheckInCard>, ProblemHttpResult>> CheckInAsync(
        CheckInRequest? request, ClaimsPrincipal user, CheckInStore store, CheckInThrottle throttle, HttpContext http, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var code = Normalize(request?.Code);
        if (code is null)
        {
            errors.Add("code", CodeRule);
        }

        var method = request?.Method ?? Typed;
        if (method is not (Typed or Scan))
        {
            errors.Add("method", "method must be \"typed\" or \"scan\".");
        }

        if (errors.Any)
        {
            return Problems.Validation(errors);
        }

        if (await Throttled(throttle, user, http) is { } wait)
        {
            return wait;
        }

        var (outcome, card) = await store.CheckInAsync(code!, AdminId(user), method, ct, AuditEntry.Of(http, AuditActions.CheckIn));
        switch (outcome)
        {
            case CheckInOutcome.NotFound:
                await throttle.MissAsync(AdminId(user));
                return UnknownCode();
            case CheckInOutcome.NotPaid:
                return WithCard(StatusCodes.Status409Conflict, "not-checkable", "Only a paid registration can be checked in.",
                    card!.Status == "refunded" ? "该报名已退款，不能核销 (refunded)." : "该报名尚未支付，不能核销 (not paid).", card);
            case CheckInOutcome.AlreadyCheckedIn:
                return WithCard(StatusCodes.Status409Conflict, "already-checked-in", "This registration is already checked in.",
                    "该报名码已核销 (already checked in; undo it first to check in again).", card!);
            default:
                return TypedResults.Created($"/api/v1/check-ins/{card!.CheckInId}", Card(card));
        }
    }

    public static async Task<Results<Ok<CheckInView>, ProblemHttpResult>> UndoAsync(
        long id, UndoCheckInRequest? request, HttpContext http, CheckInStore store, CancellationToken ct)
    {
        var reason = request?.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > 200)
        {
            return Problems.Validation("reason", "撤销原因必填，最多 200 字 (a reason of 1-200 characters is required).");
        }

        var (outcome, row) = await store.UndoAsync(id, AdminId(http.User), reason, ct, AuditEntry.Of(http, AuditActions.CheckInUndo, "check-in", id, new { reason }));
        return outcome switch
        {
            UndoOutcome.NotFound => Problems.NotFound("The check-in"),
            UndoOutcome.AlreadyUndone => Problems.Of(StatusCodes.Status409Conflict, "already-undone", "This check-in is already undone."),
            _ => TypedResults.Ok(View(row!)),
        };
    }

    public static async Task<Results<Ok<CheckInPage>, ProblemHttpResult>> ListAsync(
        CheckInStore store, CancellationToken ct, long? campaignId = null, bool includeUndone = false, int page = 1, int pageSize = 20)
    {
        if (page < 1 || pageSize is < 1 or > 100)
        {
            return Problems.InvalidPaging("page ≥ 1 and pageSize 1-100.");
        }

        var (items, total) = await store.ListAsync(campaignId, includeUndone, page, pageSize, ct);
        return TypedResults.Ok(new CheckInPage(items.Select(View).ToList(), total, page, pageSize));
    }

    public static async Task<Ok<CheckInSummary>> SummaryAsync(CheckInStore store, CancellationToken ct, long? campaignId = null)
    {
        var (paid, checkedIn) = await store.SummaryAsync(campaignId, ct);
        return TypedResults.Ok(new CheckInSummary(campaignId, paid, checkedIn));
    }

    public static async Task<PushStreamHttpResult> ExportAsync(
        HttpContext http, CheckInStore store, AuditLog audit, IOptions<StatsOptions> stats, TimeProvider time, CancellationToken ct, long? campaignId = null)
    {
        await audit.WriteAsync(AuditEntry.Of(http, AuditActions.Export, "check-ins", detail: new { campaignId }), ct);
        var zone = stats.Value.ResolveZone();
        var day = TimeZoneInfo.ConvertTime(time.GetUtcNow(), zone).ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var name = campaignId is { } id ? $"check-ins-campaign-{id}-{day}.csv" : $"check-ins-{day}.csv";
        return TypedResults.Stream(stream => CheckInCsv.WriteAsync(stream, store.StreamAsync(campaignId, ct), zone, OrderEndpoints.MasksPhones(http.User), ct),
            "text/csv; charset=utf-8", name);
    }

    public static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> ExportXlsxAsync(
        HttpContext http, CheckInStore store, CampaignStore campaigns, AuditLog audit, IOptions<StatsOptions> stats, TimeProvider time, CancellationToken ct,
        long? campaignId = null)
    {
        string? campaignName = null;
        if (campaignId is { } id)
        {
            if (await campaigns.FindAsync(id, ct) is not { } campaign)
            {
                return Problems.NotFound("The campaign");
            }

            campaignName = campaign.Name;
        }

        var zone = stats.Value.ResolveZone();
        var day = TimeZoneInfo.ConvertTime(time.GetUtcNow(), zone).ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var name = $"核销记录-{(campaignName is null ? "全部活动" : StatusWords.FileNamePart(campaignName))}-{day}.xlsx";
        await audit.WriteAsync(AuditEntry.Of(http, AuditActions.Export, "check-ins", detail: new { campaignId }), ct);
        return TypedResults.Stream(stream => CheckInXlsx.WriteAsync(stream, store.StreamAsync(campaignId, ct), zone, OrderEndpoints.MasksPhones(http.User), ct),
            XlsxWriter.ContentType, name);
    }

    /// <summary>Upper case without spaces or dashes, so a code read aloud or typed loosely still matches; null when it cannot be one.</summary>
    public static string? Normalize(string? code)
    {
        if (code is null)
        {
            return null;
        }

        var s = code.Trim().Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();
        return CodePattern().IsMatch(s) ? s : null;
    }

    private const string CodeRule = "报名码为 4-16 位字母或数字 (a registration code: 4-16 letters or digits).";

    private static ProblemHttpResult BadCode() => Problems.Validation("code", CodeRule);

    private static ProblemHttpResult UnknownCode() =>
        Problems.Of(StatusCodes.Status404NotFound, "unknown-code", "No registration has this code.", "未找到该报名码，请核对后重试 (no registration has this code).");

    private static async Task<ProblemHttpResult?> Throttled(CheckInThrottle throttle, ClaimsPrincipal user, HttpContext http) =>
        await throttle.WaitAsync(AdminId(user)) is { } wait
            ? PublicLimits.TooManyRequests(http, wait, "查询过多不存在的报名码，请稍后再试 (too many unknown codes; try again later).")
            : null;

    private static ProblemHttpResult WithCard(int status, string slug, string title, string detail, CheckInCardRow card) =>
        Problems.Of(status, slug, title, detail, new Dictionary<string, object?> { ["registration"] = Card(card) });

    private static long AdminId(ClaimsPrincipal user) =>
        long.Parse(user.FindFirstValue(JwtRegisteredClaimNames.Sub)!, CultureInfo.InvariantCulture);

    private static CheckInCard Card(CheckInCardRow r) => new(
        r.OrderId, r.CampaignId, r.CampaignName, r.Name, PhoneNumbers.Mask(r.Phone), r.Status, OrderStore.Fen(r.Amount), r.RegistrationCode,
        Utc(r.PaidAt), r.CheckInId is { } id ? new ActiveCheckInView(id, Utc(r.CheckedInAt!.Value), r.CheckedInBy, r.Method ?? Typed) : null);

    private static CheckInView View(CheckInRow r) => new(
        r.Id, r.OrderId, r.CampaignId, r.CampaignName, r.Name, PhoneNumbers.Mask(r.Phone), r.RegistrationCode,
        Utc(r.CheckedInAt), r.CheckedInBy, r.Method, Utc(r.UndoneAt), r.UndoneBy, r.UndoReason);

    private static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));

    private static DateTimeOffset? Utc(DateTime? t) => t is { } v ? Utc(v) : null;

    [GeneratedRegex("^[A-Z0-9]{4,16}$")]
    private static partial Regex CodePattern();
}
