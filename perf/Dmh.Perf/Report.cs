using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using HdrHistogram;

namespace Dmh.Perf;

/// <summary>The figures of one rate (over repeats: the median of each figure).</summary>
public sealed record RateSummary(
    double TargetRate, double AchievedRate, long Requests, long P50Us, long P95Us, long P99Us, long MaxUs,
    long ServiceP50Us, long ServiceP99Us, double ErrorRate, long Dropped, long Late, int Runs)
{
    public static RateSummary Of(RunResult r) => new(
        r.TargetRate, r.AchievedRate, r.Completed,
        r.Latency.GetValueAtPercentile(50), r.Latency.GetValueAtPercentile(95), r.Latency.GetValueAtPercentile(99), r.Latency.GetMaxValue(),
        r.ServiceTime.GetValueAtPercentile(50), r.ServiceTime.GetValueAtPercentile(99),
        r.ErrorRate, r.Dropped, r.Late, 1);

    /// <summary>Median of each figure over runs of the same rate (the machine is shared and noisy).</summary>
    public static RateSummary Median(IReadOnlyList<RateSummary> runs)
    {
        if (runs.Count == 0)
        {
            throw new ArgumentException("no runs", nameof(runs));
        }

        return new RateSummary(
            runs[0].TargetRate,
            MedianOf(runs.Select(r => r.AchievedRate)),
            (long)MedianOf(runs.Select(r => (double)r.Requests)),
            (long)MedianOf(runs.Select(r => (double)r.P50Us)),
            (long)MedianOf(runs.Select(r => (double)r.P95Us)),
            (long)MedianOf(runs.Select(r => (double)r.P99Us)),
            (long)MedianOf(runs.Select(r => (double)r.MaxUs)),
            (long)MedianOf(runs.Select(r => (double)r.ServiceP50Us)),
            (long)MedianOf(runs.Select(r => (double)r.ServiceP99Us)),
            MedianOf(runs.Select(r => r.ErrorRate)),
            (long)MedianOf(runs.Select(r => (double)r.Dropped)),
            (long)MedianOf(runs.Select(r => (double)r.Late)),
            runs.Count);
    }

    public static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return 0;
        }

        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

/// <summary>Markdown report and latency-over-time SVG of one invocation.</summary>
public static class Report
{
    /// <summary>Microseconds as a short human figure: 420 µs, 3.42 ms, 1.25 s.</summary>
    public static string FormatMicros(long micros) => micros switch
    {
        < 1_000 => micros.ToString(CultureInfo.InvariantCulture) + " µs",
        < 10_000 => (micros / 1000.0).ToString("0.00", CultureInfo.InvariantCulture) + " ms",
        < 1_000_000 => (micros / 1000.0).ToString("0.0", CultureInfo.InvariantCulture) + " ms",
        _ => (micros / 1_000_000.0).ToString("0.00", CultureInfo.InvariantCulture) + " s",
    };

    public static string FormatRate(double rate) => rate.ToString(rate >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture);

    public static string FormatPercent(double fraction) => (fraction * 100).ToString("0.00", CultureInfo.InvariantCulture) + " %";

