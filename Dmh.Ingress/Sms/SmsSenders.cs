using Dmh.Platform.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.Ingress.Sms;

/// <summary>Delivers a sign-in code to a phone (an SMS gateway in production).</summary>
public interface ISmsSender
{
    Task SendCodeAsync(string phone, string code, long? campaignId, CancellationToken ct);
}

/// <summary>The local default: no gateway, the code goes to the log.</summary>
public sealed partial class LogSmsSender(ILogger<LogSmsSender> logger) : ISmsSender
{
    public Task SendCodeAsync(string phone, string code, long? campaignId, CancellationToken ct)
    {
        LogCode(logger, phone, code, campaignId);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "SMS code {Code} for {Phone} (campaign {CampaignId})")]
    private static partial void LogCode(ILogger logger, string phone, string code, long? campaignId);
}

/// <summary>
/// <c>Sms:DevOutbox</c> only: logs the code like <see cref="LogSmsSender"/> and keeps the last one per
/// phone in Redis (for the code's lifetime) so browser tests can read it.
/// </summary>
public sealed class DevOutboxSmsSender(LogSmsSender log, IConnectionMultiplexer redis, RedisKeys keys, IOptions<SmsOptions> options) : ISmsSender
{
    public async Task SendCodeAsync(string phone, string code, long? campaignId, CancellationToken ct)
    {
        await log.SendCodeAsync(phone, code, campaignId, ct);
        await redis.GetDatabase().StringSetAsync(Key(keys, phone), code, TimeSpan.FromSeconds(options.Value.CodeLifetimeSeconds));
    }

    public static async Task<string?> ReadAsync(IConnectionMultiplexer redis, RedisKeys keys, string phone) =>
        await redis.GetDatabase().StringGetAsync(Key(keys, phone));

    private static RedisKey Key(RedisKeys keys, string phone) => keys.For("sms:outbox:" + phone);
}
