using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dmh.Ingress.Orders;
using Dmh.Platform.Redis;
using Dmh.Platform.Security;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.Ingress.Sms;

/// <summary>A send refused by the rate limits; try again after <see cref="RetryAfter"/>.</summary>
public sealed class SmsRateLimitedException(TimeSpan retryAfter)
    : Exception($"Too many SMS codes for this phone; retry after {retryAfter.TotalSeconds:0} s.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>
/// One-time 6-digit sign-in codes per phone, kept in Redis only as an HMAC (keyed with
/// <c>Security:TokenKey</c>) so a Redis dump does not reveal live codes. Expiry and rate windows are
/// judged on <see cref="TimeProvider"/> inside Lua scripts (atomic per phone); Redis TTLs only clean up.
/// </summary>
public sealed class SmsCodes(
    IConnectionMultiplexer redis, RedisKeys keys, ISmsSender sender, IOptions<SmsOptions> options,
    IOptions<SecurityOptions> security, TimeProvider time) : ISmsCodeVerifier
{
    // KEYS: sends (sorted set of send times, ms), code (hash). ARGV: now ms, resend ms, max per hour, code hmac, expires ms, unique member.
    // Returns 0 when stored, else the milliseconds to wait.
    private const string SendScript = """
        local now = tonumber(ARGV[1])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 3600000)
        local last = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        if last[2] and now - tonumber(last[2]) < tonumber(ARGV[2]) then
          return tonumber(last[2]) + tonumber(ARGV[2]) - now
        end
        if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
          local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
          return math.max(1, tonumber(first[2]) + 3600000 - now)
        end
        redis.call('ZADD', KEYS[1], now, ARGV[6])
        redis.call('PEXPIRE', KEYS[1], 3600000)
        redis.call('DEL', KEYS[2])
        redis.call('HSET', KEYS[2], 'h', ARGV[4], 'exp', ARGV[5], 'a', 0)
        redis.call('PEXPIRE', KEYS[2], math.max(1, tonumber(ARGV[5]) - now))
        return 0
        """;

    // KEYS: code. ARGV: now ms, candidate hmac, max attempts. 1 = valid (and consumed), 0 = not.
    private const string VerifyScript = """
        local code = redis.call('HMGET', KEYS[1], 'h', 'exp', 'a')
        if not code[1] then return 0 end
        if tonumber(ARGV[1]) >= tonumber(code[2]) then
          redis.call('DEL', KEYS[1])
          return 0
        end
        if code[1] == ARGV[2] then
          redis.call('DEL', KEYS[1])
          return 1
        end
        if redis.call('HINCRBY', KEYS[1], 'a', 1) >= tonumber(ARGV[3]) then
          redis.call('DEL', KEYS[1])
        end
        return 0
        """;

    private readonly byte[] _hmacKey = Convert.FromBase64String(security.Value.TokenKey);

    public Task SendAsync(string phone, long? campaignId = null) => SendAsync(phone, campaignId, CancellationToken.None);

    /// <summary>Issues a new code (replacing any earlier one) and sends it.</summary>
    /// <exception cref="SmsRateLimitedException">Sent too recently or too often within the hour.</exception>
    public async Task SendAsync(string phone, long? campaignId, CancellationToken ct)
    {
        var o = options.Value;
        var code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var wait = (long)await redis.GetDatabase().ScriptEvaluateAsync(SendScript,
            [SendsKey(phone), CodeKey(phone)],
            [now, o.ResendIntervalSeconds * 1000L, o.MaxSendsPerHour, Hash(phone, code), now + o.CodeLifetimeSeconds * 1000L, Guid.NewGuid().ToString("N")]);
        if (wait > 0)
        {
            throw new SmsRateLimitedException(TimeSpan.FromMilliseconds(wait));
        }

        await sender.SendCodeAsync(phone, code, campaignId, ct);
    }

    public Task<bool> VerifyAsync(string phone, string code) => VerifyAsync(phone, code, CancellationToken.None);

    /// <summary>True once for the right, unexpired code; every call with a wrong code counts as an attempt.</summary>
    public async Task<bool> VerifyAsync(string phone, string code, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (code is not { Length: 6 } || !code.All(char.IsAsciiDigit))
        {
            return false;
        }

        var result = await redis.GetDatabase().ScriptEvaluateAsync(VerifyScript,
            [CodeKey(phone)], [time.GetUtcNow().ToUnixTimeMilliseconds(), Hash(phone, code), options.Value.MaxVerifyAttempts]);
        return (long)result == 1;
    }

    private string Hash(string phone, string code) =>
        Convert.ToHexString(HMACSHA256.HashData(_hmacKey, Encoding.UTF8.GetBytes(phone + ":" + code)));

    private RedisKey SendsKey(string phone) => keys.For("sms:sends:" + phone);

    private RedisKey CodeKey(string phone) => keys.For("sms:code:" + phone);
}
