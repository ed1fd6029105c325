using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dmh.Platform.Security;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Campaigns;

/// <summary>
/// The signed, expiring link that shows a campaign (a draft too) on a phone without publishing it:
/// <c>{campaignId}.{expiresUnixSeconds}.{HMAC}</c>. The MAC is domain-separated from order tokens
/// ("preview:"), so neither kind of token opens the other.
/// </summary>
public sealed class CampaignPreviewTokens(IOptions<SecurityOptions> options, TimeProvider time)
{
    /// <summary>How long a preview link opens the campaign.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    private readonly byte[] _key = Convert.FromBase64String(options.Value.TokenKey);

    public (string Token, DateTimeOffset ExpiresAt) Issue(long campaignId)
    {
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds((time.GetUtcNow() + Lifetime).ToUnixTimeSeconds());
        var body = string.Create(CultureInfo.InvariantCulture, $"{campaignId}.{expiresAt.ToUnixTimeSeconds()}");
        return (body + "." + Base64Url(Mac(body)), expiresAt);
    }

    /// <summary>True when the token is ours, for this campaign and not expired.</summary>
    public bool IsValid(string? token, long campaignId)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            return false;
        }

        var parts = token.Split('.');
        if (parts.Length != 3
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Base64Url(Mac(parts[0] + "." + parts[1])));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(parts[2]))
            && id == campaignId
            && time.GetUtcNow().ToUnixTimeSeconds() < expires;
    }

    private byte[] Mac(string body) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes("preview:" + body));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
