using System.ComponentModel.DataAnnotations;

namespace Dmh.Ingress.CheckIns;

/// <summary>Check-in (<c>CheckIn:*</c>): how many unknown codes one account may try per window before it must wait.</summary>
public sealed class CheckInOptions
{
    public const string SectionName = "CheckIn";

    [Range(1, 10_000)]
    public int MaxMissesPerWindow { get; set; } = 30;

    [Range(1, 86_400)]
    public int MissWindowSeconds { get; set; } = 600;
}
