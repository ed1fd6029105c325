using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Dmh.WechatPay;

/// <summary>What reading a notify found.</summary>
public enum NotifyOutcome
{
    Verified,
    BadSignature,
    Malformed,
    Undecryptable,
}

public sealed record NotifyReadResult(NotifyOutcome Outcome, SignatureCheck Check, NotifyEnvelope? Envelope, byte[]? Plaintext)
{
    public T? Resource<T>() => Plaintext is null ? default : JsonSerializer.Deserialize<T>(Plaintext, WechatPayJson.Options);
}

/// <summary>Verifies a notify over its raw bytes, then (only then) decrypts its resource.</summary>
public sealed class WechatPayNotifications(WechatPayVerifier verifier, IOptions<WechatPayOptions> options)
{
    private readonly byte[] _apiV3Key = Encoding.UTF8.GetBytes(options.Value.ApiV3Key);

    public async ValueTask<NotifyReadResult> ReadAsync(WechatPaySignatureHeaders headers, ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        var check = await verifier.VerifyAsync(headers, body, ct);
        if (check != SignatureCheck.Valid)
        {
            return new NotifyReadResult(NotifyOutcome.BadSignature, check, null, null);
        }

        NotifyEnvelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize<NotifyEnvelope>(body.Span, WechatPayJson.Options);
        }
        catch (JsonException)
        {
            return new NotifyReadResult(NotifyOutcome.Malformed, check, null, null);
        }

        var resource = envelope?.Resource;
        if (resource is null || string.IsNullOrEmpty(resource.Ciphertext) || string.IsNullOrEmpty(resource.Nonce))
        {
            return new NotifyReadResult(NotifyOutcome.Malformed, check, envelope, null);
        }

        try
        {
            var plain = WechatPayCrypto.Decrypt(_apiV3Key, resource.Nonce, resource.AssociatedData, resource.Ciphertext);
            return new NotifyReadResult(NotifyOutcome.Verified, check, envelope, plain);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or FormatException or ArgumentException)
        {
            return new NotifyReadResult(NotifyOutcome.Undecryptable, check, envelope, null);
        }
    }
}
