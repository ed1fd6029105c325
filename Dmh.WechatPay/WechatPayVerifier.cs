using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dmh.WechatPay;

/// <summary>The outcome of checking a WeChat Pay signature.</summary>
public enum SignatureCheck
{
    Valid,
    MissingHeaders,
    UnsupportedType,
    StaleTimestamp,
    UnknownSerial,
    BadSignature,

    /// <summary>A <c>WECHATPAY/SIGNTEST/</c> probe: refused like a bad signature, but no alert.</summary>
    Probe,
}

/// <summary>The <c>Wechatpay-*</c> headers of a notify or a response.</summary>
public readonly record struct WechatPaySignatureHeaders(string? Timestamp, string? Nonce, string? Signature, string? Serial, string? SignatureType)
{
    public const string TimestampHeader = "Wechatpay-Timestamp";
    public const string NonceHeader = "Wechatpay-Nonce";
    public const string SignatureHeader = "Wechatpay-Signature";
    public const string SerialHeader = "Wechatpay-Serial";
    public const string SignatureTypeHeader = "Wechatpay-Signature-Type";

    public static WechatPaySignatureHeaders From(IHeaderDictionary headers) => new(
        headers[TimestampHeader].FirstOrDefault(), headers[NonceHeader].FirstOrDefault(), headers[SignatureHeader].FirstOrDefault(),
        headers[SerialHeader].FirstOrDefault(), headers[SignatureTypeHeader].FirstOrDefault());

    public static WechatPaySignatureHeaders From(HttpResponseMessage response)
    {
        string? Get(string name) => response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
        return new(Get(TimestampHeader), Get(NonceHeader), Get(SignatureHeader), Get(SerialHeader), Get(SignatureTypeHeader));
    }
}

/// <summary>
/// Verifies notifies and responses over their raw bytes (docs/wechatpay-v3.md §1): timestamp window,
/// key by serial (public-key id first, platform certificates otherwise, one download on an unknown
/// serial), SHA256withRSA.
/// </summary>
public sealed class WechatPayVerifier(
    WechatPayKeys keys,
    WechatPayCertificateDownloader downloader,
    IOptions<WechatPayOptions> options,
    TimeProvider time,
    ILogger<WechatPayVerifier> logger) : IDisposable
{
    private readonly WechatPayOptions _options = options.Value;
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private long _lastRefreshTicks;

    public ValueTask<SignatureCheck> VerifyAsync(WechatPaySignatureHeaders headers, ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(headers.Timestamp) || string.IsNullOrEmpty(headers.Nonce)
            || string.IsNullOrEmpty(headers.Signature) || string.IsNullOrEmpty(headers.Serial))
        {
            return ValueTask.FromResult(SignatureCheck.MissingHeaders);
        }

        if (headers.Signature.StartsWith(WechatPayCrypto.SignTestPrefix, StringComparison.Ordinal))
        {
            return ValueTask.FromResult(SignatureCheck.Probe);
        }

        if (headers.SignatureType is { Length: > 0 } type && type != WechatPayCrypto.SignatureType)
        {
            return ValueTask.FromResult(SignatureCheck.UnsupportedType);
        }

        var now = time.GetUtcNow();
        if (!long.TryParse(headers.Timestamp, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs(now.ToUnixTimeSeconds() - seconds) >= (long)_options.TimestampTolerance.TotalSeconds)
        {
            return ValueTask.FromResult(SignatureCheck.StaleTimestamp);
        }

        var key = keys.Find(headers.Serial, now);
        if (key is not null)
        {
            return ValueTask.FromResult(Check(key, headers, body.Span));
        }

        return _options.UsePlatformCertificates
            ? RefreshAndVerifyAsync(headers, body, ct)
            : ValueTask.FromResult(SignatureCheck.UnknownSerial);
    }

    public void Dispose() => _refreshGate.Dispose();

    private static SignatureCheck Check(System.Security.Cryptography.RSA key, WechatPaySignatureHeaders headers, ReadOnlySpan<byte> body) =>
        WechatPayCrypto.Verify(key, WechatPayCrypto.ResponseMessage(headers.Timestamp!, headers.Nonce!, body), headers.Signature!)
            ? SignatureCheck.Valid
            : SignatureCheck.BadSignature;

    private async ValueTask<SignatureCheck> RefreshAndVerifyAsync(WechatPaySignatureHeaders headers, ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        await _refreshGate.WaitAsync(ct);
        try
        {
            var now = time.GetUtcNow();
            // Another request may have refreshed while this one waited.
            var key = keys.Find(headers.Serial!, now);
            if (key is null)
            {
                // One download per interval: a flood of unknown serials must not become a flood of calls to WeChat.
                if (now.UtcTicks - Interlocked.Read(ref _lastRefreshTicks) < _options.CertificateRefreshInterval.Ticks)
                {
                    return SignatureCheck.UnknownSerial;
                }

                Interlocked.Exchange(ref _lastRefreshTicks, now.UtcTicks);
                try
                {
                    keys.AddCertificates(await downloader.DownloadAsync(ct));
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Downloading WeChat Pay platform certificates failed");
                    return SignatureCheck.UnknownSerial;
                }

                key = keys.Find(headers.Serial!, now);
                if (key is null)
                {
                    return SignatureCheck.UnknownSerial;
                }
            }

            return Check(key, headers, body.Span);
        }
        finally
        {
            _refreshGate.Release();
        }
    }
}
