using Dmh.Ingress.Participants;
using Dmh.Platform.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.Ingress.Sms;

/// <summary>Delivers a sign-in code to a phone (an SMS gateway in production).</summary>
public interface ISmsSender
{
    Task SendCodeAsync(string phone, string code, long? campaignId, CancellationToken ct);
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

    public static async Task<string?> ReadAsync(IConnectionMultiplexer redis, RedisKeys keys, string phone) =>
        await redis.GetDatabase().StringGetAsync(Key(keys, phone));

    private static RedisKey Key(RedisKeys keys, string phone) => keys.For("sms:outbox:" + phone);

    [LoggerMessage(Level = LogLevel.Information, Message = "SMS code for {PhoneMasked} (campaign {CampaignId}) put in the dev outbox")]
    private static partial void LogPut(ILogger logger, string phoneMasked, long? campaignId);
}
