using System.Security.Claims;
using Dapper;
using Dmh.Contracts;
using Dmh.Ingress.Http;
using Dmh.Ingress.Participants;
using Dmh.Ingress.Security;
using Dmh.Platform.Database;
using Dmh.Platform.Streams;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Ingress.Notices;

/// <summary>Reward notices (issue 18): the H5 page's subscription consent, the admin's list, and a campaign's SMS setting.</summary>
public static class NoticeEndpoints
{
    public const int MaxPageSize = 100;

    /// <summary>The notifier (unless <c>Notices:Enabled</c> is false) and what the endpoints need.</summary>
    public static WebApplicationBuilder AddNotices(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<NoticeOptions>()
            .BindConfiguration(NoticeOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => TimeZoneInfo.TryFindSystemTimeZoneById(o.TimeZone, out _), "Notices:TimeZone must be a known IANA time zone.")
            .Validate(o => o.Wechat.EffectiveFields.Values.All(NoticeText.Sources.Contains) && o.Sms.ParamNames().All(NoticeText.Sources.Contains),
                "Notices:Wechat:Fields values and Notices:Sms:Params must each be one of: event, amount, campaign, time.")
            .Validate(o => o.Wechat.Page.StartsWith('/'), "Notices:Wechat:Page must start with / (it is appended to Public:BaseUrl).")
            .Validate(o => o.MaxRetryDelay >= o.RetryDelay, "Notices:MaxRetryDelay must not be shorter than Notices:RetryDelay.")
            .ValidateOnStart();
        builder.Services.AddHttpClient<SubscribeMessageClient>(c => c.Timeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton<RewardNotifier>();
        builder.AddDeadLetterTable();
        builder.AddStreamConsumer<RewardNoticeHandler>("Notices:Consumer", StreamNames.RewardChanged, GroupNames.Notifier);
        // Notices:Enabled is read from the bound options when the host starts, not from builder.Configuration
        // here: a host may add configuration after this call (the test hosts do).
        var loops = builder.Services
            .Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType is { IsGenericType: true } t && t.GenericTypeArguments[0] == typeof(RewardNoticeHandler))
            .ToList();
        foreach (var loop in loops)
        {
            builder.Services.Remove(loop);
            builder.Services.AddSingleton<IHostedService>(sp => new WhenNoticesEnabled(sp, loop.ImplementationType!));
        }

        builder.Services.AddSingleton<IHostedService>(sp => new WhenNoticesEnabled(sp, typeof(NoticeRetryService)));
        return builder;
    }

    public static IEndpointRouteBuilder MapNoticeEndpoints(this IEndpointRouteBuilder app)
    {
        var mine = app.MapGroup("/api/v1/me/notice-subscription").WithTags("Notices").RequireAuthorization(Policies.Participant);
        mine.MapGet("/", GetSubscriptionAsync);
        mine.MapPost("/", AcceptAsync);
        app.MapGet("/api/v1/reward-notices", ListAsync).WithTags("Notices").RequireAuthorization(Policies.AdminRead);
        var settings = app.MapGroup("/api/v1/campaigns/{campaignId:long}/notice-settings").WithTags("Notices");
        settings.MapGet("/", GetSettingsAsync).RequireAuthorization(Policies.AdminRead);
        settings.MapPut("/", PutSettingsAsync).RequireAuthorization(Policies.AdminWrite);
        return app;
    }

    /// <summary>
    /// What the page needs to offer the subscription: the template for <c>wx-open-subscribe</c> (null when
    /// WeChat notices are off), whether this session can record a consent (a WeChat session), and how many
    /// unused consents the participant has.
    /// </summary>
    public sealed record Subscription(string? TemplateId, bool CanSubscribe, long Available);

    public sealed record AcceptCommand(string? TemplateId);

    public sealed record NoticeItem(
        long LedgerId, long UserId, string PhoneMasked, string Kind, long AmountFen, long? CampaignId, string Status, string? Channel,
        int Attempts, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? NextAttemptAt, DateTimeOffset? SentAt);

