using System.ComponentModel.DataAnnotations;

namespace Dmh.Settlement.Tracking;

/// <summary>Visit-tracking rollups (<c>Tracking:*</c>; the consumer loop reads <c>Tracking:Consumer</c>).</summary>
public sealed class TrackingOptions
{
    public const string SectionName = "Tracking";

    /// <summary>
    /// IANA zone whose calendar days and hours the rollups use; Ingress reads them with <c>Stats:TimeZone</c>,
    /// so both must name the same zone.
    /// </summary>
    [Required]
    public string TimeZone { get; set; } = "Asia/Shanghai";

    /// <summary>Whole-transaction retries of one batch after a deadlock or lock-wait timeout (another worker's batch).</summary>
    [Range(0, 100)]
    public int MaxTransactionRetries { get; set; } = 5;

    /// <summary>The zone, or China Standard Time (UTC+8) when the image lacks tzdata for Asia/Shanghai.</summary>
    public TimeZoneInfo ResolveZone() =>
        TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out var zone) ? zone
        : TimeZone == "Asia/Shanghai" ? TimeZoneInfo.CreateCustomTimeZone(TimeZone, TimeSpan.FromHours(8), TimeZone, TimeZone)
        : throw new InvalidOperationException($"Tracking:TimeZone '{TimeZone}' is not a known time zone.");
}
