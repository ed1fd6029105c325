using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace Dmh.WechatPay;

/// <summary>Signs merchant calls (docs/wechatpay-v3.md §4) and the JSAPI paySign (§5).</summary>
public sealed class WechatPaySigner(WechatPayKeys keys, IOptions<WechatPayOptions> options, TimeProvider time)
{
    private readonly WechatPayOptions _options = options.Value;

    /// <summary>A request whose content is exactly the bytes that were signed.</summary>
    public HttpRequestMessage CreateRequest(HttpMethod method, string pathAndQuery, byte[]? body)
    {
        var timestamp = WechatPayCrypto.UnixSeconds(time.GetUtcNow());
        var nonce = WechatPayCrypto.NewNonce();
        var signature = WechatPayCrypto.Sign(keys.MerchantKey,
            WechatPayCrypto.RequestMessage(method.Method, pathAndQuery, timestamp, nonce, body ?? []));
        var request = new HttpRequestMessage(method, pathAndQuery);
        request.Headers.TryAddWithoutValidation("Authorization",
            WechatPayCrypto.Authorization(_options.MchId, nonce, signature, timestamp, _options.MerchantSerialNo));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("dmh", "1.0"));
        if (keys.PublicKeyId is not null)
        {
            request.Headers.TryAddWithoutValidation(WechatPaySignatureHeaders.SerialHeader, keys.PublicKeyId);
        }

        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        return request;
    }

    public JsapiPayParameters PaySign(string prepayId)
    {
        var timeStamp = WechatPayCrypto.UnixSeconds(time.GetUtcNow());
        var nonce = WechatPayCrypto.NewNonce();
        var package = "prepay_id=" + prepayId;
        var sign = WechatPayCrypto.Sign(keys.MerchantKey, WechatPayCrypto.PaySignMessage(_options.AppId, timeStamp, nonce, package));
        return new JsapiPayParameters(_options.AppId, timeStamp, nonce, package, "RSA", sign);
    }
}

public sealed record JsapiPayParameters(string AppId, string TimeStamp, string NonceStr, string Package, string SignType, string PaySign);

/// <summary>A failed call to WeChat Pay: its HTTP status and WeChat's error code when it answered one.</summary>
public sealed class WechatPayException(string message, int status = 0, string? code = null, Exception? inner = null) : Exception(message, inner)
{
    public int Status { get; } = status;

    public string? Code { get; } = code;
}

/// <summary>Platform-certificate mode: <c>GET /v3/certificates</c>, decrypted with the APIv3 key.</summary>
public sealed class WechatPayCertificateDownloader(IHttpClientFactory clients, WechatPaySigner signer, IOptions<WechatPayOptions> options)
{
    public const string ClientName = "wechatpay";

    public async Task<IReadOnlyList<PlatformCertificate>> DownloadAsync(CancellationToken ct)
    {
        using var request = signer.CreateRequest(HttpMethod.Get, "/v3/certificates", null);
        using var response = await clients.CreateClient(ClientName).SendAsync(request, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new WechatPayException($"GET /v3/certificates answered {(int)response.StatusCode}", (int)response.StatusCode);
        }

        var list = JsonSerializer.Deserialize<CertificateList>(body, WechatPayJson.Options)
            ?? throw new WechatPayException("GET /v3/certificates: empty answer");
        var key = Encoding.UTF8.GetBytes(options.Value.ApiV3Key);
        var certificates = new List<PlatformCertificate>();
        foreach (var item in list.Data ?? [])
        {
            var e = item.EncryptCertificate;
            var pem = Encoding.UTF8.GetString(WechatPayCrypto.Decrypt(key, e.Nonce, e.AssociatedData, e.Ciphertext));
            using var cert = X509Certificate2.CreateFromPem(pem);
            var rsa = cert.GetRSAPublicKey() ?? throw new WechatPayException("Platform certificate without an RSA key");
            certificates.Add(new PlatformCertificate(item.SerialNo, rsa, cert.NotBefore.ToUniversalTime(), cert.NotAfter.ToUniversalTime()));
        }

        // The answer is signed by one of the certificates it carries (as WeChat's SDKs check it).
        var headers = WechatPaySignatureHeaders.From(response);
        var signer1 = certificates.FirstOrDefault(c => string.Equals(c.SerialNo, headers.Serial, StringComparison.OrdinalIgnoreCase));
        if (signer1 is null || headers.Timestamp is null || headers.Nonce is null || headers.Signature is null
            || !WechatPayCrypto.Verify(signer1.Key, WechatPayCrypto.ResponseMessage(headers.Timestamp, headers.Nonce, body), headers.Signature))
        {
            throw new WechatPayException("GET /v3/certificates: the answer's signature does not verify");
        }

        return certificates;
    }

    private sealed record CertificateList(List<CertificateItem>? Data);

    private sealed record CertificateItem(string SerialNo, EncryptedResource EncryptCertificate);
}

/// <summary>An encrypted <c>resource</c> (notify) or <c>encrypt_certificate</c>.</summary>
public sealed record EncryptedResource(
    string? Algorithm,
    string Ciphertext,
    string? AssociatedData,
    string Nonce,
    string? OriginalType);

public static class WechatPayJson
{
    /// <summary>WeChat's JSON is snake_case; unknown fields are ignored, nulls are not sent.</summary>
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