    public static string Table(IEnumerable<RateSummary> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| target rate/s | achieved/s | requests | p50 | p95 | p99 | max | service p50 | service p99 | errors | dropped | late starts | runs |");
        sb.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in rows)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"| {FormatRate(r.TargetRate)} | {FormatRate(r.AchievedRate)} | {r.Requests} | {FormatMicros(r.P50Us)} | {FormatMicros(r.P95Us)} | {FormatMicros(r.P99Us)} | {FormatMicros(r.MaxUs)} | {FormatMicros(r.ServiceP50Us)} | {FormatMicros(r.ServiceP99Us)} | {FormatPercent(r.ErrorRate)} | {r.Dropped} | {r.Late} | {r.Runs} |");
            sb.AppendLine();
        }

        return sb.ToString();
    }

    public static string Markdown(RunOptions options, Uri target, DateTimeOffset started, IReadOnlyList<RateSummary> rows, IReadOnlyList<RunResult> runs, string? verdict,
        IReadOnlyList<(double Rate, RunCheck Check)>? checks = null, string svg = "latency.svg")
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# {options.Scenario}: {started:yyyy-MM-dd HH:mm:ss} UTC");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"- target: `{target}`");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- mode: {(options.Step ? $"step (+{FormatRate(options.StepIncrement)}/s until p99 > {FormatMicros((long)options.P99Bound.TotalMicroseconds)})" : "fixed rates")}, {options.Duration.TotalSeconds:0.#} s measured after {options.Warmup.TotalSeconds:0.#} s warm-up per rate, {options.Repeat} run(s) per rate");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024)} MiB, {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- runtime: {RuntimeInformation.FrameworkDescription}, server GC {System.Runtime.GCSettings.IsServerGC}; DMH commit {GitCommit()}; load average at the start {LoadAverage()}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- connections ≤ {options.Connections}, in flight ≤ {options.MaxInFlight}, timeout {options.Timeout.TotalSeconds:0.#} s");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Settlement processes: {options.Instances}{(options.Backlog ? "; backlog mode (Settlement paused while the notifies were posted, then timed draining them)" : "")}");
        sb.AppendLine();
        sb.AppendLine("Latency is measured from each request's scheduled start (open model), so queueing in the target");
        sb.AppendLine("or the runner shows up in it; service time is measured from the actual send. A late start began");
        sb.AppendLine($"more than {OpenModelRunner.LateThreshold.TotalMilliseconds:0} ms after schedule (the runner could not keep up); dropped requests were not");
        sb.AppendLine("started because too many were in flight, and count as errors.");
        sb.AppendLine();
        sb.Append(Table(rows));
        if (verdict is not null)
        {
            sb.AppendLine();
            sb.AppendLine(verdict);
        }

        foreach (var (rate, check) in checks ?? [])
        {
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture, $"## After {FormatRate(rate)}/s");
            sb.AppendLine();
            foreach (var line in check.Lines)
            {
                sb.AppendLine("- " + line);
            }

            if (check.Targets.Count > 0)
            {
                sb.AppendLine();
                sb.Append(TargetCheck.Table(check.Targets));
            }
        }

        var kinds = runs.SelectMany(r => r.ErrorKinds).GroupBy(k => k.Key).Select(g => (g.Key, Count: g.Sum(x => x.Value))).ToList();
        if (kinds.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("Errors: " + string.Join(", ", kinds.Select(k => $"{k.Key} × {k.Count}")));
        }

        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"![latency over time]({svg})");
        return sb.ToString();
    }

    /// <summary>
    /// Several scenarios of one invocation side by side per rate: achieved rate and p99 of each, and each
    /// one's achieved rate as a fraction of the <c>baseline</c> scenario's (the bare ceiling), if it ran.
    /// </summary>
    public static string Comparison(IReadOnlyList<(string Name, IReadOnlyList<RateSummary> Rows)> scenarios)
    {
        var baseline = scenarios.FirstOrDefault(s => s.Name.Equals("baseline", StringComparison.OrdinalIgnoreCase));
        var sb = new StringBuilder();
        sb.Append("| target rate/s |");
        foreach (var (name, _) in scenarios)
        {
            sb.Append(CultureInfo.InvariantCulture, $" {name} achieved/s | {name} p99 | {name} errors |");
            if (baseline.Rows is not null && !name.Equals("baseline", StringComparison.OrdinalIgnoreCase))
            {
                sb.Append(CultureInfo.InvariantCulture, $" {name} / baseline |");
            }
        }

        sb.AppendLine();
        sb.Append("| ---: |");
        foreach (var (name, _) in scenarios)
        {
            sb.Append(" ---: | ---: | ---: |");
            if (baseline.Rows is not null && !name.Equals("baseline", StringComparison.OrdinalIgnoreCase))
            {
                sb.Append(" ---: |");
            }
        }

        sb.AppendLine();
        foreach (var rate in scenarios.SelectMany(s => s.Rows).Select(r => r.TargetRate).Distinct().Order())
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {FormatRate(rate)} |");
            var ceiling = baseline.Rows?.FirstOrDefault(r => r.TargetRate == rate);
            foreach (var (name, rows) in scenarios)
            {
                var row = rows.FirstOrDefault(r => r.TargetRate == rate);
                sb.Append(row is null ? " | | |" : $" {FormatRate(row.AchievedRate)} | {FormatMicros(row.P99Us)} | {FormatPercent(row.ErrorRate)} |");
                if (baseline.Rows is not null && !name.Equals("baseline", StringComparison.OrdinalIgnoreCase))
                {
                    sb.Append(row is null || ceiling is null || ceiling.AchievedRate <= 0 ? " |" : $" {FormatPercent(row.AchievedRate / ceiling.AchievedRate)} |");
                }
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }

    /// <summary>The checked-out commit (with "+dirty" when files changed), so a figure can be traced to its code.</summary>
    public static string GitCommit()
    {
        try
        {
            using var git = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", "describe --always --dirty=+dirty")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            var commit = git!.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && commit.Length > 0 ? commit : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown (no git)";
        }
    }

    /// <summary>1, 5 and 15 minute load averages (Linux): how busy the shared machine was.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

    /// <summary>p50 (dashed) and p99 (solid) per second of each run.</summary>
    public static string Svg(IReadOnlyList<RunResult> runs)
    {
        const int width = 900, height = 420, left = 70, right = 180, top = 30, bottom = 50;
        var plotW = width - left - right;
        var plotH = height - top - bottom;
        var seconds = Math.Max(1, runs.Count == 0 ? 1 : runs.Max(r => r.PerSecond.Count));
        var maxUs = Math.Max(1000, runs.SelectMany(r => r.PerSecond).Where(h => h.TotalCount > 0).Select(h => h.GetValueAtPercentile(99)).DefaultIfEmpty(1000).Max());
        var yMax = NiceCeiling(maxUs);
        string X(double s) => (left + (s / seconds * plotW)).ToString("0.#", CultureInfo.InvariantCulture);
        string Y(double us) => (top + plotH - (us / yMax * plotH)).ToString("0.#", CultureInfo.InvariantCulture);

        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">");
        sb.AppendLine(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        for (var i = 0; i <= 5; i++)
        {
            var us = yMax * i / 5.0;
            sb.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" x2=\"{left + plotW}\" y1=\"{Y(us)}\" y2=\"{Y(us)}\" stroke=\"#ddd\"/><text x=\"{left - 6}\" y=\"{Y(us)}\" text-anchor=\"end\" dominant-baseline=\"middle\">{FormatMicros((long)us)}</text>");
        }

        for (var s = 0; s <= seconds; s += Math.Max(1, seconds / 10))
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{X(s)}\" y=\"{top + plotH + 18}\" text-anchor=\"middle\">{s}s</text>");
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" x2=\"{left}\" y1=\"{top}\" y2=\"{top + plotH}\" stroke=\"#333\"/><line x1=\"{left}\" x2=\"{left + plotW}\" y1=\"{top + plotH}\" y2=\"{top + plotH}\" stroke=\"#333\"/>");
        sb.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left + (plotW / 2)}\" y=\"{height - 10}\" text-anchor=\"middle\">seconds into the measured window (p99 solid, p50 dashed)</text>");
        for (var r = 0; r < runs.Count; r++)
        {
            var color = Colors[r % Colors.Length];
            foreach (var (percentile, dash) in new[] { (99.0, ""), (50.0, " stroke-dasharray=\"4 3\"") })
            {
                var points = runs[r].PerSecond
                    .Select((h, s) => (h, s))
                    .Where(x => x.h.TotalCount > 0)
                    .Select(x => $"{X(x.s + 0.5)},{Y(x.h.GetValueAtPercentile(percentile))}");
                sb.AppendLine(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\"{dash} points=\"{string.Join(' ', points)}\"/>");
            }

            sb.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left + plotW + 10}\" y=\"{top + 10 + (r * 16)}\" fill=\"{color}\">{FormatRate(runs[r].TargetRate)}/s</text>");
        }

        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="value"/>.</summary>
    public static long NiceCeiling(long value)
    {
        long magnitude = 1;
        while (magnitude * 10 <= value)
        {
            magnitude *= 10;
        }

        foreach (var step in new long[] { 1, 2, 5, 10 })
        {
            if (step * magnitude >= value)
            {
                return step * magnitude;
            }
        }

        return 10 * magnitude;
    }
}
