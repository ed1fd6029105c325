using Dmh.Perf;

namespace Dmh.UnitTests.Perf;

public sealed class OpenScheduleTests
{
    [Fact]
    public void Requests_are_due_at_even_intervals_regardless_of_responses()
    {
        var offsets = OpenSchedule.Offsets(4, TimeSpan.FromSeconds(1)).ToArray();

        Assert.Equal([TimeSpan.Zero, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(750)], offsets);
    }

    [Fact]
    public void Count_is_rate_times_duration()
    {
        Assert.Equal(6000, OpenSchedule.Count(100, TimeSpan.FromSeconds(60)));
        Assert.Equal(2, OpenSchedule.Count(2.5, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void Due_times_do_not_drift_at_fractional_intervals()
    {
        // 3/s does not divide a second into whole ticks; the millionth request is still on time.
        var expected = TimeSpan.TicksPerSecond * 1_000_000 / 3;
        Assert.InRange(OpenSchedule.DueTicks(1_000_000, 3, TimeSpan.TicksPerSecond), expected - 1, expected + 1);
    }
}

public sealed class RunOptionsTests
{
    [Fact]
    public void Parses_the_documented_command_line()
    {
        var o = RunOptions.Parse(["overhead", "--rate", "100", "--duration", "60s", "--warmup", "10s", "--base-url", "http://127.0.0.1:5080"]);

        Assert.Equal("overhead", o.Scenario);
        Assert.Equal([100.0], o.Rates);
        Assert.Equal(TimeSpan.FromSeconds(60), o.Duration);
        Assert.Equal(TimeSpan.FromSeconds(10), o.Warmup);
        Assert.Equal(new Uri("http://127.0.0.1:5080"), o.BaseUrl);
        Assert.False(o.Step);
    }

    [Fact]
    public void Rate_lists_step_mode_and_units_parse()
    {
        var o = RunOptions.Parse(["healthz", "--rate", "200,500, 1000", "--step", "--p99-bound", "250ms", "--duration", "2m", "--warmup", "0", "--repeat", "3"]);

        Assert.Equal([200.0, 500.0, 1000.0], o.Rates);
        Assert.True(o.Step);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.P99Bound);
        Assert.Equal(TimeSpan.FromMinutes(2), o.Duration);
        Assert.Equal(TimeSpan.Zero, o.Warmup);
        Assert.Equal(3, o.Repeat);
    }

    [Theory]
    [InlineData("--rate", "0")]
    [InlineData("--rate", "fast")]
    [InlineData("--duration", "-5s")]
    [InlineData("--duration", "0s")]
    [InlineData("--base-url", "ftp://x")]
    [InlineData("--bogus", "1")]
    public void Bad_arguments_are_rejected_with_the_option_named(string name, string value)
    {
        var ex = Assert.Throws<ArgumentException>(() => RunOptions.Parse(["overhead", name, value]));
        Assert.Contains(name, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Alone_pauses_the_others_only_while_a_backlog_drains()
    {
        var o = RunOptions.Parse(["settlement", "--backlog", "--alone", "--rate", "2000"]);
        Assert.True(o.Backlog && o.Alone);
        var ex = Assert.Throws<ArgumentException>(() => RunOptions.Parse(["settlement", "--alone", "--rate", "2000"]));
        Assert.Contains("--backlog", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scenario_comes_first()
    {
        Assert.Throws<ArgumentException>(() => RunOptions.Parse(["--rate", "10"]));
        Assert.Throws<ArgumentException>(() => RunOptions.Parse([]));
    }

    [Fact]
    public void Known_scenarios_are_registered()
    {
        Assert.Contains("overhead", ScenarioRegistry.Names);
        Assert.Contains("healthz", ScenarioRegistry.Names);
        Assert.Null(ScenarioRegistry.Create("nope"));
    }
}

public sealed class ReportTests
{
    [Theory]
    [InlineData(420, "420 µs")]
    [InlineData(3_421, "3.42 ms")]
    [InlineData(25_640, "25.6 ms")]
    [InlineData(1_250_000, "1.25 s")]
    public void Latencies_read_in_sensible_units(long micros, string text)
    {
        Assert.Equal(text, Report.FormatMicros(micros));
    }

    [Fact]
    public void Percentiles_come_from_the_histogram()
    {
        var h = OpenModelRunner.NewHistogram();
        for (var v = 1; v <= 1000; v++)
        {
            h.RecordValue(v * 10);
        }

        var summary = RateSummary.Of(new RunResult
        {
            TargetRate = 100, Measured = TimeSpan.FromSeconds(10), Scheduled = 1000, Completed = 1000, Errors = 10, Dropped = 0, Late = 0,
            Latency = h, ServiceTime = h, PerSecond = [h],
        });

        Assert.Equal(5000, summary.P50Us, 5000 * 0.001);
        Assert.Equal(9900, summary.P99Us, 9900 * 0.001);
        Assert.Equal(10000, summary.MaxUs, 10000 * 0.001);
        Assert.Equal(100, summary.AchievedRate);
        Assert.Equal(0.01, summary.ErrorRate, 6);
    }

    [Fact]
    public void Repeats_report_the_median_of_each_figure()
    {
        static RateSummary Run(long p99) => new(500, 500, 1000, 100, 200, p99, p99 * 2, 90, p99, 0, 0, 0, 1);

        var median = RateSummary.Median([Run(900), Run(100), Run(300)]);

        Assert.Equal(300, median.P99Us);
        Assert.Equal(600, median.MaxUs);
        Assert.Equal(3, median.Runs);
    }

    [Fact]
    public void Table_has_a_row_per_rate_with_formatted_figures()
    {
        var table = Report.Table([new RateSummary(1000, 998.4, 20000, 450, 900, 2_500, 40_000, 300, 2_000, 0.0005, 0, 3, 3)]);

        Assert.Contains("| 1000 | 998 | 20000 | 450 µs | 900 µs | 2.50 ms | 40.0 ms | 300 µs | 2.00 ms | 0.05 % | 0 | 3 | 3 |", table, StringComparison.Ordinal);
    }

    [Fact]
    public void Svg_plot_is_well_formed()
    {
        var h = OpenModelRunner.NewHistogram();
        h.RecordValue(1500);
        var run = new RunResult
        {
            TargetRate = 100, Measured = TimeSpan.FromSeconds(2), Scheduled = 1, Completed = 1, Errors = 0, Dropped = 0, Late = 0,
            Latency = h, ServiceTime = h, PerSecond = [h, OpenModelRunner.NewHistogram()],
        };

        var svg = System.Xml.Linq.XDocument.Parse(Report.Svg([run]));

        Assert.Equal("svg", svg.Root!.Name.LocalName);
        Assert.Equal(2, svg.Descendants().Count(e => e.Name.LocalName == "polyline"));
    }

    [Fact]
    public void Axis_ceiling_is_a_round_number()
    {
        Assert.Equal(1000, Report.NiceCeiling(1000));
        Assert.Equal(2000, Report.NiceCeiling(1001));
        Assert.Equal(50_000, Report.NiceCeiling(43_210));
    }
}
