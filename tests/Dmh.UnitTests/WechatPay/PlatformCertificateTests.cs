using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Dmh.WechatPay;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Dmh.UnitTests.WechatPay;

/// <summary>Platform-certificate mode and the migration to public keys: one download per unknown serial, then fail.</summary>
public sealed class PlatformCertificateTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"id":"EV-2","summary":"支付成功"}""");
    private readonly RSA _merchant = RSA.Create();
    private readonly RSA _platform = RSA.Create();
    private readonly RSA _publicKey = RSA.Create();
    private readonly X509Certificate2 _certificate;
    private readonly FakeTimeProvider _time = new(Now);
    private readonly CertificateEndpoint _endpoint;
    private readonly WechatPayVerifier _verifier;

    public PlatformCertificateTests()
    {
        _merchant.ImportFromPem(WechatPayTestKeys.MerchantPrivateKey);
        _platform.ImportFromPem(WechatPayTestKeys.PlatformPrivateKey);
        _publicKey.ImportFromPem(WechatPayTestKeys.PlatformPublicKey);
        var request = new CertificateRequest("CN=Tenpay.com Root CA", _platform, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        _certificate = request.CreateSelfSigned(Now.AddDays(-1), Now.AddYears(1));
        var options = Options.Create(new WechatPayOptions
        {
            MchId = WechatPayTestKeys.MchId, MerchantSerialNo = WechatPayTestKeys.MerchantSerialNo, ApiV3Key = WechatPayTestKeys.ApiV3Key,
            PublicKeyId = WechatPayTestKeys.PublicKeyId, UsePlatformCertificates = true, CertificateRefreshInterval = TimeSpan.FromSeconds(30),
        });
        var keys = new WechatPayKeys(_merchant, WechatPayTestKeys.PublicKeyId, _publicKey);
        _endpoint = new CertificateEndpoint(_certificate, _platform, _time);
        var downloader = new WechatPayCertificateDownloader(new Clients(_endpoint), new WechatPaySigner(keys, options, _time), options);
        _verifier = new WechatPayVerifier(keys, downloader, options, _time, NullLogger<WechatPayVerifier>.Instance);
    }

    public void Dispose()
    {
        _verifier.Dispose();
        _certificate.Dispose();
        _merchant.Dispose();
        _platform.Dispose();
        _publicKey.Dispose();
    }

    private WechatPaySignatureHeaders Signed(string serial)
    {
        var ts = WechatPayCrypto.UnixSeconds(_time.GetUtcNow());
        var nonce = WechatPayCrypto.NewNonce();
        return new(ts, nonce, WechatPayCrypto.Sign(_platform, WechatPayCrypto.ResponseMessage(ts, nonce, Body)), serial, null);
    }

    [Fact]
    public async Task An_unknown_certificate_serial_is_downloaded_once_then_verified()
    {
        Assert.Equal(SignatureCheck.Valid, await _verifier.VerifyAsync(Signed(_certificate.SerialNumber.ToLowerInvariant()), Body, default));
        Assert.Equal(SignatureCheck.Valid, await _verifier.VerifyAsync(Signed(_certificate.SerialNumber), Body, default));
        Assert.Equal(1, _endpoint.Calls);
        // During the migration the public-key id still works without any download.
        Assert.Equal(SignatureCheck.Valid, await _verifier.VerifyAsync(Signed(WechatPayTestKeys.PublicKeyId), Body, default));
        Assert.Equal(1, _endpoint.Calls);
    }

    [Fact]
    public async Task A_serial_still_unknown_after_one_download_fails_and_does_not_download_again_at_once()
    {
        Assert.Equal(SignatureCheck.UnknownSerial, await _verifier.VerifyAsync(Signed("0123456789ABCDEF"), Body, default));
        Assert.Equal(SignatureCheck.UnknownSerial, await _verifier.VerifyAsync(Signed("0123456789ABCDEF"), Body, default));
        Assert.Equal(1, _endpoint.Calls);

        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(SignatureCheck.UnknownSerial, await _verifier.VerifyAsync(Signed("0123456789ABCDEF"), Body, default));
        Assert.Equal(2, _endpoint.Calls);
    }

    /// <summary>GET /v3/certificates as WeChat answers it: the certificate encrypted with the APIv3 key, the answer signed by it.</summary>
    private sealed class CertificateEndpoint(X509Certificate2 certificate, RSA key, TimeProvider time) : HttpMessageHandler
    {
        public int Calls { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.Equal("/v3/certificates", request.RequestUri!.AbsolutePath);
            Assert.StartsWith("WECHATPAY2-SHA256-RSA2048 ", request.Headers.GetValues("Authorization").Single(), StringComparison.Ordinal);
            Calls++;
            var nonce = WechatPayCrypto.NewNonce(12);
            var body = JsonSerializer.SerializeToUtf8Bytes(new
            {
                data = new[]
                {
                    new
                    {
                        serial_no = certificate.SerialNumber,
                        encrypt_certificate = new
                        {
                            algorithm = "AEAD_AES_256_GCM", nonce, associated_data = "certificate",
                            ciphertext = WechatPayCrypto.Encrypt(Encoding.UTF8.GetBytes(WechatPayTestKeys.ApiV3Key), nonce, "certificate",
                                Encoding.UTF8.GetBytes(certificate.ExportCertificatePem())),
                        },
                    },
                },
            });
            var ts = WechatPayCrypto.UnixSeconds(time.GetUtcNow());
            var n = WechatPayCrypto.NewNonce();
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(body) };
            response.Headers.Add(WechatPaySignatureHeaders.TimestampHeader, ts);
            response.Headers.Add(WechatPaySignatureHeaders.NonceHeader, n);
            response.Headers.Add(WechatPaySignatureHeaders.SerialHeader, certificate.SerialNumber);
            response.Headers.Add(WechatPaySignatureHeaders.SignatureHeader, WechatPayCrypto.Sign(key, WechatPayCrypto.ResponseMessage(ts, n, body)));
            return Task.FromResult(response);
        }
    }

    private sealed class Clients(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false) { BaseAddress = new Uri("https://api.mch.weixin.qq.com/") };
    }
}
