using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dmh.Platform.Security;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Security;

/// <summary>
/// The registrant's access to one order (<c>X-Order-Token</c>): an HMAC over the order id, so it
/// needs no storage and cannot be forged or moved to another order.
/// </summary>
public sealed class OrderAccessTokens(IOptions<SecurityOptions> options)
{
    public const string HeaderName = "X-Order-Token";

    private readonly byte[] _key = Convert.FromBase64String(options.Value.TokenKey);

    public string Issue(long orderId)
    {
        var id = orderId.ToString(CultureInfo.InvariantCulture);
        return id + "." + Base64Url(Mac(id));
    }

    public bool IsValid(string? token, long orderId)
    {
        if (string.IsNullOrEmpty(token))
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Issue(orderId));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(token));
    }

    private byte[] Mac(string id) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes("order:" + id));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
