using System.Globalization;
using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dmh.Contracts;
using Dmh.Ingress.Audit;
using Dmh.Ingress.Forms;
using Dmh.Ingress.Http;
using Dmh.Ingress.Security;
using Dmh.Platform.Rewards;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Campaigns;

/// <summary>
/// The campaign's reward rule (issue 17): <c>holdDays</c>, 1..3 <c>levels</c> and <c>caps</c>; the old
/// single-level shape (<c>type</c>, <c>amountFen</c>/<c>basisPoints</c>) is still accepted as level 1.
/// </summary>
public sealed record RewardInput(
    string? Type = null, long? AmountFen = null, int? BasisPoints = null, int? HoldDays = null,
    IReadOnlyList<RewardLevelRule>? Levels = null, RewardCaps? Caps = null)
{
    public RewardConfig ToConfig() => new(
        HoldDays ?? RewardConfig.DefaultHoldDays,
        Levels ?? [Type == RewardTypes.Percentage
            ? new RewardLevelRule(RewardTypes.Percentage, BasisPoints: BasisPoints)
            : new RewardLevelRule(Type ?? RewardTypes.Fixed, AmountFen: AmountFen)],
        Caps ?? RewardCaps.None);
}

public sealed record PaymentInput(string? Description);

/// <summary>Body of POST/PUT /api/v1/campaigns.</summary>
public sealed record CampaignInput(
    string? Name, string? Description, string? CoverUrl, DateTimeOffset? StartTime, DateTimeOffset? EndTime,
    long? PriceFen, RewardInput? Reward, PaymentInput? Payment, bool? RequireSms, JsonElement? FormSchema);

/// <summary>
/// The rule as docs/API.md shows it: holdDays, levels, caps; <c>type</c> and the field of its type repeat
/// level 1 for clients of the single-level shape.
/// </summary>
public sealed record RewardView(
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? AmountFen,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? BasisPoints,
    int HoldDays, IReadOnlyList<RewardLevelView> Levels, RewardCaps Caps);

/// <summary>One level: only the fields of its type.</summary>
public sealed record RewardLevelView(
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? AmountFen,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? BasisPoints,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<RewardTier>? Tiers);

public sealed record PaymentView(string? Description);

public sealed record CampaignView(
    long Id, string Name, string? Description, string? CoverUrl, DateTimeOffset? StartTime, DateTimeOffset? EndTime,
    string Status, long PriceFen, RewardView Reward, PaymentView Payment, bool RequireSms, JsonElement? FormSchema,
    string H5Url, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, CampaignApprovalView Approval);

public sealed record CampaignPage(IReadOnlyList<CampaignView> Items, long Total, int Page, int PageSize);

/// <summary>What the H5 page needs to render a campaign's form (public).</summary>
public sealed record PublicForm(
    long Id, string Name, string? Description, string? CoverUrl, DateTimeOffset? StartTime, DateTimeOffset? EndTime,
    string State, long PriceFen, bool RequireSms, JsonElement? FormSchema,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Preview = false);

/// <summary>A signed phone-preview link of a campaign (a draft too), valid until <c>ExpiresAt</c>.</summary>
public sealed record PreviewLink(string Url, DateTimeOffset ExpiresAt);

/// <summary>Campaign management (<c>/api/v1/campaigns</c>, admin) and the public form.</summary>
public static class CampaignEndpoints
{
    public const int MaxPageSize = 100;

