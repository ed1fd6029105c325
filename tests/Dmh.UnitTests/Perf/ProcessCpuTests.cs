using Dmh.Perf;

namespace Dmh.UnitTests.Perf;

public sealed class ProcessCpuTests
{
    [Fact]
    public void Cpu_per_request_is_the_difference_per_process_largest_first_with_the_machine_share()
    {
        var before = new ProcessCpu(new Dictionary<string, TimeSpan>
        {
            ["ingress"] = TimeSpan.FromSeconds(10),
            ["mariadb-dmh"] = TimeSpan.FromSeconds(20),
            ["runner"] = TimeSpan.FromSeconds(1),
        }, MachineBusy: TimeSpan.FromSeconds(100), MachineTotal: TimeSpan.FromSeconds(400), ContextSwitches: 5_000);
        var after = new ProcessCpu(new Dictionary<string, TimeSpan>
        {
            ["ingress"] = TimeSpan.FromSeconds(12),
            ["mariadb-dmh"] = TimeSpan.FromSeconds(25),
            ["runner"] = TimeSpan.FromSeconds(1.5),
            ["settlement"] = TimeSpan.FromSeconds(3), // started in between: no earlier figure, left out
        }, MachineBusy: TimeSpan.FromSeconds(109), MachineTotal: TimeSpan.FromSeconds(410), ContextSwitches: 47_000);

        var line = after.Since(before).Describe(requests: 1000);

        Assert.Contains("mariadb-dmh 5.00, ingress 2.00, runner 0.50;", line, StringComparison.Ordinal);
        Assert.DoesNotContain("settlement", line, StringComparison.Ordinal);
        Assert.Contains("listed processes 7.50 ms", line, StringComparison.Ordinal);
        Assert.Contains("machine busy 90 % (9.00 ms per request from every process, 42 context switches per request)", line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_snapshot_always_has_the_runner_itself()
    {
        var snapshot = ProcessCpu.Snapshot();
        Assert.True(snapshot.ByProcess.ContainsKey("runner"));
        Assert.True(snapshot.MachineTotal > TimeSpan.Zero);
        Assert.True(snapshot.ContextSwitches > 0, "/proc/stat counts the machine's context switches");
    }
}
