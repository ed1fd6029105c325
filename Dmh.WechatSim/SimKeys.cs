using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dmh.WechatPay;
using Microsoft.Extensions.Options;

namespace Dmh.WechatSim;

/// <summary>
/// The simulator's WeChat Pay key: made once under KeyDirectory, published as
/// <c>wechatpay_public_key.pem</c> (public-key mode, id <c>PUB_KEY_ID_SIM…</c>) and as a self-signed
/// platform certificate (certificate mode), plus the merchant's public key it checks calls with.
/// </summary>
public sealed class SimKeys : IDisposable
{
    public const string PrivateKeyFile = "wechatpay_private_key.pem";
    public const string PublicKeyFile = "wechatpay_public_key.pem";
    public const string PublicKeyIdFile = "wechatpay_public_key_id";
    public const string CertificateFile = "wechatpay_platform_cert.pem";

    public SimKeys(IOptions<SimulatorOptions> options)
    {
        var dir = options.Value.KeyDirectory;
        Directory.CreateDirectory(dir);
        var privatePath = Path.Combine(dir, PrivateKeyFile);
        if (!File.Exists(privatePath) || !File.Exists(Path.Combine(dir, PublicKeyIdFile)) || !File.Exists(Path.Combine(dir, CertificateFile)))
        {
            Generate(dir);
        }

        Key = RSA.Create();
        Key.ImportFromPem(File.ReadAllText(privatePath));
        PublicKeyId = File.ReadAllText(Path.Combine(dir, PublicKeyIdFile)).Trim();
        CertificatePem = File.ReadAllText(Path.Combine(dir, CertificateFile));
        using var cert = X509Certificate2.CreateFromPem(CertificatePem);
        CertificateSerial = cert.SerialNumber;
        CertificateNotBefore = cert.NotBefore.ToUniversalTime();
        CertificateNotAfter = cert.NotAfter.ToUniversalTime();
        MerchantKey = WechatPayCrypto.TryLoadPublicKey(File.ReadAllText(options.Value.MerchantPublicKeyFile))
            ?? throw new InvalidOperationException("Simulator:MerchantPublicKeyFile is not an RSA public key.");
    }

    public RSA Key { get; }

    public string PublicKeyId { get; }

    public string CertificatePem { get; }

    public string CertificateSerial { get; }

    public DateTime CertificateNotBefore { get; }

    public DateTime CertificateNotAfter { get; }

    public RSA MerchantKey { get; }

    public void Dispose()
    {
        Key.Dispose();
        MerchantKey.Dispose();
    }

    private static void Generate(string dir)
    {
        using var rsa = RSA.Create(2048);
        var id = "PUB_KEY_ID_SIM" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        var request = new CertificateRequest("CN=Tenpay.com Root CA Simulator, O=DMH WechatSim", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var now = DateTimeOffset.UtcNow;
        using var cert = request.Create(request.SubjectName, X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1),
            now.AddDays(-1), now.AddYears(5), RandomNumberGenerator.GetBytes(20).Select((b, i) => i == 0 ? (byte)(b & 0x7F | 0x10) : b).ToArray());
        Write(dir, PrivateKeyFile, rsa.ExportPkcs8PrivateKeyPem());
        Write(dir, CertificateFile, cert.ExportCertificatePem());
        Write(dir, PublicKeyIdFile, id);
        // Last: ./dmh and DMH read this file, so it appears only once everything else exists.
        Write(dir, PublicKeyFile, rsa.ExportSubjectPublicKeyInfoPem());
    }

    private static void Write(string dir, string name, string content)
    {
        var temp = Path.Combine(dir, name + ".tmp");
        File.WriteAllText(temp, content);
        File.Move(temp, Path.Combine(dir, name), overwrite: true);
    }
}
