using System.Diagnostics;
using HdrHistogram;

namespace Dmh.Perf;

/// <summary>Measured outcome of one rate.</summary>
public sealed record RunResult
{
    public required double TargetRate { get; init; }

    public required TimeSpan Measured { get; init; }

    /// <summary>Requests scheduled inside the measured window.</summary>
    public required long Scheduled { get; init; }

    public required long Completed { get; init; }

    public required long Errors { get; init; }

    /// <summary>Not started because too many were in flight.</summary>
    public required long Dropped { get; init; }

    /// <summary>Started more than <see cref="OpenModelRunner.LateThreshold"/> after their due time (the runner itself fell behind).</summary>
    public required long Late { get; init; }

    /// <summary>Latency from the due time to the response (microseconds): includes any queueing.</summary>
    public required LongHistogram Latency { get; init; }

    /// <summary>Latency from the actual send to the response (microseconds): the target's service time plus the network.</summary>
    public required LongHistogram ServiceTime { get; init; }

    /// <summary>Per-second latency histograms of the measured window, by due time.</summary>
    public required IReadOnlyList<LongHistogram> PerSecond { get; init; }

    public IReadOnlyDictionary<string, long> ErrorKinds { get; init; } = new Dictionary<string, long>();

    public double AchievedRate => Measured.TotalSeconds > 0 ? Completed / Measured.TotalSeconds : 0;

    public double ErrorRate => Completed + Dropped == 0 ? 0 : (double)(Errors + Dropped) / (Completed + Dropped);
}

/// <summary>
/// Starts requests at a fixed rate by timestamps (open model). Latency is measured from each request's
/// due time, not its actual start, so a late start (the runner or the target falling behind) is charged
/// to the latency instead of silently lowering the load.
/// </summary>
public sealed class OpenModelRunner(HttpClient client, IScenario scenario, Uri baseUrl)
{
    public static readonly TimeSpan LateThreshold = TimeSpan.FromMilliseconds(10);

    // 1 µs to 5 min at 3 significant digits.
    public static LongHistogram NewHistogram() => new(300_000_000L, 3);

    public async Task<RunResult> RunAsync(double rate, TimeSpan warmup, TimeSpan duration, int maxInFlight, CancellationToken ct)
    {
        var total = OpenSchedule.Count(rate, warmup + duration);
        var warmupCount = OpenSchedule.Count(rate, warmup);
        var seconds = (int)Math.Ceiling(duration.TotalSeconds);
        var latency = NewHistogram();
        var service = NewHistogram();
        var perSecond = Enumerable.Range(0, Math.Max(seconds, 1)).Select(_ => NewHistogram()).ToArray();
        var errorKinds = new Dictionary<string, long>();
        long completed = 0, errors = 0, dropped = 0, late = 0, inFlight = 0;
        var lateTicks = (long)(LateThreshold.TotalSeconds * Stopwatch.Frequency);
        var warmupTicks = OpenSchedule.DueTicks(warmupCount, rate, Stopwatch.Frequency);
        var pending = new List<Task>();
        var start = 0L;
        var scheduler = new Thread(() =>
        {
            start = Stopwatch.GetTimestamp();
            for (long i = 0; i < total && !ct.IsCancellationRequested; i++)
            {
                var due = start + OpenSchedule.DueTicks(i, rate, Stopwatch.Frequency);
                WaitUntil(due);
                var measured = i >= warmupCount;
                if (measured && Stopwatch.GetTimestamp() - due > lateTicks)
                {
                    late++;
                }

                if (Interlocked.Increment(ref inFlight) > maxInFlight)
                {
                    Interlocked.Decrement(ref inFlight);
                    if (measured)
                    {
                        dropped++;
                    }

                    continue;
                }

                var index = i;
                var task = Task.Run(async () =>
                {
                    var ok = false;
                    string? kind = null;
                    var sent = Stopwatch.GetTimestamp();
                    try
                    {
                        kind = await scenario.ExecuteAsync(client, baseUrl, index, ct);
                        ok = kind is null;
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OperationCanceledException)
                    {
                        kind = ex is HttpRequestException h ? "connection: " + (h.HttpRequestError.ToString()) : "timeout";
                    }
                    finally
                    {
                        Interlocked.Decrement(ref inFlight);
                    }

                    if (!measured)
                    {
                        return;
                    }

                    var now = Stopwatch.GetTimestamp();
                    var micros = Math.Max(1, (now - due) * 1_000_000 / Stopwatch.Frequency);
                    var serviceMicros = Math.Max(1, (now - sent) * 1_000_000 / Stopwatch.Frequency);
                    var second = (int)Math.Min(perSecond.Length - 1, (due - start - warmupTicks) / Stopwatch.Frequency);
                    lock (latency)
                    {
                        completed++;
                        latency.RecordValue(Math.Min(micros, latency.HighestTrackableValue));
                        service.RecordValue(Math.Min(serviceMicros, service.HighestTrackableValue));
                        perSecond[Math.Max(second, 0)].RecordValue(Math.Min(micros, latency.HighestTrackableValue));
                        if (!ok)
                        {
                            errors++;
                            errorKinds[kind!] = errorKinds.GetValueOrDefault(kind!) + 1;
                        }
                    }
                }, CancellationToken.None);
                if (measured || (i & 1023) == 0)
                {
                    pending.Add(task);
                }

                if (pending.Count > 65_536)
                {
                    pending.RemoveAll(t => t.IsCompleted);
                }
            }

        })
        {
            IsBackground = true,
            Name = "open-model-scheduler",
            Priority = ThreadPriority.AboveNormal,
        };
        scheduler.Start();
        await Task.Run(scheduler.Join, CancellationToken.None);

        List<Task> snapshot;
        lock (pending)
        {
            snapshot = [.. pending];
        }

        await Task.WhenAll(snapshot);
        return new RunResult
        {
            TargetRate = rate,
            Measured = duration,
            Scheduled = total - warmupCount,
            Completed = completed,
            Errors = errors,
            Dropped = dropped,
            Late = late,
            Latency = latency,
            ServiceTime = service,
            PerSecond = perSecond,
            ErrorKinds = errorKinds,
        };
    }

    // A dedicated thread sleeps until the due time and then starts everything already due in one go.
    // Spinning for sub-millisecond precision would burn a core the target needs on a small machine; the
    // cost is up to ~1 ms of start delay, charged to the latency and visible against the service time.
    private static void WaitUntil(long due)
    {
        // Thread.Sleep truncates to whole milliseconds: loop so a request never starts before it is due.
        long remaining;
        while ((remaining = due - Stopwatch.GetTimestamp()) > 0)
        {
            Thread.Sleep(Math.Max(1, (int)(remaining * 1000 / Stopwatch.Frequency)));
        }
    }
}
