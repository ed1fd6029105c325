using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Dmh.Ingress.Sms;

/// <summary>
/// Tencent Cloud API 3.0 request signing, TC3-HMAC-SHA256 ("Signature v3", the same page in every
/// product's API documentation, e.g. https://www.tencentcloud.com/document/api/215/38340): a canonical
/// request of a POST to <c>/</c> with the signed headers (names lowercase, values trimmed and
/// lowercase, sorted) and the body's SHA-256; the string to sign with the timestamp and the credential
/// scope <c>date/service/tc3_request</c> (the UTC date of the timestamp); a key derived from the
/// secret through the date, the service and <c>tc3_request</c>.
/// </summary>
public static class Tc3Signer
{
    public const string Algorithm = "TC3-HMAC-SHA256";

    /// <summary>The <c>Authorization</c> header value for a POST to <c>/</c> with <paramref name="headers"/> signed (must include content-type and host).</summary>
    public static string Authorization(
        string secretId, string secretKey, string service, IEnumerable<KeyValuePair<string, string>> headers, ReadOnlySpan<byte> payload, long timestamp)
    {
        var (signedHeaders, canonical) = Canonical(headers);
        var date = Date(timestamp);
        var signature = Signature(secretKey, service, date, StringToSign(CanonicalRequest(canonical, signedHeaders, payload), timestamp, $"{date}/{service}/tc3_request"));
        return $"{Algorithm} Credential={secretId}/{date}/{service}/tc3_request, SignedHeaders={signedHeaders}, Signature={signature}";
    }

    public static string Date(long timestamp) =>
        DateTimeOffset.FromUnixTimeSeconds(timestamp).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Signed header names joined by ';' and the canonical header lines, both sorted by name.</summary>
    public static (string SignedHeaders, string CanonicalHeaders) Canonical(IEnumerable<KeyValuePair<string, string>> headers)
    {
        var sorted = headers
            .Select(h => (Name: h.Key.Trim().ToLowerInvariant(), Value: h.Value.Trim().ToLowerInvariant()))
            .OrderBy(h => h.Name, StringComparer.Ordinal)
            .ToList();
        return (string.Join(';', sorted.Select(h => h.Name)), string.Concat(sorted.Select(h => h.Name + ":" + h.Value + "\n")));
    }

    public static string CanonicalRequest(string canonicalHeaders, string signedHeaders, ReadOnlySpan<byte> payload) =>
        "POST\n/\n\n" + canonicalHeaders + "\n" + signedHeaders + "\n" + Hex(SHA256.HashData(payload));

    public static string StringToSign(string canonicalRequest, long timestamp, string credentialScope) =>
        Algorithm + "\n" + timestamp.ToString(CultureInfo.InvariantCulture) + "\n" + credentialScope + "\n"
        + Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)));

    public static string Signature(string secretKey, string service, string date, string stringToSign)
    {
        var secretDate = HMACSHA256.HashData(Encoding.UTF8.GetBytes("TC3" + secretKey), Encoding.UTF8.GetBytes(date));
        var secretService = HMACSHA256.HashData(secretDate, Encoding.UTF8.GetBytes(service));
        var secretSigning = HMACSHA256.HashData(secretService, "tc3_request"u8);
        return Hex(HMACSHA256.HashData(secretSigning, Encoding.UTF8.GetBytes(stringToSign)));
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
