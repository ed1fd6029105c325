using System.ComponentModel.DataAnnotations;

namespace Dmh.Settlement.Settling;

/// <summary>Settlement settings, bound from <c>Settlement</c> (the consumer loop reads <c>Settlement:Consumer</c>).</summary>
public sealed class SettlementOptions
{
    public const string SectionName = "Settlement";

    /// <summary>Payments of one batch settled at once (each on its own MySQL connection and transaction).</summary>
    [Range(1, 256)]
    public int MaxParallelism { get; set; } = 32;

    /// <summary>Optimistic-lock conflicts on one balance retried before the payment is failed (and redelivered later).</summary>
    [Range(1, 10_000)]
    public int MaxLockRetries { get; set; } = 200;

    /// <summary>
    /// A lane's connection is kept for the next batch if that batch comes within this time; otherwise
    /// it goes back to the pool, whose reset on the next open checks that it still works.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ReuseConnectionsWithin { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whole-transaction retries after a deadlock or lock-wait timeout.</summary>
    [Range(0, 100)]
    public int MaxTransactionRetries { get; set; } = 5;

    public SettlementFaultOptions Faults { get; set; } = new();
}

/// <summary>
/// Chaos hooks for fault-injection tests only. With <see cref="ExitAfterCommitCount"/> &gt; 0 the
/// process dies (<see cref="Environment.FailFast(string)"/>, no clean-up, like SIGKILL) right after
/// that many settlement commits, before the stream entries are acknowledged.
/// </summary>
public sealed class SettlementFaultOptions
{
    [Range(0, int.MaxValue)]
    public int ExitAfterCommitCount { get; set; }
}
