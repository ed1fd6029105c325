using Dmh.Platform.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.Ingress.CheckIns;

/// <summary>
/// Counts the unknown codes an account looks up. Codes are 10 characters of a 32-letter alphabet
/// (50 random bits), so guessing is hopeless anyway; the cap stops a stolen staff account from
/// sweeping the code space or hammering MySQL. Misses only: a desk checking in a queue never waits.
/// </summary>
public sealed class CheckInThrottle(IConnectionMultiplexer redis, RedisKeys keys, IOptions<CheckInOptions> options)
{
    // KEYS: the account's counter. ARGV: window ms. Returns the count after this miss.
    private const string MissScript = """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return n
        """;

    /// <summary>How long the account must wait, or null when it may look up a code.</summary>
    public async Task<TimeSpan?> WaitAsync(long adminId)
    {
        var db = redis.GetDatabase();
        var key = Key(adminId);
        var misses = (long?)await db.StringGetAsync(key) ?? 0;
        if (misses < options.Value.MaxMissesPerWindow)
        {
            return null;
        }

        var ttl = await db.KeyTimeToLiveAsync(key);
        return ttl is { } t && t > TimeSpan.Zero ? t : TimeSpan.FromSeconds(1);
    }

    public Task MissAsync(long adminId) =>
        redis.GetDatabase().ScriptEvaluateAsync(MissScript, [Key(adminId)], [options.Value.MissWindowSeconds * 1000L]);

    private RedisKey Key(long adminId) => keys.For("checkin:misses:" + adminId.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
