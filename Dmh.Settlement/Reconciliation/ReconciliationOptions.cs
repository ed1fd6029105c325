using System.ComponentModel.DataAnnotations;

namespace Dmh.Settlement.Reconciliation;

/// <summary>
/// The reconciliation job, bound from <c>Reconciliation</c>. On wherever WeChat Pay is configured
/// (Settlement always is); off only by an explicit <c>Reconciliation:Enabled=false</c>.
/// </summary>
public sealed class ReconciliationOptions
{
    public const string SectionName = "Reconciliation";

    public bool Enabled { get; set; } = true;

    /// <summary>Pause between two sweeps.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>An attempt unpaid for this long is asked about at the provider (the notify may have been lost), then again at most this often.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan QueryAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>An attempt still NOTPAY after this long is closed, at the provider then locally.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan ExpireAfter { get; set; } = TimeSpan.FromHours(2);

    /// <summary>Attempts older than this are no longer queried (WeChat keeps unpaid orders for a limited time).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// An attempt the provider reports paid but settlement refuses (its amount disagrees, it was never
    /// prepaid) is tried again after QueryAfter × 2, × 4, …, and after this many refusals no more: it is
    /// marked (<c>payments.reconcile_stopped_at</c>) and logged as an error for an operator.
    /// </summary>
    [Range(1, 100)]
    public int MaxRefusals { get; set; } = 5;

    /// <summary>Attempts looked at per sweep.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 200;
}