    public sealed record NoticePage(IReadOnlyList<NoticeItem> Items, long Total, int Page, int PageSize, IReadOnlyDictionary<string, long> Counts);

    public sealed record NoticeSettings(long CampaignId, bool Sms);

    public sealed record NoticeSettingsCommand(bool? Sms);

    private sealed record NoticeRow(
        long LedgerId, long UserId, string? Phone, string Kind, long AmountFen, long? CampaignId, string Status, string? Channel,
        int Attempts, string? LastError, DateTime CreatedAt, DateTime? NextAttemptAt, DateTime? SentAt);

    private static async Task<Results<Ok<Subscription>, ProblemHttpResult>> GetSubscriptionAsync(
        ClaimsPrincipal user, MySqlDataSource db, IOptions<NoticeOptions> options, CancellationToken ct)
    {
        if (user.ParticipantId() is not { } id)
        {
            return Problems.Forbidden("A participant's session is required.");
        }

        var template = options.Value.Wechat.TemplateId;
        await using var connection = await db.OpenConnectionAsync(ct);
        var available = await AvailableAsync(connection, id, template, ct);
        return TypedResults.Ok(new Subscription(template.Length > 0 ? template : null, template.Length > 0 && user.WechatOpenid() is not null, available));
    }

    /// <summary>
    /// Records one consent the page's <c>wx-open-subscribe</c> reported as accepted (一次性订阅: one accept,
    /// one message). Only from a verified WeChat session: the openid comes from the token, never the body.
    /// </summary>
    private static async Task<Results<Created<Subscription>, ProblemHttpResult>> AcceptAsync(
        AcceptCommand command, ClaimsPrincipal user, MySqlDataSource db, IOptions<NoticeOptions> options, TimeProvider time, CancellationToken ct)
    {
        if (user.ParticipantId() is not { } id)
        {
            return Problems.Forbidden("A participant's session is required.");
        }

        var o = options.Value;
        if (o.Wechat.TemplateId.Length == 0)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "notices-off", "WeChat notices are not configured.");
        }

        if (command.TemplateId != o.Wechat.TemplateId)
        {
            return Problems.Validation("templateId", "Not the template of DMH's notices.", StatusCodes.Status422UnprocessableEntity);
        }

        if (user.WechatOpenid() is not { } openid)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "wechat-session-required", "Only a WeChat session can subscribe to WeChat notices.");
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        // A conditional insert: concurrent accepts never pass the cap together by more than one row each checked.
        var added = await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO notice_subscriptions (participant_id, openid, template_id, accepted_at)
            SELECT @id, @openid, @template, @now FROM DUAL
            WHERE (SELECT COUNT(*) FROM notice_subscriptions WHERE participant_id = @id AND template_id = @template AND ledger_id IS NULL) < @max
            """, new { id, openid, template = o.Wechat.TemplateId, now = time.GetUtcNow().UtcDateTime, max = o.MaxOpenSubscriptions }, cancellationToken: ct));
        if (added == 0)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "notice-subscriptions-full",
                "Enough notices are subscribed already.", $"At most {o.MaxOpenSubscriptions} unused consents are kept.");
        }

        var available = await AvailableAsync(connection, id, o.Wechat.TemplateId, ct);
        return TypedResults.Created("/api/v1/me/notice-subscription", new Subscription(o.Wechat.TemplateId, true, available));
    }

    private static Task<long> AvailableAsync(MySqlConnection connection, long participantId, string template, CancellationToken ct) =>
        template.Length == 0
            ? Task.FromResult(0L)
            : connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM notice_subscriptions WHERE participant_id = @participantId AND template_id = @template AND ledger_id IS NULL",
                new { participantId, template }, cancellationToken: ct));

    /// <summary>Notices newest first, filtered by status and participant, with the count per status over all notices.</summary>
    private static async Task<Results<Ok<NoticePage>, ProblemHttpResult>> ListAsync(
        MySqlDataSource db, CancellationToken ct, string? status = null, long? userId = null, int page = 1, int pageSize = 20)
    {
        if (page < 1 || pageSize < 1 || pageSize > MaxPageSize)
        {
            return Problems.InvalidPaging($"page must be ≥ 1 and pageSize 1..{MaxPageSize}.");
        }

        if (status is not null && !NoticeStatus.All.Contains(status))
        {
            return Problems.Validation("status", "One of: " + string.Join(", ", NoticeStatus.All) + ".");
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        const string Where = "WHERE (@status IS NULL OR n.status = @status) AND (@userId IS NULL OR n.user_id = @userId)";
        var args = new { status, userId, offset = (page - 1) * pageSize, pageSize };
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM reward_notices n {Where}", args, cancellationToken: ct));
        var rows = await connection.QueryAsync<NoticeRow>(new CommandDefinition($"""
            SELECT n.ledger_id AS LedgerId, n.user_id AS UserId, p.phone AS Phone, n.kind AS Kind, n.amount_fen AS AmountFen, n.campaign_id AS CampaignId,
                   n.status AS Status, n.channel AS Channel, n.attempts AS Attempts, n.last_error AS LastError, n.created_at AS CreatedAt,
                   n.next_attempt_at AS NextAttemptAt, n.sent_at AS SentAt
            FROM reward_notices n LEFT JOIN participants p ON p.id = n.user_id
            {Where}
            ORDER BY n.ledger_id DESC LIMIT @offset, @pageSize
            """, args, cancellationToken: ct));
        var counts = NoticeStatus.All.ToDictionary(s => s, _ => 0L);
        foreach (var (s, n) in await connection.QueryAsync<(string, long)>(new CommandDefinition(
                     "SELECT status, COUNT(*) FROM reward_notices GROUP BY status", cancellationToken: ct)))
        {
            counts[s] = n;
        }

        var items = rows.Select(r => new NoticeItem(r.LedgerId, r.UserId, PhoneNumbers.Mask(r.Phone), r.Kind, r.AmountFen, r.CampaignId, r.Status, r.Channel,
            r.Attempts, r.LastError, Utc(r.CreatedAt), r.NextAttemptAt is { } next ? Utc(next) : null, r.SentAt is { } sent ? Utc(sent) : null)).ToList();
        return TypedResults.Ok(new NoticePage(items, total, page, pageSize, counts));
    }

    private static async Task<Results<Ok<NoticeSettings>, ProblemHttpResult>> GetSettingsAsync(long campaignId, MySqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var sms = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT CAST(notice_sms AS SIGNED) FROM campaigns WHERE id = @campaignId AND deleted_at IS NULL", new { campaignId }, cancellationToken: ct));
        return sms is null ? Problems.NotFound("The campaign") : TypedResults.Ok(new NoticeSettings(campaignId, sms == 1));
    }

    private static async Task<Results<Ok<NoticeSettings>, ProblemHttpResult>> PutSettingsAsync(
        long campaignId, NoticeSettingsCommand command, MySqlDataSource db, CancellationToken ct)
    {
        if (command.Sms is not { } sms)
        {
            return Problems.Validation("sms", "Required: true or false.");
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var found = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT id FROM campaigns WHERE id = @campaignId AND deleted_at IS NULL", new { campaignId }, cancellationToken: ct));
        if (found is null)
        {
            return Problems.NotFound("The campaign");
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE campaigns SET notice_sms = @sms WHERE id = @campaignId", new { campaignId, sms }, cancellationToken: ct));
        return TypedResults.Ok(new NoticeSettings(campaignId, sms));
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}

/// <summary>Runs one of the notifier's background services only when <c>Notices:Enabled</c> is on.</summary>
internal sealed class WhenNoticesEnabled(IServiceProvider services, Type service) : IHostedService, IDisposable
{
    private IHostedService? _inner;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!services.GetRequiredService<IOptions<NoticeOptions>>().Value.Enabled)
        {
            return Task.CompletedTask;
        }

        _inner = (IHostedService)ActivatorUtilities.CreateInstance(services, service);
        return _inner.StartAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _inner?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public void Dispose() => (_inner as IDisposable)?.Dispose();
}
