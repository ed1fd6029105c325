using System.ComponentModel.DataAnnotations;

namespace Dmh.Platform.Streams;

/// <summary>Settings of one consumer-group loop. Bound from a section such as <c>Settlement:Consumer</c>.</summary>
public sealed class StreamConsumerOptions
{
    /// <summary>Logical stream name (prefixed with Redis:KeyPrefix).</summary>
    public string Stream { get; set; } = "";

    public string Group { get; set; } = "";

    /// <summary>Stable per process: <c>{group}-{host}-{pid}</c> unless configured.</summary>
    public string? ConsumerName { get; set; }

    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 200;

    /// <summary>Pause after an empty read. StackExchange.Redis cannot block on XREADGROUP (it multiplexes), so it polls.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:10")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// The longest pause between empty reads: each empty read doubles the pause from
    /// <see cref="PollInterval"/> up to this, and an entry brings it back down. An idle consumer then
    /// wakes 20 times a second instead of 100 (each wake costs a Redis round trip and a timer), and the
    /// first entry after a quiet spell waits at most this long. Under load reads are never empty.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:10")]
    public TimeSpan IdlePollInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The pause after an empty read when the previous pause was <paramref name="previous"/> (zero after an entry).</summary>
    public TimeSpan NextIdlePause(TimeSpan previous) =>
        previous < PollInterval ? PollInterval : TimeSpan.FromTicks(Math.Min(previous.Ticks * 2, Math.Max(IdlePollInterval.Ticks, PollInterval.Ticks)));

    /// <summary>
    /// After a read that did not fill <see cref="BatchSize"/>, keep reading new entries for up to this
    /// long before handing the batch over, so a trickle reaches the handler as fewer, larger batches
    /// (the syncer's multi-row inserts). Zero hands every read over at once (settlement wants latency).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan BatchWindow { get; set; } = TimeSpan.Zero;

    /// <summary>An entry pending this long is taken over (its consumer died, or its handling failed).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan ClaimIdle { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often to look for entries to take over.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan ClaimInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// An entry delivered more than this many times goes to the dead-letter stream, then is acked.
    /// Deliveries while the handler's database is unreachable do not count. Only the first delivery
    /// is in a batch: an entry taken over from a dead consumer is handled alone, so a consumer killed
    /// from outside charges each of its batch's entries once and then only the entry it was handling.
    /// </summary>
    [Range(1, 1000)]
    public int MaxDeliveries { get; set; } = 5;

    /// <summary>
    /// Back-off after an unexpected error of the loop itself (e.g. Redis unreachable), and the first
    /// back-off while the handler's database is unreachable (doubled up to <see cref="MaxUnavailableBackoff"/>).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan ErrorBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest pause between tries while the handler's database stays unreachable.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan MaxUnavailableBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often the stream is trimmed below what every group has acknowledged (XTRIM MINID) and dead
    /// consumers are pruned from the group. Publishers never trim: a length cap would delete entries
    /// still pending in a group.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan TrimInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// A consumer of the group idle this long with no pending entries is removed (XGROUP DELCONSUMER):
    /// consumer names carry the process id, so each restart leaves one behind. One with pending entries
    /// is never removed (its entries are taken over by XAUTOCLAIM first).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "365.00:00:00")]
    public TimeSpan DeadConsumerIdle { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The pause after a batch postponed for an unreachable database, when the previous one was <paramref name="previous"/> (zero at first).</summary>
    public TimeSpan NextUnavailableBackoff(TimeSpan previous) =>
        previous < ErrorBackoff ? ErrorBackoff : TimeSpan.FromTicks(Math.Min(previous.Ticks * 2, Math.Max(MaxUnavailableBackoff.Ticks, ErrorBackoff.Ticks)));

    public string ResolveConsumerName() =>
        string.IsNullOrWhiteSpace(ConsumerName)
            ? $"{Group}-{Environment.MachineName}-{Environment.ProcessId}"
            : ConsumerName;
}