    public static WebApplicationBuilder AddCampaigns(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<PublicOptions>().BindConfiguration(PublicOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<CampaignStore>();
        builder.Services.AddOptions<CampaignCacheOptions>().BindConfiguration(CampaignCacheOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<CampaignCache>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CampaignCache>());
        builder.Services.AddSingleton<CampaignPreviewTokens>();
        builder.Services.AddOptions<CampaignOptions>().BindConfiguration(CampaignOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<Dmh.Ingress.Participants.ParticipantStore>();
        return builder;
    }

    public static IEndpointRouteBuilder MapCampaignEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/campaigns").WithTags("Campaigns");
        group.MapGet("/", ListAsync).RequireAuthorization(Policies.AdminRead);
        group.MapGet("/{id:long}", GetAsync).RequireAuthorization(Policies.AdminRead);
        group.MapPost("/", CreateAsync).RequireAuthorization(Policies.AdminWrite);
        group.MapPut("/{id:long}", UpdateAsync).RequireAuthorization(Policies.AdminWrite);
        group.MapDelete("/{id:long}", DeleteAsync).RequireAuthorization(Policies.AdminWrite);
        group.MapPost("/{id:long}/publish", PublishAsync).RequireAuthorization(Policies.AdminWrite);
        group.MapPost("/{id:long}/disable", DisableAsync).RequireAuthorization(Policies.AdminWrite);
        group.MapPost("/{id:long}/preview-link", PreviewLinkAsync).RequireAuthorization(Policies.AdminRead);
        group.MapGet("/{id:long}/form", FormAsync).AllowAnonymous();
        app.MapCampaignApprovalEndpoints();
        app.MapCampaignReferrerEndpoint();
        return app;
    }

    public static async Task<Results<Ok<CampaignPage>, ProblemHttpResult>> ListAsync(
        CampaignStore store, TimeProvider time, IOptions<PublicOptions> pub, IOptions<CampaignOptions> options, CancellationToken ct,
        int? page = null, int? pageSize = null, string? q = null, string? status = null, string? approval = null)
    {
        var errors = new FieldErrors();
        if (page is < 1)
        {
            errors.Add("page", "page starts at 1.");
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            errors.Add("pageSize", $"pageSize is 1 to {MaxPageSize}.");
        }

        if (status is not null && !CampaignStatus.All.Contains(status))
        {
            errors.Add("status", "status is one of draft, scheduled, active, ended, disabled.");
        }

        if (approval is not null && !CampaignApproval.All.Contains(approval))
        {
            errors.Add("approval", "approval is one of none, pending, approved, rejected.");
        }

        if (q is { Length: > 200 })
        {
            errors.Add("q", "q has at most 200 characters.");
        }

        if (errors.Any)
        {
            return Problems.Validation(errors.ToDictionary());
        }

        var now = time.GetUtcNow();
        var query = new CampaignQuery(page ?? 1, pageSize ?? 20, q, status, now, approval);
        var (items, total) = await store.ListAsync(query, ct);
        return TypedResults.Ok(new CampaignPage(items.Select(r => ToView(r, now, pub.Value, options.Value.RequireApproval)).ToList(), total, query.Page, query.PageSize));
    }

    public static async Task<Results<Ok<CampaignView>, ProblemHttpResult>> GetAsync(
        long id, CampaignStore store, TimeProvider time, IOptions<PublicOptions> pub, IOptions<CampaignOptions> options, CancellationToken ct) =>
        await store.FindAsync(id, ct) is { } row
            ? TypedResults.Ok(ToView(row, time.GetUtcNow(), pub.Value, options.Value.RequireApproval))
            : Problems.NotFound("The campaign");

    public static async Task<Results<Created<CampaignView>, ProblemHttpResult>> CreateAsync(
        CampaignInput? input, HttpContext http, CampaignStore store, TimeProvider time, IOptions<PublicOptions> pub,
        IOptions<CampaignOptions> options, CancellationToken ct)
    {
        var (values, problem) = Validate(input);
        if (problem is not null)
        {
            return problem;
        }

        var createdBy = long.TryParse(http.User.FindFirstValue(JwtRegisteredClaimNames.Sub), CultureInfo.InvariantCulture, out var adminId) ? adminId : (long?)null;
        var id = await store.InsertAsync(values!, createdBy, ct, AuditEntry.Of(http, AuditActions.CampaignCreate, "campaign", detail: new { name = values!.Name }));
        var row = await store.FindAsync(id, ct);
        return TypedResults.Created($"/api/v1/campaigns/{id}", ToView(row!, time.GetUtcNow(), pub.Value, options.Value.RequireApproval));
    }

    public static async Task<Results<Ok<CampaignView>, ProblemHttpResult>> UpdateAsync(
        long id, CampaignInput? input, HttpContext http, CampaignStore store, TimeProvider time, IOptions<PublicOptions> pub,
        IOptions<CampaignOptions> options, CancellationToken ct)
    {
        var (values, problem) = Validate(input);
        if (problem is not null)
        {
            return problem;
        }

        if (options.Value.RequireApproval && await store.FindAsync(id, ct) is { } current
            && CampaignApproval.RefuseEdit(current, http.User, options.Value) is { } refused)
        {
            return refused;
        }

        if (!await store.UpdateAsync(id, values!, ct, AuditEntry.Of(http, AuditActions.CampaignUpdate, "campaign", id, new { name = values!.Name }),
                keepApproval: http.User.IsInRole(AdminRoles.Admin)))
        {
            return Problems.NotFound("The campaign");
        }

        return TypedResults.Ok(ToView((await store.FindAsync(id, ct))!, time.GetUtcNow(), pub.Value, options.Value.RequireApproval));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(long id, HttpContext http, CampaignStore store, CancellationToken ct) =>
        await store.SoftDeleteAsync(id, ct, AuditEntry.Of(http, AuditActions.CampaignDelete, "campaign", id))
            ? TypedResults.NoContent()
            : Problems.NotFound("The campaign");

    /// <summary>Publishes; under <c>Campaigns:RequireApproval</c> only an approved campaign (409 approval-required).</summary>
    public static async Task<Results<Ok<CampaignView>, ProblemHttpResult>> PublishAsync(
        long id, HttpContext http, CampaignStore store, TimeProvider time, IOptions<PublicOptions> pub, IOptions<CampaignOptions> options, CancellationToken ct)
    {
        var audit = AuditEntry.Of(http, AuditActions.CampaignPublish, "campaign", id);
        if (!options.Value.RequireApproval)
        {
            return await SetStatusAsync(id, StoredStatus.Published, audit, store, time, pub.Value, false, ct);
        }

        if (await store.PublishApprovedAsync(id, ct, audit))
        {
            return TypedResults.Ok(ToView((await store.FindAsync(id, ct))!, time.GetUtcNow(), pub.Value, true));
        }

        return await store.FindAsync(id, ct) is null ? Problems.NotFound("The campaign") : CampaignApproval.NotApproved();
    }

    public static Task<Results<Ok<CampaignView>, ProblemHttpResult>> DisableAsync(
        long id, HttpContext http, CampaignStore store, TimeProvider time, IOptions<PublicOptions> pub, IOptions<CampaignOptions> options, CancellationToken ct) =>
        SetStatusAsync(id, StoredStatus.Disabled, AuditEntry.Of(http, AuditActions.CampaignDisable, "campaign", id), store, time, pub.Value,
            options.Value.RequireApproval, ct);

    /// <summary>
    /// Public: reads MySQL on every call (no cache), so a saved change shows at once. A valid
    /// <paramref name="preview"/> token shows the campaign whatever its status, as it would look published.
    /// </summary>
    public static async Task<Results<Ok<PublicForm>, ProblemHttpResult>> FormAsync(
        long id, CampaignStore store, CampaignPreviewTokens previews, TimeProvider time, CancellationToken ct, string? preview = null)
    {
        var row = await store.FindAsync(id, ct);
        var previewing = preview is not null && previews.IsValid(preview, id);
        if (row is null || (row.Status == StoredStatus.Draft && !previewing))
        {
            return Problems.NotFound("The campaign");
        }

        var status = CampaignStatus.Derive(previewing ? StoredStatus.Published : row.Status, row.StartTime, row.EndTime, time.GetUtcNow());
        return TypedResults.Ok(new PublicForm(row.Id, row.Name, row.Description, row.CoverUrl, Utc(row.StartTime), Utc(row.EndTime),
            CampaignStatus.PublicState(status), row.PriceFen, row.RequireSms, ParseJson(row.FormFields), previewing));
    }

    /// <summary>A link that opens the campaign on a phone (the admin shows it as a QR) for <see cref="CampaignPreviewTokens.Lifetime"/>.</summary>
    public static async Task<Results<Ok<PreviewLink>, ProblemHttpResult>> PreviewLinkAsync(
        long id, CampaignStore store, CampaignPreviewTokens previews, IOptions<PublicOptions> pub, CancellationToken ct)
    {
        if (await store.FindAsync(id, ct) is null)
        {
            return Problems.NotFound("The campaign");
        }

        var (token, expiresAt) = previews.Issue(id);
        var url = pub.Value.BaseUrl.TrimEnd('/') + "/h5/#/pages/campaign/index?id=" + id.ToString(CultureInfo.InvariantCulture)
            + "&preview=" + Uri.EscapeDataString(token);
        return TypedResults.Ok(new PreviewLink(url, expiresAt));
    }

    public static CampaignView ToView(CampaignRow r, DateTimeOffset now, PublicOptions pub, bool approvalRequired) => new(
        r.Id, r.Name, r.Description, r.CoverUrl, Utc(r.StartTime), Utc(r.EndTime),
        CampaignStatus.Derive(r.Status, r.StartTime, r.EndTime, now), r.PriceFen,
        ToRewardView(RewardConfig.FromStored(r.RewardConfig, r.HoldDays, r.RewardType, r.RewardRule, r.RewardBps)),
        new PaymentView(ParseJson(r.PaymentSettings) is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty("description", out var d) ? d.GetString() : null),
        r.RequireSms, ParseJson(r.FormFields),
        pub.BaseUrl.TrimEnd('/') + "/h5/#/pages/campaign/index?id=" + r.Id.ToString(CultureInfo.InvariantCulture),
        Utc(r.CreatedAt), Utc(r.UpdatedAt), CampaignApproval.ViewOf(r, approvalRequired));

    private static RewardView ToRewardView(RewardConfig config)
    {
        var levels = config.Levels.Select(l => l.Type switch
        {
            RewardTypes.Percentage => new RewardLevelView(l.Type, null, l.BasisPoints ?? 0, null),
            RewardTypes.Tiered => new RewardLevelView(l.Type, null, null, l.Tiers ?? []),
            _ => new RewardLevelView(l.Type, l.AmountFen ?? 0, null, null),
        }).ToList();
        var first = levels.Count > 0 ? levels[0] : new RewardLevelView(RewardTypes.Fixed, 0, null, null);
        return new RewardView(first.Type, first.AmountFen, first.BasisPoints, config.HoldDays, levels, config.Caps);
    }

    private static async Task<Results<Ok<CampaignView>, ProblemHttpResult>> SetStatusAsync(
        long id, string status, AuditEntry audit, CampaignStore store, TimeProvider time, PublicOptions pub, bool approvalRequired, CancellationToken ct)
    {
        if (!await store.SetStatusAsync(id, status, ct, audit))
        {
            return Problems.NotFound("The campaign");
        }

        return TypedResults.Ok(ToView((await store.FindAsync(id, ct))!, time.GetUtcNow(), pub, approvalRequired));
    }

    /// <summary>400 for missing/malformed fields, 422 for rule breaks (reward above price, bad schema).</summary>
    internal static (CampaignValues? Values, ProblemHttpResult? Problem) Validate(CampaignInput? input)
    {
        if (input is null)
        {
            return (null, Problems.Validation("body", "A campaign object is required."));
        }

        var shape = new FieldErrors();
        if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Trim().Length > 200)
        {
            shape.Add("name", "name is required (at most 200 characters).");
        }

        if (input.Description is { Length: > 10_000 })
        {
            shape.Add("description", "description has at most 10000 characters.");
        }

        if (input.CoverUrl is { } cover && (cover.Length > 500 || !(cover.StartsWith("/uploads/", StringComparison.Ordinal)
            || (Uri.TryCreate(cover, UriKind.Absolute, out var u) && u.Scheme is "https" or "http"))))
        {
            shape.Add("coverUrl", "coverUrl is an uploaded /uploads/... path or an http(s) URL of at most 500 characters.");
        }

        if (input.Payment?.Description is { Length: > CampaignRules.MaxPaymentDescription })
        {
            shape.Add("payment.description", $"The payment description has at most {CampaignRules.MaxPaymentDescription} characters.");
        }

        if (input.PriceFen is null)
        {
            shape.Add("priceFen", "priceFen is required.");
        }

        if (shape.Any)
        {
            return (null, Problems.Validation(shape.ToDictionary()));
        }

        var rules = new FieldErrors();
        CampaignRules.ValidateMoney(input.PriceFen, input.Reward, rules);
        if (input.StartTime is { } s && input.EndTime is { } e && e <= s)
        {
            rules.Add("endTime", "endTime must be after startTime.");
        }

        var schema = input.FormSchema is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } f ? f : (JsonElement?)null;
        if (schema is { } sc)
        {
            FormSchemaValidator.Validate(sc, rules);
        }

        if (rules.Any)
        {
            return (null, Problems.Validation(rules.ToDictionary(), StatusCodes.Status422UnprocessableEntity));
        }

        var config = (input.Reward ?? new RewardInput(RewardTypes.Fixed, 0)).ToConfig();
        var first = config.Levels[0];
        return (new CampaignValues(
            input.Name!.Trim(), input.Description, input.CoverUrl, input.StartTime?.UtcDateTime, input.EndTime?.UtcDateTime, input.PriceFen!.Value,
            first.Type, first.Type == RewardTypes.Fixed ? first.AmountFen ?? 0 : 0, first.Type == RewardTypes.Percentage ? first.BasisPoints ?? 0 : 0,
            config.ToStoredJson(), config.HoldDays,
            input.Payment is null ? null : JsonSerializer.Serialize(new { description = input.Payment.Description }),
            input.RequireSms ?? false, schema?.GetRawText()), null);
    }

    private static JsonElement? ParseJson(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static DateTimeOffset? Utc(DateTime? value) => value is { } v ? Utc(v) : null;

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
