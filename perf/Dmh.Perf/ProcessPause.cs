using System.Diagnostics;
using System.Globalization;

namespace Dmh.Perf;

/// <summary>
/// Processes of the run (by their pid files in <c>DMH_RUN_DIR</c>) stopped with SIGSTOP: the Settlement
/// processes (settlement, settlement2, …) so that a backlog builds up in the payments stream, and with
/// <c>--alone</c> the syncer and Ingress while Settlement drains it. <see cref="Resume"/> sends SIGCONT.
/// Paused while idle, they hold no transaction open.
/// </summary>
public sealed class ProcessPause
{
    private readonly IReadOnlyList<int> _pids;
    private int _resumed;

    private ProcessPause(IReadOnlyList<int> pids) => _pids = pids;

    public int Count => _pids.Count;

    public static Task<ProcessPause> PauseSettlementAsync(CancellationToken ct) => PauseAsync(["settlement*.pid"], ct);

    /// <summary>Pauses the processes whose pid files match <paramref name="pidFiles"/>; at least one must.</summary>
    public static async Task<ProcessPause> PauseAsync(IReadOnlyList<string> pidFiles, CancellationToken ct)
    {
        var runDir = Environment.GetEnvironmentVariable("DMH_RUN_DIR");
        if (string.IsNullOrEmpty(runDir) || !Directory.Exists(runDir))
        {
            throw new InvalidOperationException("--backlog needs DMH_RUN_DIR (run it through ./dmh perf)");
        }

        var pids = pidFiles.SelectMany(pattern => Directory.EnumerateFiles(runDir, pattern))
            .Select(f => int.Parse(File.ReadAllText(f).Trim(), CultureInfo.InvariantCulture))
            .ToList();
        if (pids.Count == 0)
        {
            throw new InvalidOperationException($"--backlog: no {string.Join(" or ", pidFiles)} pid file in {runDir}");
        }

        // Let a batch in flight finish first: the runner posts nothing until now.
        await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
        foreach (var pid in pids)
        {
            Signal(pid, "STOP");
        }

        return new ProcessPause(pids);
    }

    public void Resume()
    {
        if (Interlocked.Exchange(ref _resumed, 1) == 0)
        {
            foreach (var pid in _pids)
            {
                Signal(pid, "CONT");
            }
        }
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("could not run kill");
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {pid} failed");
        }
    }
}
