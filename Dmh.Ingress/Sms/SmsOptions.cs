using System.ComponentModel.DataAnnotations;

namespace Dmh.Ingress.Sms;

/// <summary>SMS sign-in codes (<c>Sms:*</c>).</summary>
public sealed class SmsOptions
{
    public const string SectionName = "Sms";

    /// <summary>How long a code stays valid.</summary>
    [Range(10, 3600)]
    public int CodeLifetimeSeconds { get; set; } = 300;

    /// <summary>At most one code per phone in this interval.</summary>
    [Range(1, 3600)]
    public int ResendIntervalSeconds { get; set; } = 60;

    /// <summary>At most this many codes per phone in any hour.</summary>
    [Range(1, 100)]
    public int MaxSendsPerHour { get; set; } = 5;

    /// <summary>Wrong guesses a code survives; it is burnt at this count.</summary>
    [Range(1, 20)]
    public int MaxVerifyAttempts { get; set; } = 5;

    /// <summary>
    /// Local development and browser tests only: keep the last code per phone readable at
    /// <c>GET /api/v1/dev/sms/{phone}</c>. Never on in production.
    /// </summary>
    public bool DevOutbox { get; set; }
}
