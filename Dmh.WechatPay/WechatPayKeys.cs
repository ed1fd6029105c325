using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Dmh.WechatPay;

/// <summary>
/// Every key the merchant side uses, parsed once at start (no file I/O on the request path):
/// the merchant private key, WeChat Pay's public key (public-key mode) and the platform
/// certificates downloaded so far (platform-certificate mode), keyed by serial.
/// </summary>
public sealed class WechatPayKeys : IDisposable
{
    private readonly ConcurrentDictionary<string, PlatformCertificate> _certificates = new(StringComparer.OrdinalIgnoreCase);

    public WechatPayKeys(IOptions<WechatPayOptions> options)
    {
        var o = options.Value;
        MerchantKey = WechatPayCrypto.TryLoadPrivateKey(File.ReadAllText(o.MerchantPrivateKeyFile))
            ?? throw new InvalidOperationException("WechatPay:MerchantPrivateKeyFile is not an RSA private key.");
        if (!string.IsNullOrWhiteSpace(o.PublicKeyId) && !string.IsNullOrWhiteSpace(o.PublicKeyFile))
        {
            PublicKeyId = o.PublicKeyId;
            PublicKey = WechatPayCrypto.TryLoadPublicKey(File.ReadAllText(o.PublicKeyFile))
                ?? throw new InvalidOperationException("WechatPay:PublicKeyFile is not an RSA public key.");
        }
    }

    /// <summary>Keys already in memory (tests, or hosts that keep keys elsewhere).</summary>
    public WechatPayKeys(RSA merchantKey, string? publicKeyId, RSA? publicKey)
    {
        MerchantKey = merchantKey;
        PublicKeyId = publicKey is null ? null : publicKeyId;
        PublicKey = publicKey;
    }

    public RSA MerchantKey { get; }

    public string? PublicKeyId { get; }

    public RSA? PublicKey { get; }

    public int CertificateCount => _certificates.Count;

    /// <summary>The key for a <c>Wechatpay-Serial</c>: the public-key id exactly, else a certificate serial (case-insensitive).</summary>
    public RSA? Find(string serial, DateTimeOffset now)
    {
        if (PublicKey is not null && string.Equals(serial, PublicKeyId, StringComparison.Ordinal))
        {
            return PublicKey;
        }

        return _certificates.TryGetValue(serial, out var cert) && cert.NotAfter > now ? cert.Key : null;
    }

    public void AddCertificates(IEnumerable<PlatformCertificate> certificates)
    {
        foreach (var cert in certificates)
        {
            _certificates[cert.SerialNo] = cert;
        }
    }

    public void Dispose()
    {
        MerchantKey.Dispose();
        PublicKey?.Dispose();
        foreach (var cert in _certificates.Values)
        {
            cert.Key.Dispose();
        }
    }
}

/// <summary>One WeChat Pay platform certificate's key.</summary>
public sealed record PlatformCertificate(string SerialNo, RSA Key, DateTimeOffset NotBefore, DateTimeOffset NotAfter);
