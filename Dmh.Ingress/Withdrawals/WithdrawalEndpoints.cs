using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Dmh.Ingress.Http;
using Dmh.Ingress.Participants;
using Dmh.Ingress.Security;
using Dmh.Platform.Withdrawals;
using Dmh.WechatPay;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Withdrawals;

/// <summary>Withdrawals (issue 18): the participant's requests (H5) and their review and payout (admin). docs/API.md "Withdrawals".</summary>
public static class WithdrawalEndpoints
{
    public const int MaxPageSize = 100;

    public static WebApplicationBuilder AddWithdrawals(this WebApplicationBuilder builder)
    {
        builder.AddWithdrawalOptions();
        builder.Services.AddSingleton<WithdrawalStore>();
        builder.Services.AddSingleton<WithdrawalTransfers>();
        return builder;
    }

    public static IEndpointRouteBuilder MapWithdrawalEndpoints(this IEndpointRouteBuilder app)
    {
        var mine = app.MapGroup("/api/v1/me/withdrawals").WithTags("Withdrawals").RequireAuthorization(Policies.Participant);
        mine.MapGet("/", GetMineAsync);
        mine.MapPost("/", RequestAsync);
        mine.MapPost("/{id:long}/confirmed", ConfirmedAsync);

        var admin = app.MapGroup("/api/v1/withdrawals").WithTags("Withdrawals");
        admin.MapGet("/", ListAsync).RequireAuthorization(Policies.AdminRead);
        admin.MapGet("/export", ExportAsync).RequireAuthorization(Policies.AdminRead);
        admin.MapPost("/{id:long}/approve", ApproveAsync).RequireAuthorization(Policies.AdminWrite);
        admin.MapPost("/{id:long}/reject", RejectAsync).RequireAuthorization(Policies.AdminWrite);
        admin.MapPost("/{id:long}/payout", PayoutAsync).RequireAuthorization(Policies.AdminWrite);
        return app;
    }

    private static async Task<Results<Ok<MyWithdrawals>, ProblemHttpResult>> GetMineAsync(
        ClaimsPrincipal user, WithdrawalStore store, IOptions<WechatPayOptions> wechat, CancellationToken ct)
    {
        if (user.ParticipantId() is not { } id)
        {
            return NotParticipant();
        }

        var (balance, blocked, items) = await store.ReadMineAsync(id, ct);
        var o = store.Options;
        return TypedResults.Ok(new MyWithdrawals(o.Mode, balance.AvailableFen, balance.WithdrawingFen, balance.PaidOutFen,
            blocked is null && balance.AvailableFen >= o.MinFen, blocked, Limits(o), items.Select(w => Mine(w, wechat.Value)).ToList()));
    }

