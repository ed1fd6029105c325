using System.ComponentModel.DataAnnotations;

namespace Dmh.Settlement.Notices;

/// <summary>The sweeper that turns committed ledger rows into <c>RewardChanged</c> events, bound from <c>Notices:Sweeper</c>.</summary>
public sealed class RewardChangeOptions
{
    public const string SectionName = "Notices:Sweeper";

    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Pause between two sweeps: how long a change waits at most before its event is published. Short,
    /// so that under load each sweep is small: every 2 s, a sweep of ~1,000 changes at 500 payments/s
    /// (its inserts, XADDs and the notifier's work on them) came as one burst that held settlement back
    /// (settlement p99 47 ms at 500/s against 27–30 ms every 200 ms; perf/README.md).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// A ledger id missing when the rows after it were read (ids are handed out at INSERT, rows become
    /// visible at COMMIT) is looked up again for this long: a transaction that committed late is still
    /// announced. After a restart the sweeper reads back this far.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Lookback { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A ledger row older than this when first seen (a restored backup, a sweeper off for days) is recorded as skipped, not announced.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Ledger rows read per query; a sweep reads until none is left.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 500;
}
