using System.ComponentModel.DataAnnotations;

namespace Dmh.Ingress.Stats;

/// <summary>The admin dashboard figures (<c>Stats:*</c>).</summary>
public sealed class StatsOptions
{
    public const string SectionName = "Stats";

    /// <summary>IANA zone whose calendar days the series uses.</summary>
    [Required]
    public string TimeZone { get; set; } = "Asia/Shanghai";

    [Range(1, 3660)]
    public int MaxRangeDays { get; set; } = 366;

    [Range(1, 366)]
    public int DefaultRangeDays { get; set; } = 30;

    /// <summary>The zone, or China Standard Time (UTC+8, no DST) when the image lacks tzdata for Asia/Shanghai.</summary>
    public TimeZoneInfo ResolveZone() =>
        TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out var zone) ? zone
        : TimeZone == "Asia/Shanghai" ? TimeZoneInfo.CreateCustomTimeZone(TimeZone, TimeSpan.FromHours(8), TimeZone, TimeZone)
        : throw new InvalidOperationException($"Stats:TimeZone '{TimeZone}' is not a known time zone.");
}
