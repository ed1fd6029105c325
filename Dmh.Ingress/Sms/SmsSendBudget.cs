using System.Globalization;
using Dmh.Ingress.Orders;
using Dmh.Platform.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.Ingress.Sms;

/// <summary>
/// Against SMS pumping (bots requesting codes for ranges of premium numbers): fixed-window budgets of
/// codes per phone prefix and in all (<see cref="RateLimitOptions"/>), in Redis so every Ingress process
/// shares them. Both are checked and counted in one script; the windows are judged on <see cref="TimeProvider"/>.
/// </summary>
public sealed class SmsSendBudget(IConnectionMultiplexer redis, RedisKeys keys, IOptions<RateLimitOptions> options, TimeProvider time)
{
    // KEYS: prefix counter, global counter. ARGV: prefix limit, prefix ms left, global limit, global ms left.
    // Returns 0 when both had room (both counted), else the milliseconds until the full window ends.
    private const string ReserveScript = """
        local prefix = tonumber(redis.call('GET', KEYS[1]) or '0')
        local global = tonumber(redis.call('GET', KEYS[2]) or '0')
        local wait = 0
        if prefix >= tonumber(ARGV[1]) then wait = tonumber(ARGV[2]) end
        if global >= tonumber(ARGV[3]) then wait = math.max(wait, tonumber(ARGV[4])) end
        if wait > 0 then return wait end
        redis.call('INCR', KEYS[1])
        redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 60000)
        redis.call('INCR', KEYS[2])
        redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]) + 60000)
        return 0
        """;

    /// <summary>The counters one send was counted in, to give back if it is not sent after all.</summary>
    public sealed record Reservation(RedisKey Prefix, RedisKey Global);

    /// <summary>Counts one code for the phone, or answers how long to wait when a budget is spent.</summary>
    public async Task<(Reservation? Reservation, TimeSpan RetryAfter)> TryReserveAsync(string phone)
    {
        var o = options.Value;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var (prefixKey, prefixLeft) = Window("sms:budget:prefix:" + phone[..Math.Min(o.SmsPrefixDigits, phone.Length)], o.SmsPrefixWindowSeconds, now);
        var (globalKey, globalLeft) = Window("sms:budget:global", o.SmsGlobalWindowSeconds, now);
        var wait = (long)await redis.GetDatabase().ScriptEvaluateAsync(ReserveScript,
            [prefixKey, globalKey], [o.SmsPerPrefixPermitLimit, prefixLeft, o.SmsGlobalPermitLimit, globalLeft]);
        return wait > 0 ? (null, TimeSpan.FromMilliseconds(wait)) : (new Reservation(prefixKey, globalKey), TimeSpan.Zero);
    }

    /// <summary>Gives a reservation back (the phone's own limit refused the code, so none was sent).</summary>
    public async Task ReleaseAsync(Reservation reservation)
    {
        var db = redis.GetDatabase();
        await Task.WhenAll(db.StringDecrementAsync(reservation.Prefix), db.StringDecrementAsync(reservation.Global));
    }

    private (RedisKey Key, long MillisecondsLeft) Window(string name, int seconds, long now)
    {
        var length = seconds * 1000L;
        var index = now / length;
        return (keys.For(name + ":" + index.ToString(CultureInfo.InvariantCulture)), (index + 1) * length - now);
    }
}
