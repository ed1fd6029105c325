using Dmh.Platform.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.Ingress.Admins;

/// <summary>
/// Throttles admin sign-in per (username, client IP) with exponential backoff, so failures from one
/// address never lock the account out for everyone else, plus a cap per client IP across usernames.
/// Each attempt is counted as a failure before the password is checked, in one Lua script, so a
/// concurrent burst cannot slip past the check; a successful sign-in takes its count back. Times are
/// judged on <see cref="TimeProvider"/>; Redis TTLs only clean up.
/// </summary>
public sealed class LoginThrottle(IConnectionMultiplexer redis, RedisKeys keys, IOptions<AdminOptions> options, TimeProvider time)
{
    // KEYS: pair (hash n = failures, u = no attempt before this ms), ip (hash n = failures, s = window start ms).
    // ARGV: now ms, failures before backoff, backoff base ms, max backoff ms, window ms, max failures per ip.
    // Returns 0 when the attempt may go ahead (and is counted), else the milliseconds to wait.
    private const string BeginScript = """
        local now = tonumber(ARGV[1])
        local window = tonumber(ARGV[5])
        local pair = redis.call('HMGET', KEYS[1], 'n', 'u')
        local n = tonumber(pair[1]) or 0
        local u = tonumber(pair[2]) or 0
        if now < u then return u - now end
        if now >= u + window then n = 0 end
        local ip = redis.call('HMGET', KEYS[2], 'n', 's')
        local ipn = tonumber(ip[1]) or 0
        local ips = tonumber(ip[2]) or now
        if now >= ips + window then ipn = 0; ips = now end
        if ipn >= tonumber(ARGV[6]) then return math.max(1, ips + window - now) end
        n = n + 1
        local delay = 0
        if n >= tonumber(ARGV[2]) then
          delay = math.floor(math.min(tonumber(ARGV[3]) * 2 ^ (n - tonumber(ARGV[2])), tonumber(ARGV[4])))
        end
        u = now + delay
        redis.call('HSET', KEYS[1], 'n', n, 'u', u)
        redis.call('PEXPIRE', KEYS[1], u + window - now)
        redis.call('HSET', KEYS[2], 'n', ipn + 1, 's', ips)
        redis.call('PEXPIRE', KEYS[2], ips + window - now)
        return 0
        """;

    // KEYS: pair, ip. Forgets the pair's failures and takes the attempt back from the ip's count.
    private const string SucceededScript = """
        redis.call('DEL', KEYS[1])
        if (tonumber(redis.call('HGET', KEYS[2], 'n')) or 0) > 0 then
          redis.call('HINCRBY', KEYS[2], 'n', -1)
        end
        return 0
        """;

    /// <summary>
    /// Counts one sign-in attempt as failed until <see cref="SucceededAsync"/>; null when it may go
    /// ahead, else how long to wait (nothing is counted then).
    /// </summary>
    public async Task<TimeSpan?> BeginAttemptAsync(string username, string ip)
    {
        var o = options.Value;
        var wait = (long)await redis.GetDatabase().ScriptEvaluateAsync(BeginScript,
            [PairKey(username, ip), IpKey(ip)],
            [time.GetUtcNow().ToUnixTimeMilliseconds(), o.FailuresBeforeBackoff, o.BackoffBaseSeconds * 1000L,
             o.MaxBackoffSeconds * 1000L, o.FailureWindowSeconds * 1000L, o.MaxFailuresPerIp]);
        return wait > 0 ? TimeSpan.FromMilliseconds(wait) : null;
    }

    public Task SucceededAsync(string username, string ip) =>
        redis.GetDatabase().ScriptEvaluateAsync(SucceededScript, [PairKey(username, ip), IpKey(ip)]);

    // '|' never occurs in an IP address, so (ip, username) pairs cannot run together.
    private RedisKey PairKey(string username, string ip) => keys.For("admin-login:pair:" + ip + "|" + username.ToUpperInvariant());

    private RedisKey IpKey(string ip) => keys.For("admin-login:ip:" + ip);
}
