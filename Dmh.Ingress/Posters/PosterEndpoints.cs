using System.Globalization;
using Dapper;
using Dmh.Ingress.Http;
using Dmh.Ingress.Participants;
using Dmh.Ingress.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Ingress.Posters;

/// <summary>Request body of <c>POST /api/v1/qrcode/generate</c>.</summary>
public sealed record PosterRequest(long? OrderId);

/// <summary>Referral posters: a paid registrant's invitation with a QR code carrying their referral code.</summary>
public static class PosterEndpoints
{
    private const int MaxInviterLength = 20;

    public static WebApplicationBuilder AddPosters(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<PosterOptions>().BindConfiguration(PosterOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<PosterOptions>, PosterOptionsValidator>();
        builder.Services.AddSingleton<PosterRenderer>();
        builder.Services.AddSingleton<PosterCache>();
        builder.Services.AddHostedService<PosterCacheSweeper>();
        return builder;
    }

    public static IEndpointRouteBuilder MapPosterEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/qrcode").WithTags("Posters");
        group.MapPost("/generate", GenerateAsync);
        return app;
    }

    private sealed record PosterRow(
        long OrderId, string PayStatus, string Phone, string? Name, string? ChannelId,
        long CampaignId, string CampaignName, string? CoverUrl, string? ReferralCode, string? Template, string? BackgroundUrl);

    internal static async Task<Results<FileContentHttpResult, ProblemHttpResult>> GenerateAsync(
        [FromBody] PosterRequest? request,
        [FromHeader(Name = OrderAccessTokens.HeaderName)] string? token,
        OrderAccessTokens tokens,
        MySqlDataSource db,
        PosterCache cache,
        IConfiguration configuration,
        HttpContext http,
        ILogger<PosterCache> logger,
        CancellationToken ct)
    {
        if (request?.OrderId is not > 0)
        {
            return Problems.Validation("orderId", "orderId must be a positive order id.");
        }

        var orderId = request.OrderId.Value;
        if (string.IsNullOrWhiteSpace(token))
        {
            return Problems.Of(StatusCodes.Status401Unauthorized, "invalid-order-token", "Order token required", $"Send the order's access token in {OrderAccessTokens.HeaderName}.");
        }

        if (!await tokens.IsValidAsync(token, orderId, ct))
        {
            return Problems.Forbidden("Order token rejected", "The access token does not belong to this order.");
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<PosterRow>(new CommandDefinition(
            """
            SELECT o.id AS OrderId, o.pay_status AS PayStatus, o.phone AS Phone,
                   JSON_UNQUOTE(JSON_EXTRACT(o.form_data, '$.name')) AS Name, o.channel_id AS ChannelId,
                   c.id AS CampaignId, c.name AS CampaignName, c.cover_url AS CoverUrl,
                   p.referral_code AS ReferralCode, cp.template AS Template, cp.background_url AS BackgroundUrl
            FROM orders o
            JOIN campaigns c ON c.id = o.campaign_id AND c.deleted_at IS NULL
            LEFT JOIN participants p ON p.id = o.participant_id
            LEFT JOIN campaign_posters cp ON cp.campaign_id = c.id
            WHERE o.id = @orderId AND o.deleted_at IS NULL
            """,
            new { orderId }, cancellationToken: ct));
        if (row is null)
        {
            return Problems.NotFound($"Order {orderId}");
        }

        if (row.PayStatus != "paid")
        {
            return Problems.Of(StatusCodes.Status409Conflict, "not-paid", "Order not paid", "A poster is available once the registration is paid.");
        }

        if (string.IsNullOrEmpty(row.ReferralCode))
        {
            return Problems.Of(StatusCodes.Status409Conflict, "referral-code-pending", "Referral code not assigned", "The registration has no referral code yet; try again shortly.");
        }

        var content = new PosterContent(
            row.CampaignId,
            row.CampaignName,
            Inviter(row.Name, row.Phone),
            CampaignUrl(configuration, http, row.CampaignId, row.ChannelId, row.ReferralCode),
            await ReadCoverAsync(configuration, row.CoverUrl, logger, ct),
            row.Template ?? PosterTemplates.Classic,
            await ReadCoverAsync(configuration, row.BackgroundUrl, logger, ct));
        var png = await cache.GetOrRenderAsync(content, ct);
        return TypedResults.File(png, "image/png", $"poster-{row.CampaignId}-{row.OrderId}.png");
    }

    internal static string Inviter(string? name, string phone)
    {
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed == "null")
        {
            return PhoneNumbers.Mask(phone);
        }

        // Control characters would draw as boxes; a very long name would crowd the line.
        var clean = new string(trimmed.Where(ch => !char.IsControl(ch)).ToArray());
        var info = new StringInfo(clean);
        return info.LengthInTextElements > MaxInviterLength ? info.SubstringByTextElements(0, MaxInviterLength) + "…" : clean;
    }

    internal static string CampaignUrl(IConfiguration configuration, HttpContext http, long campaignId, string? channelId, string referralCode)
    {
        var baseUrl = configuration["Public:BaseUrl"];
        if (string.IsNullOrWhiteSpace(baseUrl))
        {
            baseUrl = $"{http.Request.Scheme}://{http.Request.Host}";
        }

        var url = $"{baseUrl.TrimEnd('/')}/h5/#/pages/campaign/index?id={campaignId.ToString(CultureInfo.InvariantCulture)}";
        if (!string.IsNullOrEmpty(channelId))
        {
            url += "&c_id=" + Uri.EscapeDataString(channelId);
        }

        return url + "&u_id=" + Uri.EscapeDataString(referralCode);
    }

    internal static async Task<byte[]?> ReadCoverAsync(IConfiguration configuration, string? coverUrl, ILogger logger, CancellationToken ct)
    {
        const string prefix = "/uploads/";
        var directory = configuration["Uploads:Directory"];
        if (string.IsNullOrWhiteSpace(coverUrl) || !coverUrl.StartsWith(prefix, StringComparison.Ordinal) || string.IsNullOrWhiteSpace(directory))
        {
            return null;
        }

        // The cover URL comes from the database; keep it inside the uploads directory whatever it says.
        var root = Path.GetFullPath(directory);
        var relative = Uri.UnescapeDataString(coverUrl[prefix.Length..].Split('?', '#')[0]);
        var path = Path.GetFullPath(Path.Combine(root, relative));
        if (!path.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            var info = new FileInfo(path);
            // A cover larger than this is not a sane upload; fall back rather than decode it.
            return info.Exists && info.Length is > 0 and <= 20 * 1024 * 1024 ? await File.ReadAllBytesAsync(path, ct) : null;
        }
        catch (IOException ex)
        {
            logger.LogWarning(ex, "Cannot read cover {CoverUrl}; using the generated background", coverUrl);
            return null;
        }
        catch (UnauthorizedAccessException ex)
        {
            logger.LogWarning(ex, "Cannot read cover {CoverUrl}; using the generated background", coverUrl);
            return null;
        }
    }
}
