using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Dmh.WechatPay;

/// <summary>
/// The byte-level pieces of WeChat Pay v3 (docs/wechatpay-v3.md §1, §2, §4, §5): message layouts,
/// SHA256withRSA (PKCS#1 v1.5) signatures, AEAD_AES_256_GCM of notify resources.
/// </summary>
public static class WechatPayCrypto
{
    public const string SignatureType = "WECHATPAY2-SHA256-RSA2048";

    /// <summary>WeChat's probe signatures start with this; they fail verification by design.</summary>
    public const string SignTestPrefix = "WECHATPAY/SIGNTEST/";

    private const string NonceAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    /// <summary><c>METHOD\nPATH?QUERY\ntimestamp\nnonce\nbody\n</c>: what the merchant signs for a call (GET: empty body line).</summary>
    public static byte[] RequestMessage(string method, string pathAndQuery, string timestamp, string nonce, ReadOnlySpan<byte> body)
    {
        var head = Encoding.UTF8.GetBytes($"{method}\n{pathAndQuery}\n{timestamp}\n{nonce}\n");
        var message = new byte[head.Length + body.Length + 1];
        head.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(head.Length));
        message[^1] = (byte)'\n';
        return message;
    }

    /// <summary><c>timestamp\nnonce\nbody\n</c>: what WeChat signs for responses and notifies.</summary>
    public static byte[] ResponseMessage(string timestamp, string nonce, ReadOnlySpan<byte> body)
    {
        var tsLength = Encoding.UTF8.GetByteCount(timestamp);
        var nonceLength = Encoding.UTF8.GetByteCount(nonce);
        var message = new byte[tsLength + nonceLength + body.Length + 3];
        var span = message.AsSpan();
        Encoding.UTF8.GetBytes(timestamp, span);
        span[tsLength] = (byte)'\n';
        Encoding.UTF8.GetBytes(nonce, span[(tsLength + 1)..]);
        span[tsLength + 1 + nonceLength] = (byte)'\n';
        body.CopyTo(span[(tsLength + nonceLength + 2)..]);
        message[^1] = (byte)'\n';
        return message;
    }

    /// <summary><c>appId\ntimeStamp\nnonceStr\nprepay_id=…\n</c>: the JSAPI paySign message.</summary>
    public static byte[] PaySignMessage(string appId, string timeStamp, string nonceStr, string package) =>
        Encoding.UTF8.GetBytes($"{appId}\n{timeStamp}\n{nonceStr}\n{package}\n");

    public static string Sign(RSA key, ReadOnlySpan<byte> message) =>
        Convert.ToBase64String(key.SignData(message, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

    public static bool Verify(RSA key, ReadOnlySpan<byte> message, string signatureBase64)
    {
        Span<byte> signature = stackalloc byte[512];
        if (!Convert.TryFromBase64String(signatureBase64, signature, out var written))
        {
            return false;
        }

        try
        {
            return key.VerifyData(message, signature[..written], HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>The Authorization header of a merchant call.</summary>
    public static string Authorization(string mchId, string nonce, string signature, string timestamp, string serialNo) =>
        $"{SignatureType} mchid=\"{mchId}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{serialNo}\"";

    /// <summary>32 characters of [A-Z0-9], as WeChat's SDKs make them.</summary>
    public static string NewNonce(int length = 32) => RandomNumberGenerator.GetString(NonceAlphabet, length);

    /// <summary>Decrypts a notify <c>resource</c> (or an encrypted certificate): the last 16 bytes are the tag.</summary>
    public static byte[] Decrypt(ReadOnlySpan<byte> apiV3Key, string nonce, string? associatedData, string ciphertextBase64)
    {
        var data = Convert.FromBase64String(ciphertextBase64);
        if (data.Length < 16)
        {
            throw new CryptographicException("Ciphertext shorter than the GCM tag.");
        }

        var plain = new byte[data.Length - 16];
        using var aes = new AesGcm(apiV3Key, 16);
        aes.Decrypt(Encoding.UTF8.GetBytes(nonce), data.AsSpan(0, data.Length - 16), data.AsSpan(data.Length - 16), plain,
            Encoding.UTF8.GetBytes(associatedData ?? ""));
        return plain;
    }

    /// <summary>The inverse of <see cref="Decrypt"/>: base64 of ciphertext followed by the 16-byte tag.</summary>
    public static string Encrypt(ReadOnlySpan<byte> apiV3Key, string nonce, string? associatedData, ReadOnlySpan<byte> plain)
    {
        var output = new byte[plain.Length + 16];
        using var aes = new AesGcm(apiV3Key, 16);
        aes.Encrypt(Encoding.UTF8.GetBytes(nonce), plain, output.AsSpan(0, plain.Length), output.AsSpan(plain.Length),
            Encoding.UTF8.GetBytes(associatedData ?? ""));
        return Convert.ToBase64String(output);
    }

    public static RSA? TryLoadPrivateKey(string pem)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            // A public-only PEM imports too; signing needs the private part.
            rsa.ExportParameters(includePrivateParameters: true);
            return rsa;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            return null;
        }
    }

    /// <summary>An SPKI public key or an X.509 certificate in PEM.</summary>
    public static RSA? TryLoadPublicKey(string pem)
    {
        try
        {
            if (pem.Contains("BEGIN CERTIFICATE", StringComparison.Ordinal))
            {
                using var cert = X509Certificate2.CreateFromPem(pem);
                return cert.GetRSAPublicKey();
            }

            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return rsa;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            return null;
        }
    }

    public static string UnixSeconds(DateTimeOffset time) => time.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
}
