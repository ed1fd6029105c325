using Dapper;
using Dmh.Ingress.Http;
using Dmh.Ingress.Participants;
using Microsoft.AspNetCore.Http.HttpResults;
using MySqlConnector;

namespace Dmh.Ingress.Campaigns;

/// <summary>Who invited the visitor of a campaign link: the name from the referrer's own form, masked; never a phone.</summary>
public sealed record ReferrerView(string? Name);

/// <summary><c>GET /api/v1/campaigns/{id}/referrer/{code}</c> (public): the H5's "王*明邀请你".</summary>
public static class CampaignReferrer
{
    public static IEndpointRouteBuilder MapCampaignReferrerEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/campaigns/{id:long}/referrer/{code}", GetAsync).WithTags("Campaigns").AllowAnonymous();
        return app;
    }

    /// <summary>
    /// The name of the referral code's participant, from their order in this campaign if any, else their
    /// latest; <c>name</c> is null when they gave none. 404 for an unknown code.
    /// </summary>
    public static async Task<Results<Ok<ReferrerView>, ProblemHttpResult>> GetAsync(long id, string code, MySqlDataSource dataSource, CancellationToken ct)
    {
        if (code.Length is 0 or > 32)
        {
            return Problems.NotFound("The referrer");
        }

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var participant = await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
            "SELECT id FROM participants WHERE referral_code = @code", new { code }, cancellationToken: ct));
        if (participant is null)
        {
            return Problems.NotFound("The referrer");
        }

        var name = await connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition("""
            SELECT JSON_UNQUOTE(JSON_EXTRACT(form_data, '$.name')) FROM orders
            WHERE participant_id = @participant AND deleted_at IS NULL AND JSON_TYPE(JSON_EXTRACT(form_data, '$.name')) = 'STRING'
            ORDER BY campaign_id = @id DESC, id DESC LIMIT 1
            """, new { participant, id }, cancellationToken: ct));
        return TypedResults.Ok(new ReferrerView(NameMask.Mask(name)));
    }
}
