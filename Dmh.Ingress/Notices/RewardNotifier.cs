using Dapper;
using Dmh.Contracts;
using Dmh.Ingress.Http;
using Dmh.Ingress.Participants;
using Dmh.Ingress.Sms;
using Dmh.Platform.Streams;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Prometheus;

namespace Dmh.Ingress.Notices;

/// <summary><c>reward_notices.status</c>.</summary>
public static class NoticeStatus
{
    public const string Pending = "pending";
    public const string Sending = "sending";
    public const string Sent = "sent";
    public const string Skipped = "skipped";
    public const string Failed = "failed";

    public static readonly IReadOnlyList<string> All = [Pending, Sending, Sent, Skipped, Failed];
}

/// <summary><c>reward_notices.channel</c>.</summary>
public static class NoticeChannel
{
    public const string Wechat = "wechat";
    public const string Sms = "sms";
    public const string None = "none";
}

/// <summary>
/// Tells a participant that their rewards changed: a WeChat subscribe notice when they accepted one
/// (each consent is used by one notice), else an SMS when the campaign allows it, else nothing
/// (recorded as skipped). The notice row is claimed first (pending → sending, one UPDATE), so however
/// often an event is delivered, and however many notifiers run, one of them sends it; a failure that
/// may pass is tried again after a growing pause, up to <see cref="NoticeOptions.MaxAttempts"/>.
/// </summary>
public sealed class RewardNotifier(
    MySqlDataSource dataSource,
    SubscribeMessageClient wechat,
    ISmsSender sms,
    IOptions<NoticeOptions> options,
    IOptions<PublicOptions> publicOptions,
    TimeProvider time,
    ILogger<RewardNotifier> logger)
{
    private static readonly Counter Outcomes = Metrics.CreateCounter(
        "dmh_reward_notices_total", "Reward notice attempts, by channel and outcome (sent, skipped, retry, failed).", "channel", "outcome");

    private readonly NoticeOptions _options = options.Value;
    private readonly TimeZoneInfo _zone = TimeZoneInfo.FindSystemTimeZoneById(options.Value.TimeZone);

    private sealed class Notice
    {
        public long LedgerId { get; init; }
        public long UserId { get; init; }
        public string Kind { get; init; } = "";
        public long AmountFen { get; init; }
        public long? CampaignId { get; init; }
        public DateTime LedgerCreatedAt { get; init; }
        public int Attempts { get; init; }
        public string? Phone { get; init; }
        public string? CampaignName { get; init; }
        public bool CampaignSms { get; init; }
    }

    private sealed record Result(string Status, string Channel, string? Error = null);

    /// <summary>
    /// Records as skipped, in one statement, every due notice of <paramref name="ledgerIds"/> that no
    /// channel can carry: no WeChat consent it could use, and SMS not allowed for it or not configured
    /// (the same outcome and wording <see cref="NotifyAsync"/> records for each). Most participants
    /// never subscribe, so most notices end here instead of costing a claim, a read, a consent lookup
    /// and a record each. Returns the ids still pending, for <see cref="NotifyAsync"/>.
    /// </summary>
    public async Task<IReadOnlyList<long>> SkipUnreachableAsync(IReadOnlyList<long> ledgerIds, CancellationToken ct)
    {
        if (ledgerIds.Count == 0)
        {
            return [];
        }

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition("""
            UPDATE reward_notices n LEFT JOIN campaigns c ON c.id = n.campaign_id
            SET n.status = 'skipped', n.channel = 'none', n.attempts = n.attempts + 1, n.claimed_until = NULL, n.next_attempt_at = NULL,
                n.last_error = IF(IF(n.kind = @payout, @smsPayouts, COALESCE(c.notice_sms, 0) <> 0),
                                  'no WeChat subscription; no SMS template or phone', 'no WeChat subscription; SMS not allowed for this campaign')
            WHERE n.ledger_id IN @ledgerIds AND n.status = 'pending' AND (n.next_attempt_at IS NULL OR n.next_attempt_at <= @now)
              AND (@wechatTemplate = ''
                   OR (NOT EXISTS (SELECT 1 FROM notice_subscriptions s WHERE s.ledger_id = n.ledger_id)
                       AND NOT EXISTS (SELECT 1 FROM notice_subscriptions s
                                       WHERE s.participant_id = n.user_id AND s.template_id = @wechatTemplate AND s.ledger_id IS NULL)))
              AND (@smsTemplate = '' OR NOT IF(n.kind = @payout, @smsPayouts, COALESCE(c.notice_sms, 0) <> 0));
            SELECT ROW_COUNT();
            SELECT ledger_id FROM reward_notices WHERE ledger_id IN @ledgerIds AND status = 'pending' ORDER BY ledger_id;
            """, new
        {
            ledgerIds,
            now = time.GetUtcNow().UtcDateTime,
            payout = RewardChangeKinds.Payout,
            smsPayouts = _options.Sms.Payouts,
            wechatTemplate = _options.Wechat.TemplateId,
            smsTemplate = _options.Sms.TemplateId,
        }, cancellationToken: ct));
        var skipped = await results.ReadSingleAsync<long>();
        Outcomes.WithLabels(NoticeChannel.None, NoticeStatus.Skipped).Inc(skipped);
        return [.. await results.ReadAsync<long>()];
    }

    /// <summary>Claims the notice if it is due and sends it; false when it was not this caller's to send (done, in flight, or not due yet).</summary>
    public async Task<bool> NotifyAsync(long ledgerId, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var claimed = await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE reward_notices SET status = 'sending', attempts = attempts + 1, claimed_until = @until
            WHERE ledger_id = @ledgerId AND status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= @now)
            """, new { ledgerId, now, until = now + _options.ClaimTime }, cancellationToken: ct));
        if (claimed == 0)
        {
            return false;
        }

        var notice = await connection.QuerySingleAsync<Notice>(new CommandDefinition("""
            SELECT n.ledger_id AS LedgerId, n.user_id AS UserId, n.kind AS Kind, n.amount_fen AS AmountFen, n.campaign_id AS CampaignId,
                   n.ledger_created_at AS LedgerCreatedAt, n.attempts AS Attempts, p.phone AS Phone, c.name AS CampaignName,
                   COALESCE(c.notice_sms, 0) <> 0 AS CampaignSms
            FROM reward_notices n
            LEFT JOIN participants p ON p.id = n.user_id
            LEFT JOIN campaigns c ON c.id = n.campaign_id
            WHERE n.ledger_id = @ledgerId
            """, new { ledgerId }, cancellationToken: ct));

        Result result;
        try
        {
            result = await DeliverAsync(connection, notice, now, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && !DependencyUnavailableException.IsDatabaseUnreachable(ex))
        {
            logger.LogError(ex, "Reward notice {LedgerId} failed", ledgerId);
            result = new Result("retry", NoticeChannel.None, ex.Message);
        }

        await RecordAsync(connection, notice, result, ct);
        return true;
    }

    private async Task<Result> DeliverAsync(MySqlConnection connection, Notice notice, DateTime now, CancellationToken ct)
    {
        var at = new DateTimeOffset(DateTime.SpecifyKind(notice.LedgerCreatedAt, DateTimeKind.Utc));
        string? wechatError = null;
        if (_options.Wechat.TemplateId.Length > 0 && await ConsentAsync(connection, notice, now, ct) is { } openid)
        {
            var page = publicOptions.Value.BaseUrl.TrimEnd('/') + _options.Wechat.Page;
            var data = NoticeText.Keywords(_options.Wechat.EffectiveFields, notice.Kind, notice.AmountFen, notice.CampaignName, at, _zone);
            var sent = await wechat.SendAsync(openid, _options.Wechat.TemplateId, page, data, ct);
            switch (sent.Outcome)
            {
                case SubscribeOutcome.Sent:
                    return new Result(NoticeStatus.Sent, NoticeChannel.Wechat);
                case SubscribeOutcome.Retry:
                    return new Result("retry", NoticeChannel.Wechat, sent.Error);
                case SubscribeOutcome.Refused:
                case SubscribeOutcome.Unknown:
                    return new Result(NoticeStatus.Failed, NoticeChannel.Wechat, sent.Error);
                default:
                    // The consent is gone (43101): as if there had been none.
                    wechatError = "WeChat: " + sent.Error;
                    break;
            }
        }

        var smsAllowed = notice.Kind == RewardChangeKinds.Payout ? _options.Sms.Payouts : notice.CampaignSms;
        if (_options.Sms.TemplateId.Length > 0 && smsAllowed && PhoneNumbers.IsMainlandMobile(notice.Phone))
        {
            var parameters = _options.Sms.ParamNames().Select(p => NoticeText.Value(p, notice.Kind, notice.AmountFen, notice.CampaignName, at, _zone)).ToList();
            try
            {
                await sms.SendNoticeAsync(notice.Phone!, _options.Sms.TemplateId, parameters, ct);
                return new Result(NoticeStatus.Sent, NoticeChannel.Sms);
            }
            catch (SmsDeliveryException ex)
            {
                return new Result(ex.Kind == SmsFailure.Unavailable ? "retry" : NoticeStatus.Failed, NoticeChannel.Sms, ex.Message);
            }
        }

        return new Result(NoticeStatus.Skipped, NoticeChannel.None,
            wechatError ?? (smsAllowed ? "no WeChat subscription; no SMS template or phone" : "no WeChat subscription; SMS not allowed for this campaign"));
    }

    /// <summary>The openid of the consent this notice uses: the one it took on an earlier try, else the participant's oldest unused one.</summary>
    private async Task<string?> ConsentAsync(MySqlConnection connection, Notice notice, DateTime now, CancellationToken ct)
    {
        const string Mine = "SELECT openid FROM notice_subscriptions WHERE ledger_id = @LedgerId";
        var openid = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(Mine, new { notice.LedgerId }, cancellationToken: ct));
        if (openid is not null)
        {
            return openid;
        }

        var taken = await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE notice_subscriptions SET ledger_id = @LedgerId, used_at = @now
            WHERE participant_id = @UserId AND template_id = @template AND ledger_id IS NULL
            ORDER BY id LIMIT 1
            """, new { notice.LedgerId, notice.UserId, now, template = _options.Wechat.TemplateId }, cancellationToken: ct));
        return taken == 0 ? null : await connection.ExecuteScalarAsync<string?>(new CommandDefinition(Mine, new { notice.LedgerId }, cancellationToken: ct));
    }

    private async Task RecordAsync(MySqlConnection connection, Notice notice, Result result, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var status = result.Status;
        DateTime? next = null;
        if (status == "retry")
        {
            if (notice.Attempts >= _options.MaxAttempts)
            {
                status = NoticeStatus.Failed;
            }
            else
            {
                status = NoticeStatus.Pending;
                var delay = TimeSpan.FromTicks(Math.Min(_options.RetryDelay.Ticks * (1L << Math.Min(notice.Attempts - 1, 30)), _options.MaxRetryDelay.Ticks));
                next = now + delay;
            }
        }

        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE reward_notices
            SET status = @status, channel = @channel, next_attempt_at = @next, claimed_until = NULL, last_error = @error,
                sent_at = IF(@status = 'sent', @now, sent_at)
            WHERE ledger_id = @LedgerId AND status = 'sending'
            """, new { status, channel = result.Channel, next, error = result.Error is { Length: > 500 } e ? e[..500] : result.Error, now, notice.LedgerId },
            cancellationToken: ct));
        Outcomes.WithLabels(result.Channel, result.Status == "retry" ? (status == NoticeStatus.Failed ? NoticeStatus.Failed : "retry") : status).Inc();
        if (status == NoticeStatus.Failed)
        {
            logger.LogWarning("Reward notice {LedgerId} failed after {Attempts} attempts on {Channel}: {Error}", notice.LedgerId, notice.Attempts, result.Channel, result.Error);
        }
    }

    /// <summary>
    /// Marks notices whose claim ran out (their notifier stopped while sending) failed, and sends those
    /// due again or whose event never came. Returns how many it sent or tried.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        List<long> due;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        {
            var lost = await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE reward_notices SET status = 'failed', claimed_until = NULL,
                       last_error = 'The notifier stopped while sending: it may have been sent, so it is not sent again.'
                WHERE status = 'sending' AND claimed_until < @now
                """, new { now }, cancellationToken: ct));
            if (lost > 0)
            {
                Outcomes.WithLabels(NoticeChannel.None, "lost").Inc(lost);
                logger.LogWarning("{Count} reward notices were claimed by a notifier that stopped while sending; marked failed", lost);
            }

            due = (await connection.QueryAsync<long>(new CommandDefinition("""
                SELECT ledger_id FROM reward_notices
                WHERE status = 'pending' AND ((next_attempt_at IS NOT NULL AND next_attempt_at <= @now)
                   OR (next_attempt_at IS NULL AND published_at <= @stale))
                ORDER BY ledger_id LIMIT @limit
                """, new { now, stale = now - _options.StaleAfter, limit = _options.BatchSize }, cancellationToken: ct))).ToList();
        }

        var done = 0;
        foreach (var id in due)
        {
            if (await NotifyAsync(id, ct))
            {
                done++;
            }
        }

        return done;
    }
}
