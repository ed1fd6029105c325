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

// Several scenarios run in one invocation (orders,baseline): their runs interleave, so a noisy
// neighbour hurts each alike, and the report compares them.
var names = options.Scenarios;
var unknown = names.Where(n => !ScenarioRegistry.Names.Contains(n, StringComparer.OrdinalIgnoreCase)).ToList();
if (unknown.Count > 0 || (options.Step && names.Count > 1))
{
    Console.Error.WriteLine(unknown.Count > 0 ? $"unknown scenario '{unknown[0]}'; scenarios:" : "step mode takes one scenario; scenarios:");
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
var loadAtStart = Report.LoadAverage();
using var handler = new SocketsHttpHandler
{
    MaxConnectionsPerServer = options.Connections,
    PooledConnectionLifetime = TimeSpan.FromMinutes(10),
    UseProxy = false,
    UseCookies = false,
    AllowAutoRedirect = false,
};
using var client = new HttpClient(handler) { Timeout = options.Timeout };
var subjects = new List<Subject>();
try
{
    foreach (var name in names)
    {
        var scenario = ScenarioRegistry.Create(name)!;
        subjects.Add(new Subject(name, scenario, await scenario.SetUpAsync(options, cts.Token)));
    }

    async Task RunOneAsync(Subject subject, double rate)
    {
        var scenario = subject.Scenario;
        Console.Error.WriteLine($"[perf] {subject.Name} at {Report.FormatRate(rate)}/s: {options.Warmup.TotalSeconds:0.#} s warm-up, {options.Duration.TotalSeconds:0.#} s measured");
        var requests = OpenSchedule.Count(rate, options.Warmup + options.Duration);
        await scenario.PrepareAsync(rate, requests, cts.Token);
        var cpuBefore = ProcessCpu.Snapshot();
        var result = await new OpenModelRunner(client, scenario, subject.Target).RunAsync(rate, options.Warmup, options.Duration, options.MaxInFlight, cts.Token);
        var s = RateSummary.Of(result);
        Console.Error.WriteLine($"[perf]   achieved {Report.FormatRate(s.AchievedRate)}/s  p50 {Report.FormatMicros(s.P50Us)}  p99 {Report.FormatMicros(s.P99Us)}  max {Report.FormatMicros(s.MaxUs)}  errors {Report.FormatPercent(s.ErrorRate)}  late {s.Late}");
        var check = cts.IsCancellationRequested ? null : await scenario.CheckAsync(result, cts.Token);
        // After the check, so the drain (settlement and sync catching up) is counted too.
        var cpu = ProcessCpu.Snapshot().Since(cpuBefore).Describe(requests);
        check = check is null ? new RunCheck([cpu], [], null) : check with { Lines = [.. check.Lines, cpu] };
        subject.Checks.Add((rate, check));
        foreach (var line in check.Lines)
        {
            Console.Error.WriteLine("[perf]   " + line);
        }

        subject.Runs.Add(result);
    }

    if (options.Step)
    {
        var subject = subjects[0];
        var boundUs = (long)options.P99Bound.TotalMicroseconds;
        var what = "HTTP";
        for (var rate = options.Rates[0]; rate <= options.StepMax && !cts.IsCancellationRequested; rate += options.StepIncrement)
        {
            await RunOneAsync(subject, rate);
            var result = subject.Runs[^1];
            var check = subject.Checks[^1].Check;
            var s = RateSummary.Of(result);
            // Scenarios that measure past the HTTP answer (settlement) step on their own figure's p99.
            var p99 = check.StepP99Us ?? s.P99Us;
            what = check.StepP99Us is null ? "HTTP" : "settlement (notify to reward)";
            if (p99 > boundUs || s.ErrorRate > 0.01 || !check.Passed)
            {
                var last = subject.Runs.Count >= 2 ? Report.FormatRate(subject.Runs[^2].TargetRate) + "/s" : "none";
                subject.Verdict = $"Step mode: {what} p99 passed {Report.FormatMicros(boundUs)} (or errors passed 1 %, or a check failed) at {Report.FormatRate(rate)}/s; the highest rate within the bound was {last}.";
                break;
            }
        }

        subject.Verdict ??= $"Step mode: {what} p99 stayed within {Report.FormatMicros(boundUs)} up to {Report.FormatRate(subject.Runs.Count > 0 ? subject.Runs[^1].TargetRate : 0)}/s.";
    }
    else
    {
        // Repeats are interleaved (a, b, c, a, b, c), and so are scenarios, so a noisy neighbour hurts every run alike.
        for (var repeat = 0; repeat < options.Repeat && !cts.IsCancellationRequested; repeat++)
        {
            foreach (var rate in options.Rates)
            {
                foreach (var subject in subjects)
                {
                    if (!cts.IsCancellationRequested)
                    {
                        await RunOneAsync(subject, rate);
                    }
                }
            }
        }
    }

    var directory = Path.Combine(
        options.OutputDirectory ?? Path.Combine(RepositoryRoot(), "perf", "results"),
        started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + string.Join('-', names));
    Directory.CreateDirectory(directory);
    var markdown = new System.Text.StringBuilder();
    var comparison = subjects.Count > 1 ? Report.Comparison(subjects.Select(x => (x.Name, (IReadOnlyList<RateSummary>)x.Rows)).ToList()) : null;
    if (comparison is not null)
    {
        markdown.AppendLine(CultureInfo.InvariantCulture, $"# {string.Join(" vs ", names)}: {started:yyyy-MM-dd HH:mm:ss} UTC");
        markdown.AppendLine();
        markdown.AppendLine(CultureInfo.InvariantCulture, $"Load average at the start {loadAtStart}, at the end {Report.LoadAverage()}; medians of {options.Repeat} interleaved run(s) per rate.");
        markdown.AppendLine();
        markdown.Append(comparison);
        markdown.AppendLine();
    }

    foreach (var subject in subjects)
    {
        var svg = subjects.Count > 1 ? $"latency-{subject.Name}.svg" : "latency.svg";
        markdown.Append(Report.Markdown(options with { Scenario = subject.Name }, subject.Target, started, subject.Rows, subject.Runs, subject.Verdict, subject.Checks, svg));
        await File.WriteAllTextAsync(Path.Combine(directory, svg), Report.Svg(subject.Runs));
        if (subjects.Count > 1)
        {
            Console.WriteLine($"{subject.Name}:");
        }

        Console.WriteLine(Report.Table(subject.Rows));
        if (subject.Verdict is not null)
        {
            Console.WriteLine(subject.Verdict);
        }

        foreach (var (rate, check) in subject.Checks.Where(c => c.Check.Targets.Count > 0))
        {
            Console.WriteLine();
            Console.WriteLine($"Targets at {Report.FormatRate(rate)}/s:");
            Console.Write(TargetCheck.Table(check.Targets));
        }
    }

    if (comparison is not null)
    {
        Console.WriteLine(comparison);
    }

    await File.WriteAllTextAsync(Path.Combine(directory, "report.md"), markdown.ToString());
    Console.WriteLine($"report: {Path.Combine(directory, "report.md")}");
    // A fixed-rate run fails when a target fails; step mode exists to find where they start failing.
    return cts.IsCancellationRequested ? 130 : !options.Step && subjects.Any(x => x.Checks.Any(c => !c.Check.Passed)) ? 1 : 0;
}
finally
{
    foreach (var subject in subjects)
    {
        await subject.Scenario.DisposeAsync();
    }
}

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

/// <summary>One scenario of an invocation: its target, runs and checks.</summary>
internal sealed class Subject(string name, IScenario scenario, Uri target)
{
    public string Name { get; } = name;

    public IScenario Scenario { get; } = scenario;

    public Uri Target { get; } = target;

    public List<RunResult> Runs { get; } = [];

    public List<(double Rate, RunCheck Check)> Checks { get; } = [];

    public string? Verdict { get; set; }

    public List<RateSummary> Rows => Runs.GroupBy(r => r.TargetRate).Select(g => RateSummary.Median(g.Select(RateSummary.Of).ToList())).ToList();
}
