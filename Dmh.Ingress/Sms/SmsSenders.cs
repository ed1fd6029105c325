using Dmh.Ingress.Participants;
using Dmh.Platform.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.Ingress.Sms;

/// <summary>Delivers a sign-in code, or a notice, to a phone (an SMS gateway in production).</summary>
public interface ISmsSender
{
    Task SendCodeAsync(string phone, string code, long? campaignId, CancellationToken ct);

    /// <summary>
    /// Sends an approved notice template filled with <paramref name="parameters"/> ({1}, {2}, …; issue 18's
    /// reward notices). Throws <see cref="SmsDeliveryException"/> when it was not sent.
    /// </summary>
    Task SendNoticeAsync(string phone, string templateId, IReadOnlyList<string> parameters, CancellationToken ct);
}

/// <summary>
/// The default without a gateway: nothing is delivered. Logs the masked phone only; a code never
/// goes to a log, at any level.
/// </summary>
public sealed partial class LogSmsSender(ILogger<LogSmsSender> logger) : ISmsSender
{
    public Task SendCodeAsync(string phone, string code, long? campaignId, CancellationToken ct)
    {
        LogNotDelivered(logger, PhoneNumbers.Mask(phone), campaignId);
        return Task.CompletedTask;
    }

    public Task SendNoticeAsync(string phone, string templateId, IReadOnlyList<string> parameters, CancellationToken ct)
    {
        LogNoticeNotDelivered(logger, PhoneNumbers.Mask(phone), templateId);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "SMS notice {TemplateId} for {PhoneMasked} not delivered: no SMS gateway is configured")]
    private static partial void LogNoticeNotDelivered(ILogger logger, string phoneMasked, string templateId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SMS code for {PhoneMasked} (campaign {CampaignId}) not delivered: no SMS gateway is configured")]
    private static partial void LogNotDelivered(ILogger logger, string phoneMasked, long? campaignId);
}

/// <summary>
/// <c>Sms:DevOutbox</c> only (never in Production, refused at start there): keeps the last code per
/// phone in Redis for the code's lifetime so local runs and browser tests can read it.
/// </summary>
public sealed partial class DevOutboxSmsSender(IConnectionMultiplexer redis, RedisKeys keys, IOptions<SmsOptions> options, ILogger<DevOutboxSmsSender> logger) : ISmsSender
{
    public async Task SendCodeAsync(string phone, string code, long? campaignId, CancellationToken ct)
    {
        await redis.GetDatabase().StringSetAsync(Key(keys, phone), code, TimeSpan.FromSeconds(options.Value.CodeLifetimeSeconds));
        LogPut(logger, PhoneNumbers.Mask(phone), campaignId);
    }

    /// <summary>The last notice per phone (template id and parameters), kept as long as a code would be.</summary>
    public async Task SendNoticeAsync(string phone, string templateId, IReadOnlyList<string> parameters, CancellationToken ct)
    {
        await redis.GetDatabase().StringSetAsync(keys.For("sms:outbox:notice:" + phone), templateId + ":" + string.Join("|", parameters),
            TimeSpan.FromSeconds(options.Value.CodeLifetimeSeconds));
        LogNoticePut(logger, PhoneNumbers.Mask(phone), templateId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "SMS notice {TemplateId} for {PhoneMasked} put in the dev outbox")]
    private static partial void LogNoticePut(ILogger logger, string phoneMasked, string templateId);

    public static async Task<string?> ReadAsync(IConnectionMultiplexer redis, RedisKeys keys, string phone) =>
        await redis.GetDatabase().StringGetAsync(Key(keys, phone));

    private static RedisKey Key(RedisKeys keys, string phone) => keys.For("sms:outbox:" + phone);

    [LoggerMessage(Level = LogLevel.Information, Message = "SMS code for {PhoneMasked} (campaign {CampaignId}) put in the dev outbox")]
    private static partial void LogPut(ILogger logger, string phoneMasked, long? campaignId);
}
