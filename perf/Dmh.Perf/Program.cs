using System.Globalization;
using Dmh.Perf;
using Dmh.Platform.Hosting;

// The load suite's runner: open model, HdrHistogram latencies, a Markdown report per run.
// Its continuations only wait on HTTP, MySQL and Redis; inline completions take a third of the
// context switches it adds to the machine it measures.
InlineSocketCompletions.EnableUnlessConfigured();

RunOptions options;
try
{
    options = RunOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(RunOptions.Usage);
    Console.Error.WriteLine("scenarios:");
    Console.Error.WriteLine(ScenarioRegistry.Describe());
    return 2;
}

await using var scenario = ScenarioRegistry.Create(options.Scenario);
if (scenario is null)
{
    Console.Error.WriteLine($"unknown scenario '{options.Scenario}'; scenarios:");
    Console.Error.WriteLine(ScenarioRegistry.Describe());
    return 2;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};

ThreadPool.GetMinThreads(out var workers, out var io);
ThreadPool.SetMinThreads(Math.Max(workers, Environment.ProcessorCount * 4), io);

var started = DateTimeOffset.UtcNow;
var target = await scenario.SetUpAsync(options, cts.Token);
using var handler = new SocketsHttpHandler
{
    MaxConnectionsPerServer = options.Connections,
    PooledConnectionLifetime = TimeSpan.FromMinutes(10),
    UseProxy = false,
    UseCookies = false,
    AllowAutoRedirect = false,
};
using var client = new HttpClient(handler) { Timeout = options.Timeout };
var runner = new OpenModelRunner(client, scenario, target);
var runs = new List<RunResult>();
var checks = new List<(double Rate, RunCheck Check)>();
string? verdict = null;

async Task<(RunResult Result, RunCheck Check)> RunOneAsync(double rate)
{
    Console.Error.WriteLine($"[perf] {options.Scenario} at {Report.FormatRate(rate)}/s: {options.Warmup.TotalSeconds:0.#} s warm-up, {options.Duration.TotalSeconds:0.#} s measured");
    var requests = OpenSchedule.Count(rate, options.Warmup + options.Duration);
    await scenario.PrepareAsync(rate, requests, cts.Token);
    var cpuBefore = ProcessCpu.Snapshot();
    var result = await runner.RunAsync(rate, options.Warmup, options.Duration, options.MaxInFlight, cts.Token);
    var s = RateSummary.Of(result);
    Console.Error.WriteLine($"[perf]   achieved {Report.FormatRate(s.AchievedRate)}/s  p50 {Report.FormatMicros(s.P50Us)}  p99 {Report.FormatMicros(s.P99Us)}  max {Report.FormatMicros(s.MaxUs)}  errors {Report.FormatPercent(s.ErrorRate)}  late {s.Late}");
    var check = cts.IsCancellationRequested ? null : await scenario.CheckAsync(result, cts.Token);
    // After the check, so the drain (settlement and sync catching up) is counted too.
    var cpu = ProcessCpu.Snapshot().Since(cpuBefore).Describe(requests);
    check = check is null ? new RunCheck([cpu], [], null) : check with { Lines = [.. check.Lines, cpu] };
    checks.Add((rate, check));
    foreach (var line in check.Lines)
    {
        Console.Error.WriteLine("[perf]   " + line);
    }

    runs.Add(result);
    return (result, check);
}

if (options.Step)
{
    var boundUs = (long)options.P99Bound.TotalMicroseconds;
    var what = "HTTP";
    for (var rate = options.Rates[0]; rate <= options.StepMax && !cts.IsCancellationRequested; rate += options.StepIncrement)
    {
        var (result, check) = await RunOneAsync(rate);
        var s = RateSummary.Of(result);
        // Scenarios that measure past the HTTP answer (settlement) step on their own figure's p99.
        var p99 = check?.StepP99Us ?? s.P99Us;
        what = check?.StepP99Us is null ? "HTTP" : "settlement (notify to reward)";
        if (p99 > boundUs || s.ErrorRate > 0.01 || check?.Passed == false)
        {
            var last = runs.Count >= 2 ? Report.FormatRate(runs[^2].TargetRate) + "/s" : "none";
            verdict = $"Step mode: {what} p99 passed {Report.FormatMicros(boundUs)} (or errors passed 1 %, or a check failed) at {Report.FormatRate(rate)}/s; the highest rate within the bound was {last}.";
            break;
        }
    }

    verdict ??= $"Step mode: {what} p99 stayed within {Report.FormatMicros(boundUs)} up to {Report.FormatRate(runs.Count > 0 ? runs[^1].TargetRate : 0)}/s.";
}
else
{
    // Repeats are interleaved (a, b, c, a, b, c) so a noisy neighbour hurts every rate alike.
    for (var repeat = 0; repeat < options.Repeat && !cts.IsCancellationRequested; repeat++)
    {
        foreach (var rate in options.Rates)
        {
            await RunOneAsync(rate);
        }
    }
}

var rows = runs.GroupBy(r => r.TargetRate).Select(g => RateSummary.Median(g.Select(RateSummary.Of).ToList())).ToList();
var directory = Path.Combine(
    options.OutputDirectory ?? Path.Combine(RepositoryRoot(), "perf", "results"),
    started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + options.Scenario);
Directory.CreateDirectory(directory);
await File.WriteAllTextAsync(Path.Combine(directory, "report.md"), Report.Markdown(options, target, started, rows, runs, verdict, checks));
await File.WriteAllTextAsync(Path.Combine(directory, "latency.svg"), Report.Svg(runs));
Console.WriteLine(Report.Table(rows));
if (verdict is not null)
{
    Console.WriteLine(verdict);
}

foreach (var (rate, check) in checks.Where(c => c.Check.Targets.Count > 0))
{
    Console.WriteLine();
    Console.WriteLine($"Targets at {Report.FormatRate(rate)}/s:");
    Console.Write(TargetCheck.Table(check.Targets));
}

Console.WriteLine($"report: {Path.Combine(directory, "report.md")}");
// A fixed-rate run fails when a target fails; step mode exists to find where they start failing.
return cts.IsCancellationRequested ? 130 : !options.Step && checks.Any(c => !c.Check.Passed) ? 1 : 0;

static string RepositoryRoot()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Dmh.sln")))
        {
            return dir.FullName;
        }
    }

    return Directory.GetCurrentDirectory();
}
