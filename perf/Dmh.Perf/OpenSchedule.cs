namespace Dmh.Perf;

/// <summary>
/// Open-model schedule: request i is due at i / rate after the start, whatever earlier requests do,
/// so a slow system builds a queue that the latencies show (a closed loop would wait and hide it:
/// "coordinated omission").
/// </summary>
public static class OpenSchedule
{
    /// <summary>Number of requests a run of <paramref name="duration"/> at <paramref name="rate"/> starts.</summary>
    public static long Count(double rate, TimeSpan duration) => (long)Math.Floor(rate * duration.TotalSeconds);

    /// <summary>Due time of request <paramref name="index"/>, in Stopwatch ticks after the start.</summary>
    public static long DueTicks(long index, double rate, long ticksPerSecond) =>
        (long)Math.Round(index * (ticksPerSecond / rate));

    /// <summary>All due times as offsets from the start.</summary>
    public static IEnumerable<TimeSpan> Offsets(double rate, TimeSpan duration)
    {
        var count = Count(rate, duration);
        for (long i = 0; i < count; i++)
        {
            yield return TimeSpan.FromTicks(DueTicks(i, rate, TimeSpan.TicksPerSecond));
        }
    }
}
