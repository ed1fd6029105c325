using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Dmh.Platform.Redis;
using Dmh.Platform.Security;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.Ingress.WechatAuth;

/// <summary>
/// The OAuth <c>state</c> of WeChat sign-in (issue 15, M9: login CSRF): issued by the server, signed,
/// bound to the browser by an HttpOnly cookie, expiring, and accepted once. A link that carries
/// someone else's <c>code</c> and <c>state</c> fails in any other browser.
/// </summary>
/// <remarks>
/// WeChat passes <c>state</c> back unchanged but allows only <c>[a-zA-Z0-9]</c>, at most 128 bytes, so
/// the state is hex: nonce (16 bytes), expiry (Unix seconds, 8 bytes), HMAC-SHA256 truncated to 16 bytes
/// over nonce, expiry and the browser's binding, keyed with <c>Security:TokenKey</c>.
/// </remarks>
public sealed class OAuthStates(IOptions<SecurityOptions> security, IConnectionMultiplexer redis, RedisKeys keys, TimeProvider time)
{
    public const string CookieName = "dmh_wx_oauth";
    public const string CookiePath = "/api/v1/auth/wechat";
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private const int NonceBytes = 16;
    private const int MacBytes = 16;
    private const int StateLength = 2 * (NonceBytes + 8 + MacBytes);

    private readonly byte[] _key = Convert.FromBase64String(security.Value.TokenKey);

    public enum Check
    {
        Valid,
        Invalid,
        Expired,
        Used,
    }

    /// <summary>A new state for this browser; the binding cookie is made when the browser has none (kept, so several tabs work).</summary>
    public (string State, DateTimeOffset ExpiresAt) Issue(HttpContext http)
    {
        var binding = http.Request.Cookies[CookieName];
        if (!IsBinding(binding))
        {
            binding = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        }

        http.Response.Cookies.Append(CookieName, binding!, new CookieOptions
        {
            HttpOnly = true,
            Secure = http.Request.IsHttps,
            SameSite = SameSiteMode.Lax,
            Path = CookiePath,
            MaxAge = Lifetime,
        });

        var expires = time.GetUtcNow() + Lifetime;
        var payload = new byte[NonceBytes + 8];
        RandomNumberGenerator.Fill(payload.AsSpan(0, NonceBytes));
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(NonceBytes), expires.ToUnixTimeSeconds());
        return (Convert.ToHexStringLower(payload) + Convert.ToHexStringLower(Mac(payload, binding!)), expires);
    }

    /// <summary>Checks the state against this browser's binding cookie and uses it up (Redis SET NX until it expires).</summary>
    public async Task<Check> UseAsync(string? state, HttpContext http)
    {
        var binding = http.Request.Cookies[CookieName];
        if (state is not { Length: StateLength } || !IsBinding(binding))
        {
            return Check.Invalid;
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromHexString(state);
        }
        catch (FormatException)
        {
            return Check.Invalid;
        }

        var payload = bytes.AsSpan(0, NonceBytes + 8).ToArray();
        if (!CryptographicOperations.FixedTimeEquals(Mac(payload, binding!), bytes.AsSpan(NonceBytes + 8)))
        {
            return Check.Invalid;
        }

        var left = DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadInt64BigEndian(payload.AsSpan(NonceBytes))) - time.GetUtcNow();
        if (left <= TimeSpan.Zero)
        {
            return Check.Expired;
        }

        var key = keys.For("oauth:state:" + state[..(2 * NonceBytes)]);
        return await redis.GetDatabase().StringSetAsync(key, "1", left + TimeSpan.FromSeconds(1), When.NotExists) ? Check.Valid : Check.Used;
    }

    private byte[] Mac(byte[] payload, string binding)
    {
        var input = Encoding.ASCII.GetBytes("oauth-state:" + Convert.ToHexStringLower(payload) + ":" + binding);
        return HMACSHA256.HashData(_key, input)[..MacBytes];
    }

    private static bool IsBinding(string? value) => value is { Length: 32 } && value.All(char.IsAsciiHexDigitLower);
}
