using System.ComponentModel.DataAnnotations;

namespace Dmh.Settlement.Settling;

/// <summary>Settlement settings, bound from <c>Settlement</c> (the consumer loop reads <c>Settlement:Consumer</c>).</summary>
public sealed class SettlementOptions
{
    public const string SectionName = "Settlement";

    /// <summary>
    /// Transactions of one batch run at once, each on its own MySQL connection. A batch read from the
    /// stream is cut into this many parts when it has enough payments (see <see cref="MinPaymentsPerTransaction"/>).
    /// </summary>
    [Range(1, 256)]
    public int MaxParallelism { get; set; } = 4;

    /// <summary>The most payments settled in one transaction; a larger batch is cut into more parts.</summary>
    [Range(1, 1000)]
    public int MaxPaymentsPerTransaction { get; set; } = 100;

    /// <summary>
    /// A batch is cut for parallelism only into parts of at least this many payments. A transaction
    /// costs about the same for 1 payment as for 25 (its round trips and statements), so at a few
    /// hundred payments a second, when a poll brings a handful, one transaction settles them for a
    /// fraction of the CPU that one per payment took (issue 17's p99 at 500/s).
    /// </summary>
    [Range(1, 1000)]
    public int MinPaymentsPerTransaction { get; set; } = 25;

    /// <summary>
    /// A lane's connection is kept for the next batch if that batch comes within this time; otherwise
    /// it goes back to the pool, whose reset on the next open checks that it still works.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ReuseConnectionsWithin { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whole-transaction retries after a deadlock or lock-wait timeout (then the batch is settled in halves).</summary>
    [Range(0, 100)]
    public int MaxTransactionRetries { get; set; } = 20;

    public SettlementFaultOptions Faults { get; set; } = new();
}

/// <summary>
/// Chaos hooks for fault-injection tests only. With <see cref="ExitAfterCommitCount"/> &gt; 0 the
/// process dies (<see cref="Environment.FailFast(string)"/>, no clean-up, like SIGKILL) right after
/// the commit that settles that many payments in all, before the stream entries are acknowledged.
/// </summary>
public sealed class SettlementFaultOptions
{
    [Range(0, int.MaxValue)]
    public int ExitAfterCommitCount { get; set; }
}
