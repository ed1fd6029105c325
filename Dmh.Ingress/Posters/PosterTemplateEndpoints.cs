using Dapper;
using Dmh.Ingress.Http;
using Dmh.Ingress.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using MySqlConnector;

namespace Dmh.Ingress.Posters;

/// <summary>A campaign's poster settings: layout and uploaded background (an <c>/uploads/</c> URL or null).</summary>
public sealed record PosterSettings(string? Template, string? BackgroundUrl);

/// <summary>What the admin reads: the campaign's settings and every layout it can choose.</summary>
public sealed record PosterSettingsView(string Template, string? BackgroundUrl, IReadOnlyList<PosterLayout> Templates);

/// <summary>Poster templates per campaign (issue 19): choose, preview, save.</summary>
public static class PosterTemplateEndpoints
{
    public const string SampleInviter = "张同学";
    public const string SampleCode = "SAMPLE0001";

    public static IEndpointRouteBuilder MapPosterTemplateEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/campaigns/{id:long}/poster").WithTags("Posters");
        group.MapGet("/", GetAsync).RequireAuthorization(Policies.AdminRead);
        group.MapPut("/", PutAsync).RequireAuthorization(Policies.AdminWrite);
        group.MapPost("/preview", PreviewAsync).RequireAuthorization(Policies.AdminRead);
        return app;
    }

    private sealed record CampaignRow(long Id, string Name, string? CoverUrl);

    private static async Task<CampaignRow?> CampaignAsync(MySqlConnection connection, long id, CancellationToken ct) =>
        await connection.QuerySingleOrDefaultAsync<CampaignRow>(new CommandDefinition(
            "SELECT id AS Id, name AS Name, cover_url AS CoverUrl FROM campaigns WHERE id = @id AND deleted_at IS NULL",
            new { id }, cancellationToken: ct));

    private static async Task<Results<Ok<PosterSettingsView>, ProblemHttpResult>> GetAsync(long id, MySqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await CampaignAsync(connection, id, ct) is null)
        {
            return Problems.NotFound($"Campaign {id}");
        }

        var saved = await connection.QuerySingleOrDefaultAsync<PosterSettings>(new CommandDefinition(
            "SELECT template AS Template, background_url AS BackgroundUrl FROM campaign_posters WHERE campaign_id = @id", new { id }, cancellationToken: ct));
        return TypedResults.Ok(new PosterSettingsView(saved?.Template ?? PosterTemplates.Classic, saved?.BackgroundUrl, PosterTemplates.All));
    }

    private static async Task<Results<Ok<PosterSettingsView>, ProblemHttpResult>> PutAsync(long id, PosterSettings? request, MySqlDataSource db, CancellationToken ct)
    {
        if (Invalid(request) is { } problem)
        {
            return problem;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        if (await CampaignAsync(connection, id, ct) is null)
        {
            return Problems.NotFound($"Campaign {id}");
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO campaign_posters (campaign_id, template, background_url) VALUES (@id, @template, @background)
            ON DUPLICATE KEY UPDATE template = VALUES(template), background_url = VALUES(background_url)
            """,
            new { id, template = request!.Template, background = Blank(request.BackgroundUrl) }, cancellationToken: ct));
        return TypedResults.Ok(new PosterSettingsView(request.Template!, Blank(request.BackgroundUrl), PosterTemplates.All));
    }

    /// <summary>The poster as a registrant of this campaign would get it with these settings (sample inviter and code).</summary>
    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> PreviewAsync(
        long id, PosterSettings? request, MySqlDataSource db, PosterCache cache, IConfiguration configuration, HttpContext http,
        ILogger<PosterCache> logger, CancellationToken ct)
    {
        if (Invalid(request) is { } problem)
        {
            return problem;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var campaign = await CampaignAsync(connection, id, ct);
        if (campaign is null)
        {
            return Problems.NotFound($"Campaign {id}");
        }

        var content = new PosterContent(
            campaign.Id, campaign.Name, SampleInviter,
            PosterEndpoints.CampaignUrl(configuration, http, campaign.Id, null, SampleCode),
            await PosterEndpoints.ReadCoverAsync(configuration, campaign.CoverUrl, logger, ct),
            request!.Template!,
            await PosterEndpoints.ReadCoverAsync(configuration, Blank(request.BackgroundUrl), logger, ct));
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.File(await cache.GetOrRenderAsync(content, ct), "image/png");
    }

    private static string? Blank(string? url) => string.IsNullOrWhiteSpace(url) ? null : url.Trim();

    private static ProblemHttpResult? Invalid(PosterSettings? request)
    {
        var errors = new Dictionary<string, string[]>();
        if (PosterTemplates.Find(request?.Template) is null)
        {
            errors["template"] = ["One of: " + string.Join(", ", PosterTemplates.All.Select(l => l.Slug)) + "."];
        }

        var background = Blank(request?.BackgroundUrl);
        if (background is not null && (background.Length > 500 || !background.StartsWith("/uploads/", StringComparison.Ordinal)
            || background.Contains("..", StringComparison.Ordinal) || background.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))))
        {
            errors["backgroundUrl"] = ["An uploaded image (/uploads/…, from POST /api/v1/uploads/covers) or null."];
        }

        return errors.Count == 0 ? null : Problems.Validation(errors);
    }
}
