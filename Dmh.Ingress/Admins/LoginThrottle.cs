using Dmh.Platform.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.Ingress.Admins;

/// <summary>
/// Counts failed admin sign-ins per username and per client IP in Redis, each counter expiring a
/// window after its first failure. Over the limit, sign-in answers 429 without checking the password.
/// </summary>
public sealed class LoginThrottle(IConnectionMultiplexer redis, RedisKeys keys, IOptions<AdminOptions> options)
{
    public async Task<TimeSpan?> BlockedForAsync(string username, string ip)
    {
        var db = redis.GetDatabase();
        var userKey = UserKey(username);
        var ipKey = IpKey(ip);
        var values = await db.StringGetAsync([userKey, ipKey]);
        var o = options.Value;
        if ((long?)values[0] >= o.MaxFailuresPerUser)
        {
            return await db.KeyTimeToLiveAsync(userKey) ?? TimeSpan.FromSeconds(o.FailureWindowSeconds);
        }

        if ((long?)values[1] >= o.MaxFailuresPerIp)
        {
            return await db.KeyTimeToLiveAsync(ipKey) ?? TimeSpan.FromSeconds(o.FailureWindowSeconds);
        }

        return null;
    }

    public async Task RecordFailureAsync(string username, string ip)
    {
        var db = redis.GetDatabase();
        var window = TimeSpan.FromSeconds(options.Value.FailureWindowSeconds);
        foreach (var key in new[] { UserKey(username), IpKey(ip) })
        {
            // The expiry is set only with the first failure (NX) so the window does not slide forever.
            var batch = db.CreateBatch();
            var incr = batch.StringIncrementAsync(key);
            var expire = batch.KeyExpireAsync(key, window, ExpireWhen.HasNoExpiry);
            batch.Execute();
            await Task.WhenAll(incr, expire);
        }
    }

    public Task ResetUserAsync(string username) => redis.GetDatabase().KeyDeleteAsync(UserKey(username));

    private RedisKey UserKey(string username) => keys.For("admin-login:user:" + username.ToUpperInvariant());

    private RedisKey IpKey(string ip) => keys.For("admin-login:ip:" + ip);
}
