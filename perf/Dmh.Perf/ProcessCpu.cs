using System.Globalization;

namespace Dmh.Perf;

/// <summary>
/// CPU time used by each DMH process (from the pid files in <c>DMH_RUN_DIR</c>, exported by
/// <c>./dmh perf</c>) and by this runner. On a shared, noisy box CPU per request is a far steadier
/// figure than latency, and it says which process a rate is spent in. The machine's context switches
/// per request count the thread wake-ups a design costs (each round trip between processes takes
/// several), which on a virtual machine cost CPU of their own.
/// </summary>
public sealed record ProcessCpu(IReadOnlyDictionary<string, TimeSpan> ByProcess, TimeSpan MachineBusy, TimeSpan MachineTotal, long ContextSwitches = 0)
{
    // USER_HZ: /proc reports clock ticks of 1/100 s on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100;

    public static ProcessCpu Snapshot()
    {
        var byProcess = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        var runDir = Environment.GetEnvironmentVariable("DMH_RUN_DIR");
        if (!string.IsNullOrEmpty(runDir) && Directory.Exists(runDir))
        {
            foreach (var pidFile in Directory.EnumerateFiles(runDir, "*.pid"))
            {
                if (int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid) && ReadProcessTicks(pid) is { } ticks)
                {
                    byProcess[Path.GetFileNameWithoutExtension(pidFile)] = TimeSpan.FromSeconds(ticks / TicksPerSecond);
                }
            }
        }

        byProcess["runner"] = Environment.CpuUsage.TotalTime;
        var (busy, total, switches) = ReadMachine();
        return new ProcessCpu(byProcess, TimeSpan.FromSeconds(busy / TicksPerSecond), TimeSpan.FromSeconds(total / TicksPerSecond), switches);
    }

    public ProcessCpu Since(ProcessCpu earlier) => new(
        ByProcess.Where(p => earlier.ByProcess.ContainsKey(p.Key)).ToDictionary(p => p.Key, p => p.Value - earlier.ByProcess[p.Key]),
        MachineBusy - earlier.MachineBusy,
        MachineTotal - earlier.MachineTotal,
        ContextSwitches - earlier.ContextSwitches);

    /// <summary>One line: milliseconds of CPU per request by process, largest first, and how busy the machine was.</summary>
    public string Describe(long requests)
    {
        if (requests <= 0)
        {
            return "CPU per request: no requests";
        }

        string PerRequest(TimeSpan t) => (t.TotalMilliseconds / requests).ToString("0.00", CultureInfo.InvariantCulture);
        var parts = ByProcess.Where(p => p.Value > TimeSpan.Zero).OrderByDescending(p => p.Value).Select(p => $"{p.Key} {PerRequest(p.Value)}");
        var total = ByProcess.Values.Aggregate(TimeSpan.Zero, (a, b) => a + b);
        var busy = MachineTotal > TimeSpan.Zero ? MachineBusy / MachineTotal : 0;
        return $"CPU per request over warm-up, measured time and drain (ms): {string.Join(", ", parts)}; listed processes {PerRequest(total)} ms; " +
            $"machine busy {busy.ToString("0 %", CultureInfo.InvariantCulture)} ({PerRequest(MachineBusy)} ms per request from every process, " +
            $"{((double)ContextSwitches / requests).ToString("0", CultureInfo.InvariantCulture)} context switches per request)";
    }

    private static double? ReadProcessTicks(int pid)
    {
        try
        {
            // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static (double Busy, double Total, long ContextSwitches) ReadMachine()
    {
        try
        {
            var lines = File.ReadAllLines("/proc/stat");
            var cpu = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            // user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
            var total = cpu.Take(8).Sum();
            var ctxt = lines.FirstOrDefault(l => l.StartsWith("ctxt ", StringComparison.Ordinal));
            return (total - cpu[3] - cpu[4], total, ctxt is null ? 0 : long.Parse(ctxt[5..], CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return (0, 0, 0);
        }
    }
}
