using System.Security.Claims;
using Dapper;
using Dmh.Contracts;
using Dmh.Ingress.Orders;
using Dmh.Ingress.Participants;
using Dmh.Ingress.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using MySqlConnector;

namespace Dmh.Ingress.Registrations;

/// <summary>
/// One registration of the signed-in participant. <c>OrderToken</c> opens the order's own endpoints
/// (poster, pay) on this device; the code and referral code only once paid, as in the registrant view.
/// </summary>
public sealed record MyRegistration(
    long OrderId, long CampaignId, string? CampaignName, string? CoverUrl, string Status, string PayStatus, long AmountFen,
    string PhoneMasked, string? RegistrationCode, string? ReferralCode, DateTimeOffset CreatedAt, DateTimeOffset? PaidAt,
    DateTimeOffset? CheckedInAt, string OrderToken);

public sealed record MyRegistrations(IReadOnlyList<MyRegistration> Items);

/// <summary>我的报名: every registration of the H5 session's participant (signed in by SMS, or by WeChat with a bound openid).</summary>
public static class MyRegistrationEndpoints
{
    private const int MaxItems = 100;

    public static IEndpointRouteBuilder MapMyRegistrationEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/me/registrations", ListAsync).WithTags("My registrations").RequireAuthorization(Policies.Participant);
        return app;
    }

    private sealed class Row
    {
        public long Id { get; init; }
        public long CampaignId { get; init; }
        public string? CampaignName { get; init; }
        public string? CoverUrl { get; init; }
        public DateTime? EndTime { get; init; }
        public string Status { get; init; } = "";
        public string PayStatus { get; init; } = "";
        public decimal Amount { get; init; }
        public string Phone { get; init; } = "";
        public string? RegistrationCode { get; init; }
        public string? ReferralCode { get; init; }
        public int TokenVersion { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime? PaidAt { get; init; }
        public DateTime? CheckedInAt { get; init; }
    }

    public static async Task<Ok<MyRegistrations>> ListAsync(ClaimsPrincipal user, MySqlDataSource dataSource, OrderAccessTokens tokens, CancellationToken ct)
    {
        // A WeChat visitor who never registered has a session without a participant: nothing to list.
        if (user.ParticipantId() is not { } participantId)
        {
            return TypedResults.Ok(new MyRegistrations([]));
        }

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition("""
            SELECT o.id, o.campaign_id AS CampaignId, c.name AS CampaignName, c.cover_url AS CoverUrl, c.end_time AS EndTime,
                   o.status, o.pay_status AS PayStatus, o.amount, o.phone, o.registration_code AS RegistrationCode,
                   p.referral_code AS ReferralCode, o.token_version AS TokenVersion, o.created_at AS CreatedAt, o.paid_at AS PaidAt,
                   k.checked_in_at AS CheckedInAt
            FROM orders o
            JOIN participants p ON p.id = o.participant_id
            LEFT JOIN campaigns c ON c.id = o.campaign_id
            LEFT JOIN check_ins k ON k.order_id = o.id AND k.active = 1
            WHERE o.participant_id = @participantId AND o.deleted_at IS NULL
            ORDER BY o.id DESC LIMIT @limit
            """, new { participantId, limit = MaxItems }, cancellationToken: ct));
        return TypedResults.Ok(new MyRegistrations(rows.Select(r =>
        {
            var paid = r.PayStatus == PayStatus.Paid;
            return new MyRegistration(r.Id, r.CampaignId, r.CampaignName, r.CoverUrl, r.Status, r.PayStatus, OrderStore.Fen(r.Amount),
                PhoneNumbers.Mask(r.Phone), paid ? r.RegistrationCode : null, paid ? r.ReferralCode : null, Utc(r.CreatedAt), Utc(r.PaidAt),
                Utc(r.CheckedInAt), tokens.Issue(r.Id, r.TokenVersion, tokens.ExpiryFor(r.EndTime)));
        }).ToList()));
    }

    private static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));

    private static DateTimeOffset? Utc(DateTime? t) => t is { } v ? Utc(v) : null;
}