    private static async Task<Results<Created<MyWithdrawal>, ProblemHttpResult>> RequestAsync(
        WithdrawalRequest? body, ClaimsPrincipal user, WithdrawalStore store, IOptions<WechatPayOptions> wechat, CancellationToken ct)
    {
        if (user.ParticipantId() is not { } id)
        {
            return NotParticipant();
        }

        var o = store.Options;
        if (body is null || body.AmountFen.ValueKind != JsonValueKind.Number || !body.AmountFen.TryGetInt64(out var amount)
            || amount < o.MinFen || amount > o.MaxFenPerRequest)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, "withdrawal-amount", "The amount is not allowed.",
                $"amountFen is a whole number of fen from {o.MinFen} to {o.MaxFenPerRequest}.");
        }

        var (outcome, row) = await store.RequestAsync(id, amount, ct);
        return outcome switch
        {
            RequestOutcome.Created => TypedResults.Created($"/api/v1/me/withdrawals/{row!.Id}", Mine(row, wechat.Value)),
            RequestOutcome.NegativeBalance => Conflict(BlockedReasons.NegativeBalance, "The available balance is negative.",
                "A refund took back a reward already available; later rewards pay the debt first."),
            RequestOutcome.OpenRequest => Conflict("withdrawal-open", "A withdrawal is open already.", "Wait until the open request is paid or rejected."),
            RequestOutcome.OpenidRequired => Conflict(BlockedReasons.OpenidRequired, "Withdrawals are paid to WeChat.", "请在微信内打开本页提现"),
            RequestOutcome.DailyLimit => Conflict(BlockedReasons.DailyLimit, "Today's withdrawal limit is reached.",
                $"At most {o.DailyCount} requests and {o.DailyTotalFen} fen per day (Beijing time)."),
            _ => Conflict("insufficient-available", "Not enough available.", "The amount is more than the available balance."),
        };
    }

    private static async Task<Results<Ok<MyWithdrawal>, ProblemHttpResult>> ConfirmedAsync(
        long id, ClaimsPrincipal user, WithdrawalStore store, WithdrawalTransfers transfers, IOptions<WechatPayOptions> wechat, CancellationToken ct)
    {
        var w = await store.FindAsync(id, ct);
        if (w is null || user.ParticipantId() != w.UserId)
        {
            return Problems.NotFound("The withdrawal");
        }

        if (w.Status == WithdrawalStatus.Transferring && w.OutBillNo is not null)
        {
            await transfers.QueryAsync(w, ct);
            w = await store.FindAsync(id, ct) ?? w;
        }

        return TypedResults.Ok(Mine(w, wechat.Value));
    }

    private static async Task<Results<Ok<AdminWithdrawalPage>, ProblemHttpResult>> ListAsync(
        WithdrawalStore store, CancellationToken ct, string? status = null, long? userId = null, string? phone = null, string? from = null, string? to = null,
        int page = 1, int pageSize = 20)
    {
        if (page < 1 || pageSize < 1 || pageSize > MaxPageSize)
        {
            return Problems.InvalidPaging($"page must be ≥ 1 and pageSize 1..{MaxPageSize}.");
        }

        if (Filter(status, userId, phone, from, to) is not { } filter)
        {
            return BadFilter();
        }

        var (rows, total, pendingCount, pendingFen) = await store.ListAsync(filter, page, pageSize, ct);
        return TypedResults.Ok(new AdminWithdrawalPage(rows.Select(r => WithdrawalStore.ToAdmin(r, store.NeedsAdmin(r.AmountFen))).ToList(),
            total, page, pageSize, pendingCount, pendingFen));
    }

    private static Results<PushStreamHttpResult, ProblemHttpResult> ExportAsync(
        WithdrawalStore store, TimeProvider time, CancellationToken ct, string? status = null, long? userId = null, string? phone = null, string? from = null,
        string? to = null)
    {
        if (Filter(status, userId, phone, from, to) is not { } filter)
        {
            return BadFilter();
        }

        var day = time.GetUtcNow().ToOffset(WithdrawalStore.Beijing).ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        return TypedResults.Stream(stream => WithdrawalCsv.WriteAsync(stream, store.ExportAsync(filter, ct), ct), "text/csv; charset=utf-8", $"withdrawals-{day}.csv");
    }

    private static async Task<Results<Ok<AdminWithdrawal>, ProblemHttpResult>> ApproveAsync(
        long id, ClaimsPrincipal user, WithdrawalStore store, WithdrawalTransfers transfers, CancellationToken ct)
    {
        var (outcome, row) = await store.ApproveAsync(id, Actor(user), user.IsInRole(AdminRoles.Admin), ct);
        if (outcome == ReviewOutcome.Done && row!.Status == WithdrawalStatus.Transferring)
        {
            await transfers.CreateBillAsync(row, ct);
        }

        return await AnswerAsync(outcome, id, store, ct);
    }

    private static async Task<Results<Ok<AdminWithdrawal>, ProblemHttpResult>> RejectAsync(
        long id, RejectCommand? body, ClaimsPrincipal user, WithdrawalStore store, CancellationToken ct)
    {
        var reason = body?.Reason?.Trim();
        if (reason is not { Length: >= 1 and <= 200 })
        {
            return Problems.Validation("reason", "A reason of 1 to 200 characters.");
        }

        var (outcome, _) = await store.RejectAsync(id, reason, Actor(user), ct);
        return await AnswerAsync(outcome, id, store, ct);
    }

    private static async Task<Results<Ok<AdminWithdrawal>, ProblemHttpResult>> PayoutAsync(
        long id, PayoutCommand? body, ClaimsPrincipal user, WithdrawalStore store, TimeProvider time, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var reference = body?.Reference?.Trim();
        if (reference is not { Length: >= 1 and <= 100 })
        {
            errors.Add("reference", "A payment reference of 1 to 100 characters.");
        }

        var now = time.GetUtcNow();
        if (body?.PaidAt is { } at && at > now.AddMinutes(5))
        {
            errors.Add("paidAt", "paidAt is not in the future.");
        }

        if (errors.Any)
        {
            return Problems.Validation(errors);
        }

        var (outcome, _) = await store.PayoutAsync(id, reference!, (body?.PaidAt ?? now).UtcDateTime, Actor(user), ct);
        return await AnswerAsync(outcome, id, store, ct);
    }

    private static async Task<Results<Ok<AdminWithdrawal>, ProblemHttpResult>> AnswerAsync(ReviewOutcome outcome, long id, WithdrawalStore store, CancellationToken ct)
    {
        switch (outcome)
        {
            case ReviewOutcome.NotFound:
                return Problems.NotFound("The withdrawal");
            case ReviewOutcome.NeedsAdmin:
                return Problems.Forbidden("This amount needs the admin role to approve",
                    $"Withdrawals above {store.Options.AdminApprovalAboveFen} fen are approved by an admin.");
            case ReviewOutcome.WrongState:
                return Conflict("withdrawal-state", "The withdrawal is not in a state that allows this.", null);
            case ReviewOutcome.OpenidRequired:
                return Conflict(BlockedReasons.OpenidRequired, "The participant has no WeChat openid to transfer to.", null);
        }

        var row = await store.FindAdminAsync(id, ct);
        return row is null ? Problems.NotFound("The withdrawal") : TypedResults.Ok(WithdrawalStore.ToAdmin(row, store.NeedsAdmin(row.AmountFen)));
    }

    private static WithdrawalFilter? Filter(string? status, long? userId, string? phone, string? from, string? to)
    {
        if (status is not null && !WithdrawalStatus.All.Contains(status))
        {
            return null;
        }

        if (phone is not null && !PhoneNumbers.IsMainlandMobile(phone))
        {
            return null;
        }

        var fromUtc = from is null ? null : ParseTime(from);
        var toUtc = to is null ? null : ParseTime(to);
        if ((from is not null && fromUtc is null) || (to is not null && toUtc is null))
        {
            return null;
        }

        return new WithdrawalFilter(status, userId, phone, fromUtc, toUtc);
    }

    /// <summary>An ISO date (a Beijing day's start) or a time with an offset, as UTC.</summary>
    private static DateTime? ParseTime(string value) =>
        DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), WithdrawalStore.Beijing).UtcDateTime
            : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t.UtcDateTime : null;

    private static ProblemHttpResult BadFilter() => Problems.Validation("filter",
        $"status is one of {string.Join(", ", WithdrawalStatus.All)}; phone a whole mainland mobile number; from/to ISO dates or times.");

    private static WithdrawalLimits Limits(WithdrawalOptions o) => new(o.MinFen, o.MaxFenPerRequest, o.DailyCount, o.DailyTotalFen);

    private static MyWithdrawal Mine(WithdrawalRow w, WechatPayOptions wechat) => new(
        w.Id, w.AmountFen, w.Status, WithdrawalStore.Utc(w.CreatedAt), WithdrawalStore.Utc(w.ReviewedAt), w.RejectReason, WithdrawalStore.Utc(w.PaidAt),
        w.FailReason,
        w.Status == WithdrawalStatus.Transferring && w.TransferState == BillStates.WaitUserConfirm && w.PackageInfo is { } package
            ? new TransferConfirm(wechat.MchId, wechat.AppId, package)
            : null);

    private static string Actor(ClaimsPrincipal user) => user.Identity?.Name ?? user.FindFirstValue("sub") ?? "admin";

    private static ProblemHttpResult NotParticipant() => Problems.Forbidden("Only a participant's session has withdrawals");

    private static ProblemHttpResult Conflict(string slug, string title, string? detail) =>
        Problems.Of(StatusCodes.Status409Conflict, slug, title, detail);
}
