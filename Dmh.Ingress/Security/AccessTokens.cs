using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Dmh.Platform.Security;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Ingress.Security;

/// <summary>What a signed order token says: the order, the token version it was issued for, its expiry.</summary>
public sealed record OrderToken(long OrderId, int Version, DateTimeOffset ExpiresAt);

/// <summary>
/// The registrant's access to one order (<c>X-Order-Token</c>):
/// <c>{orderId}.{version}.{expiresUnixSeconds}.{HMAC}</c>. It cannot be forged or moved to another
/// order, it expires (the campaign's end + <see cref="AfterCampaignEnd"/>), and it is revoked by
/// bumping <c>orders.token_version</c>.
/// </summary>
public sealed class OrderAccessTokens(IOptions<SecurityOptions> options, TimeProvider time, MySqlDataSource dataSource)
{
    public const string HeaderName = "X-Order-Token";

    /// <summary>How long after the campaign's end a token still opens the order (poster, registration code).</summary>
    public static readonly TimeSpan AfterCampaignEnd = TimeSpan.FromDays(30);

    /// <summary>The lifetime of a token of a campaign without an end.</summary>
    public static readonly TimeSpan WithoutCampaignEnd = TimeSpan.FromDays(180);

    private readonly byte[] _key = Convert.FromBase64String(options.Value.TokenKey);

    /// <summary>When a token issued now for an order of a campaign ending at <paramref name="campaignEndUtc"/> expires.</summary>
    public DateTimeOffset ExpiryFor(DateTime? campaignEndUtc) => campaignEndUtc is { } end
        ? new DateTimeOffset(DateTime.SpecifyKind(end, DateTimeKind.Utc)) + AfterCampaignEnd
        : time.GetUtcNow() + WithoutCampaignEnd;

    public string Issue(long orderId, int version, DateTimeOffset expiresAt)
    {
        var body = string.Create(CultureInfo.InvariantCulture, $"{orderId}.{version}.{expiresAt.ToUnixTimeSeconds()}");
        return body + "." + Base64Url(Mac(body));
    }

    /// <summary>The token's claims when it is well-formed, signed by us, for this order and not expired; no version check.</summary>
    public OrderToken? Read(string? token, long orderId)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            return null;
        }

        var parts = token.Split('.');
        if (parts.Length != 4
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
        {
            return null;
        }

        var body = token[..token.LastIndexOf('.')];
        var expected = Encoding.ASCII.GetBytes(Base64Url(Mac(body)));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(parts[3])) || id != orderId)
        {
            return null;
        }

        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(Math.Min(expires, DateTimeOffset.MaxValue.ToUnixTimeSeconds()));
        return time.GetUtcNow() < expiresAt ? new OrderToken(id, version, expiresAt) : null;
    }

    /// <summary>True when the token opens this order now: signed, unexpired and of the order's current token version.</summary>
    public async Task<bool> IsValidAsync(string? token, long orderId, CancellationToken ct)
    {
        if (Read(token, orderId) is not { } claims)
        {
            return false;
        }

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var current = await connection.ExecuteScalarAsync<int?>(new CommandDefinition(
            "SELECT token_version FROM orders WHERE id = @orderId AND deleted_at IS NULL", new { orderId }, cancellationToken: ct));
        return current == claims.Version;
    }

    private byte[] Mac(string body) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes("order:" + body));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
