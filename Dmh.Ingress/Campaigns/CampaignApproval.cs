using System.Globalization;
using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using Dmh.Ingress.Audit;
using Dmh.Ingress.Http;
using Dmh.Ingress.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Campaigns;

/// <summary>Campaign settings of a deployment.</summary>
public sealed class CampaignOptions
{
    public const string SectionName = "Campaigns";

    /// <summary>
    /// Operators submit campaigns and admins approve (which publishes) or reject them with a reason; a
    /// campaign cannot go live unapproved (the proposal's open question 活动审核流程是否需要). Default off.
    /// </summary>
    public bool RequireApproval { get; set; }
}

/// <summary>
/// A campaign's approval as the API shows it: status none, pending, approved or rejected; <c>At</c> and
/// <c>By</c> (the account's username) of its last move: the submit while pending, the decision after.
/// </summary>
public sealed record CampaignApprovalView(bool Required, string Status, string? Reason, DateTimeOffset? At, string? By);

/// <summary>GET /api/v1/campaigns/settings: what the campaign editor needs to know about this deployment.</summary>
public sealed record CampaignSettingsView(bool RequireApproval);

/// <summary>Body of POST /api/v1/campaigns/{id}/reject.</summary>
public sealed record RejectInput(string? Reason);

/// <summary>Submit, approve and reject (<c>Campaigns:RequireApproval</c>).</summary>
public static class CampaignApproval
{
    public const string None = "none";
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const int MaxReason = 500;

    /// <summary>The values of the campaign list's <c>approval</c> filter.</summary>
    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { None, Pending, Approved, Rejected };

    public static IEndpointRouteBuilder MapCampaignApprovalEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/campaigns").WithTags("Campaigns");
        group.MapGet("/settings", (IOptions<CampaignOptions> options) => TypedResults.Ok(new CampaignSettingsView(options.Value.RequireApproval)))
            .RequireAuthorization(Policies.AdminRead);
        group.MapPost("/{id:long}/submit", SubmitAsync).RequireAuthorization(Policies.AdminWrite);
        group.MapPost("/{id:long}/approve", ApproveAsync).RequireAuthorization(Policies.AdminOnly);
        group.MapPost("/{id:long}/reject", RejectAsync).RequireAuthorization(Policies.AdminOnly);
        return app;
    }

    public static CampaignApprovalView ViewOf(CampaignRow r, bool required) => new(
        required, r.ApprovalStatus ?? None, r.ApprovalStatus == Rejected ? r.ApprovalReason : null,
        r.ApprovalAt is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null, r.ApprovalStatus is null ? null : r.ApprovalByName);

    /// <summary>An operator submits a draft or disabled campaign (not submitted, or rejected) for approval.</summary>
    public static async Task<Results<Ok<CampaignView>, ProblemHttpResult>> SubmitAsync(
        long id, HttpContext http, CampaignStore store, TimeProvider time, IOptions<PublicOptions> pub, IOptions<CampaignOptions> options,
        CancellationToken ct)
    {
        if (!options.Value.RequireApproval)
        {
            return Off();
        }

        return await store.MoveApprovalAsync(id, [null, Rejected], Pending, null, AdminId(http.User), publish: false, ct,
                AuditEntry.Of(http, AuditActions.CampaignSubmit, "campaign", id))
            ? await ViewAsync(id, store, time, pub.Value, ct)
            : await ConflictAsync(id, store, "Only a draft or disabled campaign that is not submitted yet (or was rejected) can be submitted.", ct);
    }

    /// <summary>An admin approves a submitted campaign, which publishes it.</summary>
    public static async Task<Results<Ok<CampaignView>, ProblemHttpResult>> ApproveAsync(
        long id, HttpContext http, CampaignStore store, TimeProvider time, IOptions<PublicOptions> pub, IOptions<CampaignOptions> options,
        CancellationToken ct)
    {
        if (!options.Value.RequireApproval)
        {
            return Off();
        }

        return await store.MoveApprovalAsync(id, [Pending], Approved, null, AdminId(http.User), publish: true, ct,
                AuditEntry.Of(http, AuditActions.CampaignApprove, "campaign", id))
            ? await ViewAsync(id, store, time, pub.Value, ct)
            : await ConflictAsync(id, store, "Only a submitted (pending) campaign can be approved.", ct);
    }

    /// <summary>An admin rejects a submitted campaign with a reason the operator sees.</summary>
    public static async Task<Results<Ok<CampaignView>, ProblemHttpResult>> RejectAsync(
        long id, RejectInput? input, HttpContext http, CampaignStore store, TimeProvider time, IOptions<PublicOptions> pub,
        IOptions<CampaignOptions> options, CancellationToken ct)
    {
        if (!options.Value.RequireApproval)
        {
            return Off();
        }

        var reason = input?.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > MaxReason)
        {
            return Problems.Validation("reason", $"A reason (1 to {MaxReason} characters) is required to reject a campaign.");
        }

        return await store.MoveApprovalAsync(id, [Pending], Rejected, reason, AdminId(http.User), publish: false, ct,
                AuditEntry.Of(http, AuditActions.CampaignReject, "campaign", id, new { reason }))
            ? await ViewAsync(id, store, time, pub.Value, ct)
            : await ConflictAsync(id, store, "Only a submitted (pending) campaign can be rejected.", ct);
    }

    /// <summary>Why a publish or an edit is refused under approval, or null when it may go ahead.</summary>
    public static ProblemHttpResult? RefuseEdit(CampaignRow row, ClaimsPrincipal user, CampaignOptions options) =>
        options.RequireApproval && row.Status == StoredStatus.Published && !user.IsInRole(AdminRoles.Admin)
            ? Problems.Of(StatusCodes.Status409Conflict, "approval-required", "A published campaign needs approval for changes.",
                "Only an admin edits a published campaign while approval is on; or disable it, edit it and submit it again.")
            : null;

    public static ProblemHttpResult NotApproved() =>
        Problems.Of(StatusCodes.Status409Conflict, "approval-required", "The campaign is not approved.",
            "Campaigns go live through approval here: submit it, and an admin's approval publishes it.");

    private static ProblemHttpResult Off() =>
        Problems.Of(StatusCodes.Status409Conflict, "approval-off", "Campaign approval is not enabled.",
            "Set Campaigns:RequireApproval to use submit, approve and reject; without it campaigns are published directly.");

    private static async Task<Results<Ok<CampaignView>, ProblemHttpResult>> ViewAsync(
        long id, CampaignStore store, TimeProvider time, PublicOptions pub, CancellationToken ct) =>
        TypedResults.Ok(CampaignEndpoints.ToView((await store.FindAsync(id, ct))!, time.GetUtcNow(), pub, approvalRequired: true));

    private static async Task<ProblemHttpResult> ConflictAsync(long id, CampaignStore store, string detail, CancellationToken ct) =>
        await store.FindAsync(id, ct) is { } row
            ? Problems.Of(StatusCodes.Status409Conflict, "approval-state", $"The campaign's approval is {row.ApprovalStatus ?? None} and it is {row.Status}.", detail)
            : Problems.NotFound("The campaign");

    private static long? AdminId(ClaimsPrincipal user) =>
        long.TryParse(user.FindFirstValue(JwtRegisteredClaimNames.Sub), CultureInfo.InvariantCulture, out var id) ? id : null;
}
