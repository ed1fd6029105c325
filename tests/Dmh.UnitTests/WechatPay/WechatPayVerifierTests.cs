using System.Security.Cryptography;
using System.Text;
using Dmh.WechatPay;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Dmh.UnitTests.WechatPay;

public sealed class WechatPayVerifierTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"id":"EV-1","event_type":"TRANSACTION.SUCCESS","summary":"支付成功"}""");
    private readonly RSA _merchant = RSA.Create();
    private readonly RSA _platform = RSA.Create();
    private readonly RSA _platformPublic = RSA.Create();
    private readonly FakeTimeProvider _time = new(Now);
    private readonly WechatPayVerifier _verifier;

    public WechatPayVerifierTests()
    {
        _merchant.ImportFromPem(WechatPayTestKeys.MerchantPrivateKey);
        _platform.ImportFromPem(WechatPayTestKeys.PlatformPrivateKey);
        _platformPublic.ImportFromPem(WechatPayTestKeys.PlatformPublicKey);
        var options = Options.Create(new WechatPayOptions { MchId = "1900000109", ApiV3Key = WechatPayTestKeys.ApiV3Key, PublicKeyId = WechatPayTestKeys.PublicKeyId });
        var keys = new WechatPayKeys(_merchant, WechatPayTestKeys.PublicKeyId, _platformPublic);
        var downloader = new WechatPayCertificateDownloader(new NoClients(), new WechatPaySigner(keys, options, _time), options);
        _verifier = new WechatPayVerifier(keys, downloader, options, _time, NullLogger<WechatPayVerifier>.Instance);
    }

    public void Dispose()
    {
        _verifier.Dispose();
        _merchant.Dispose();
        _platform.Dispose();
        _platformPublic.Dispose();
    }

    private WechatPaySignatureHeaders Signed(DateTimeOffset at, string serial = WechatPayTestKeys.PublicKeyId, byte[]? body = null, RSA? key = null)
    {
        var ts = at.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var nonce = WechatPayCrypto.NewNonce();
        return new(ts, nonce, WechatPayCrypto.Sign(key ?? _platform, WechatPayCrypto.ResponseMessage(ts, nonce, body ?? Body)), serial, WechatPayCrypto.SignatureType);
    }

    [Fact]
    public async Task A_correct_signature_over_the_raw_body_is_valid()
    {
        Assert.Equal(SignatureCheck.Valid, await _verifier.VerifyAsync(Signed(Now), Body, default));
        Assert.Equal(SignatureCheck.Valid, await _verifier.VerifyAsync(Signed(Now.AddMinutes(-4)), Body, default));
    }

    [Fact]
    public async Task A_timestamp_five_minutes_away_is_stale()
    {
        Assert.Equal(SignatureCheck.StaleTimestamp, await _verifier.VerifyAsync(Signed(Now.AddMinutes(-5)), Body, default));
        Assert.Equal(SignatureCheck.StaleTimestamp, await _verifier.VerifyAsync(Signed(Now.AddMinutes(6)), Body, default));
    }

    [Fact]
    public async Task An_unknown_serial_is_refused_without_certificate_mode()
    {
        using var other = RSA.Create(2048);
        Assert.Equal(SignatureCheck.UnknownSerial, await _verifier.VerifyAsync(Signed(Now, "PUB_KEY_ID_0999", key: other), Body, default));
    }

    [Fact]
    public async Task A_signtest_probe_is_recognised_and_refused()
    {
        var probe = Signed(Now) with { Signature = "WECHATPAY/SIGNTEST/" + Convert.ToBase64String(new byte[64]) };
        Assert.Equal(SignatureCheck.Probe, await _verifier.VerifyAsync(probe, Body, default));
    }

    [Fact]
    public async Task A_tampered_body_fails()
    {
        var headers = Signed(Now);
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Body).Replace("支付成功", "支付成功 ", StringComparison.Ordinal));
        Assert.Equal(SignatureCheck.BadSignature, await _verifier.VerifyAsync(headers, tampered, default));
    }

    [Fact]
    public async Task A_reserialised_body_fails_where_the_raw_bytes_pass()
    {
        var raw = Encoding.UTF8.GetBytes("{\"id\": \"EV-1\",  \"summary\":\"支付成功\"}");
        var headers = Signed(Now, body: raw);
        var reserialised = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(System.Text.Json.JsonDocument.Parse(raw).RootElement);
        Assert.Equal(SignatureCheck.Valid, await _verifier.VerifyAsync(headers, raw, default));
        Assert.Equal(SignatureCheck.BadSignature, await _verifier.VerifyAsync(headers, reserialised, default));
    }

    [Fact]
    public async Task Missing_headers_or_another_signature_type_fail()
    {
        Assert.Equal(SignatureCheck.MissingHeaders, await _verifier.VerifyAsync(Signed(Now) with { Nonce = null }, Body, default));
        Assert.Equal(SignatureCheck.UnsupportedType, await _verifier.VerifyAsync(Signed(Now) with { SignatureType = "WECHATPAY2-SM2-WITH-SM3" }, Body, default));
        Assert.Equal(SignatureCheck.BadSignature, await _verifier.VerifyAsync(Signed(Now) with { Signature = "not base64!" }, Body, default));
    }

    private sealed class NoClients : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => throw new InvalidOperationException("No calls expected");
    }
}
