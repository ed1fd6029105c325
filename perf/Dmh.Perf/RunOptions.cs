using System.Globalization;

namespace Dmh.Perf;

/// <summary>Command line of one run: <c>Dmh.Perf &lt;scenario&gt; [--rate 100] [--duration 60s] …</c>.</summary>
public sealed record RunOptions
{
    /// <summary>The scenario, or several separated by commas (<c>orders,baseline</c>), run interleaved in one invocation.</summary>
    public required string Scenario { get; init; }

    public IReadOnlyList<string> Scenarios => Scenario.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Target request starts per second (list mode: several, run in turn).</summary>
    public IReadOnlyList<double> Rates { get; init; } = [100];

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(10);

    public Uri BaseUrl { get; init; } = new("http://127.0.0.1:5080");

    /// <summary>Maximum connections to the target (SocketsHttpHandler.MaxConnectionsPerServer).</summary>
    public int Connections { get; init; } = 512;

    /// <summary>Requests in flight beyond this are not started and count as dropped.</summary>
    public int MaxInFlight { get; init; } = 10_000;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Runs of each rate (list mode interleaves them); the report gives medians.</summary>
    public int Repeat { get; init; } = 1;

    /// <summary>Step mode: raise the rate by <see cref="StepIncrement"/> until p99 passes <see cref="P99Bound"/>.</summary>
    public bool Step { get; init; }

    public double StepIncrement { get; init; } = 100;

    public double StepMax { get; init; } = 100_000;

    public TimeSpan P99Bound { get; init; } = TimeSpan.FromMilliseconds(100);

    public string? OutputDirectory { get; init; }

    /// <summary>Settlement processes <c>./dmh perf</c> started for the run (it reads the option itself; the report states it).</summary>
    public int Instances { get; init; } = 1;

    /// <summary>
    /// settlement/sync: Settlement is paused (SIGSTOP) while the notifies are posted, then resumed and
    /// timed draining the backlog: payments settled per second with no request arriving meanwhile.
    /// </summary>
    public bool Backlog { get; init; }

    /// <summary>
    /// With <see cref="Backlog"/>: the syncer and Ingress are paused too while Settlement drains, so the
    /// figure is Settlement's alone with the machine to itself; they resume before the checks.
    /// </summary>
    public bool Alone { get; init; }

    /// <summary>How long a scenario waits after a rate for its payments to settle and sync before it counts what landed.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public const string Usage = """
        usage: Dmh.Perf <scenario>[,<scenario>…] [options]   (e.g. orders,baseline: interleaved runs, compared)
          --rate 100            request starts per second; a list (--rate 200,500,1000) runs each in turn
          --duration 60s        measured time per rate (ms, s, m)
          --warmup 10s          unmeasured time at the same rate before each measurement
          --base-url URL        the system under test (default http://127.0.0.1:5080)
          --connections 512     maximum connections to the target
          --max-in-flight 10000 requests in flight beyond this are dropped (counted, not started)
          --timeout 10s         per-request timeout (counts as an error)
          --repeat 1            runs per rate, interleaved; the report gives medians
          --step                step mode: from --rate, add --step-increment until p99 > --p99-bound
          --step-increment 100  --step-max 100000  --p99-bound 100ms
          --output DIR          results directory (default perf/results)
          --drain-timeout 5m    settlement/sync/mixed: wait this long for payments to settle and sync
          --instances 1         settlement/sync/mixed: ./dmh perf runs this many Settlement processes for the run
          --backlog             settlement/sync: post every notify with Settlement paused, then time it draining them
          --alone               with --backlog: the syncer and Ingress are paused too while Settlement drains
        """;

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> with a message for the user.</summary>
    public static RunOptions Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0].StartsWith('-'))
        {
            throw new ArgumentException("the scenario name comes first");
        }

        var options = new RunOptions { Scenario = args[0] };
        for (var i = 1; i < args.Count; i++)
        {
            var name = args[i];
            if (name == "--step")
            {
                options = options with { Step = true };
                continue;
            }

            if (name == "--backlog")
            {
                options = options with { Backlog = true };
                continue;
            }

            if (name == "--alone")
            {
                options = options with { Alone = true };
                continue;
            }

            if (i + 1 >= args.Count)
            {
                throw new ArgumentException($"{name} needs a value");
            }

            var value = args[++i];
            options = name switch
            {
                "--rate" => options with { Rates = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => Positive(name, v)).ToArray() },
                "--duration" => options with { Duration = ParseDuration(name, value) },
                "--warmup" => options with { Warmup = ParseDuration(name, value, allowZero: true) },
                "--base-url" => options with { BaseUrl = Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : throw new ArgumentException($"{name}: '{value}' is not an http(s) URL") },
                "--connections" => options with { Connections = (int)Positive(name, value) },
                "--max-in-flight" => options with { MaxInFlight = (int)Positive(name, value) },
                "--timeout" => options with { Timeout = ParseDuration(name, value) },
                "--repeat" => options with { Repeat = (int)Positive(name, value) },
                "--step-increment" => options with { StepIncrement = Positive(name, value) },
                "--step-max" => options with { StepMax = Positive(name, value) },
                "--p99-bound" => options with { P99Bound = ParseDuration(name, value) },
                "--output" => options with { OutputDirectory = value },
                "--drain-timeout" => options with { DrainTimeout = ParseDuration(name, value) },
                "--instances" => options with { Instances = (int)Positive(name, value) },
                _ => throw new ArgumentException($"unknown option {name}"),
            };
        }

        if (options.Rates.Count == 0)
        {
            throw new ArgumentException("--rate needs at least one value");
        }

        if (options.Alone && !options.Backlog)
        {
            throw new ArgumentException("--alone pauses the others while Settlement drains a backlog: it needs --backlog");
        }

        return options;
    }

    /// <summary>Parses <c>250ms</c>, <c>20s</c>, <c>2m</c> (a bare number is seconds).</summary>
    public static TimeSpan ParseDuration(string name, string value, bool allowZero = false)
    {
        var (number, unit) = value.EndsWith("ms", StringComparison.Ordinal) ? (value[..^2], 1.0)
            : value.EndsWith('s') ? (value[..^1], 1000.0)
            : value.EndsWith('m') ? (value[..^1], 60_000.0)
            : (value, 1000.0);
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n < 0 || (n == 0 && !allowZero) || double.IsInfinity(n))
        {
            throw new ArgumentException($"{name}: '{value}' is not a duration such as 500ms, 20s or 2m");
        }

        return TimeSpan.FromMilliseconds(n * unit);
    }

    private static double Positive(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n > 0 && !double.IsInfinity(n)
            ? n
            : throw new ArgumentException($"{name}: '{value}' is not a positive number");
}
