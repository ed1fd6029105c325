namespace Dmh.Ingress.Sms;

public enum SmsFailure
{
    /// <summary>The gateway did not answer or failed inside; still so after the retries.</summary>
    Unavailable,

    /// <summary>The gateway refuses this sender's requests (credentials, application, signature, template, balance): an operator must act.</summary>
    Refused,

    /// <summary>The gateway refuses this number (blacklisted, not a valid number).</summary>
    PhoneRejected,

    /// <summary>The gateway's own per-number frequency limit.</summary>
    PhoneRateLimited,
}

/// <summary>An SMS gateway did not send the code; <see cref="ProviderCode"/> is the gateway's error code.</summary>
public sealed class SmsDeliveryException(SmsFailure kind, string providerCode, string message)
    : Exception($"SMS not sent: {providerCode} {message}")
{
    public SmsFailure Kind { get; } = kind;

    public string ProviderCode { get; } = providerCode;

    public string ProviderMessage { get; } = message;
}
