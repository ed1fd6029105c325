using Dmh.Platform.Streams;

namespace Dmh.UnitTests.Platform;

public sealed class StreamConsumerOptionsTests
{
    [Fact]
    public void Empty_reads_double_the_pause_from_the_poll_interval_up_to_the_idle_interval()
    {
        var options = new StreamConsumerOptions { PollInterval = TimeSpan.FromMilliseconds(10), IdlePollInterval = TimeSpan.FromMilliseconds(50) };
        var pauses = new List<TimeSpan>();
        var pause = TimeSpan.Zero;
        for (var i = 0; i < 6; i++)
        {
            pause = options.NextIdlePause(pause);
            pauses.Add(pause);
        }

        Assert.Equal(new[] { 10, 20, 40, 50, 50, 50 }, pauses.Select(p => (int)p.TotalMilliseconds));
    }

    [Fact]
    public void An_idle_interval_below_the_poll_interval_keeps_the_poll_interval()
    {
        var options = new StreamConsumerOptions { PollInterval = TimeSpan.FromMilliseconds(10), IdlePollInterval = TimeSpan.FromMilliseconds(5) };
        Assert.Equal(TimeSpan.FromMilliseconds(10), options.NextIdlePause(TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromMilliseconds(10), options.NextIdlePause(TimeSpan.FromMilliseconds(10)));
    }

    [Fact]
    public void While_the_database_stays_unreachable_the_pause_doubles_from_the_error_backoff_up_to_the_maximum()
    {
        var options = new StreamConsumerOptions { ErrorBackoff = TimeSpan.FromSeconds(1), MaxUnavailableBackoff = TimeSpan.FromSeconds(5) };
        var pauses = new List<TimeSpan>();
        var pause = TimeSpan.Zero;
        for (var i = 0; i < 5; i++)
        {
            pause = options.NextUnavailableBackoff(pause);
            pauses.Add(pause);
        }

        Assert.Equal(new[] { 1, 2, 4, 5, 5 }, pauses.Select(p => (int)p.TotalSeconds));
    }
}
