using System.ComponentModel.DataAnnotations;

namespace Dmh.Settlement.Rewards;

/// <summary>The job that makes frozen rewards available once their hold is over, bound from <c>Rewards:Hold</c>.</summary>
public sealed class HoldReleaseOptions
{
    public const string SectionName = "Rewards:Hold";

    public bool Enabled { get; set; } = true;

    /// <summary>Pause between two sweeps.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Rewards made available per batch (one short transaction each); a sweep runs batches until none is due.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 200;
}
