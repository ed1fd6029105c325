using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Dmh.Chaos;

/// <summary>How a running process was started, read from /proc, so it can be started again the same way (or with changed settings).</summary>
public sealed record LaunchSpec(string Name, string WorkingDirectory, IReadOnlyList<string> Command, IReadOnlyDictionary<string, string> Environment)
{
    public static LaunchSpec Capture(string name, int pid)
    {
        var proc = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}";
        static List<string> Split(byte[] raw) => Encoding.UTF8.GetString(raw).Split('\0', StringSplitOptions.RemoveEmptyEntries).ToList();
        var environment = Split(File.ReadAllBytes(proc + "/environ"))
            .Select(e => e.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .GroupBy(kv => kv[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);
        var cwd = new DirectoryInfo(proc + "/cwd").ResolveLinkTarget(returnFinalTarget: false)?.FullName ?? "/";
        return new LaunchSpec(name, cwd, Split(File.ReadAllBytes(proc + "/cmdline")), environment);
    }

    /// <summary>The same process with some settings (environment variables) changed.</summary>
    public LaunchSpec With(IReadOnlyDictionary<string, string> overrides)
    {
        var environment = new Dictionary<string, string>(Environment, StringComparer.Ordinal);
        foreach (var (key, value) in overrides)
        {
            environment[key] = value;
        }

        return this with { Environment = environment };
    }

    /// <summary>Every setting with <paramref name="from"/> in its value rewritten (e.g. a server's port to a proxy's).</summary>
    public LaunchSpec Rewrite(string from, string to) => this with
    {
        Environment = Environment.ToDictionary(kv => kv.Key, kv => kv.Value.Replace(from, to, StringComparison.Ordinal), StringComparer.Ordinal),
    };

    /// <summary>The port of its <c>Urls</c> setting (DMH's services listen on one).</summary>
    public int? HttpPort => Environment.TryGetValue("Urls", out var urls) && Uri.TryCreate(urls.Split(';')[0], UriKind.Absolute, out var uri) ? uri.Port : null;

    /// <summary>Every fixed port it listens on: its <c>Urls</c> and any other <c>…__Urls</c> setting (Ingress's management endpoint).</summary>
    public IReadOnlyList<int> ListenPorts => Environment
        .Where(kv => kv.Key == "Urls" || kv.Key.EndsWith("__Urls", StringComparison.Ordinal))
        .SelectMany(kv => kv.Value.Split(';'))
        .Select(url => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Port : 0)
        .Where(port => port > 0)
        .Distinct()
        .Order()
        .ToList();
}

/// <summary>
/// Kills and restarts what <c>./dmh</c> started, by the pid files in its run directory. DMH's services
/// are started again from their captured <see cref="LaunchSpec"/>; the data servers by
/// <c>./dmh servers</c>, which starts whichever is not running.
/// </summary>
public sealed class ServiceControl(string runDirectory, string logDirectory, string repositoryRoot) : IDisposable
{
    public static readonly string[] Services = ["ingress", "settlement", "syncer"];

    /// <summary>The data servers ./dmh servers starts that the scenarios kill.</summary>
    public static readonly string[] Servers = ["redis", "mariadb-dmh", "mariadb-target"];

    /// <summary>How long a killed process may take to be gone, and then its port to be free, before a restart gives up.</summary>
    public static readonly TimeSpan GoneTimeout = TimeSpan.FromMinutes(3);

    public static readonly TimeSpan PortTimeout = TimeSpan.FromSeconds(60);

    private readonly Dictionary<string, LaunchSpec> _specs = new(StringComparer.Ordinal);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(2) };

    public int? Pid(string name)
    {
        var file = Path.Combine(runDirectory, name + ".pid");
        return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }

    /// <summary>Running: the process exists and is not a zombie (state Z: nothing may reap it inside a container).</summary>
    public static bool IsAlive(int pid)
    {
        var stat = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat";
        try
        {
            var text = File.ReadAllText(stat);
            return text[(text.LastIndexOf(')') + 2)..].FirstOrDefault() is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    public bool IsAlive(string name) => Pid(name) is { } pid && IsAlive(pid);

    /// <summary>
    /// Gone with all its threads. A killed multi-threaded process (every .NET service) can show its main
    /// thread as a zombie while its other threads are still being torn down, and its sockets (its
    /// listening port) and files are closed only when the last of them has exited.
    /// </summary>
    public static bool IsGone(int pid)
    {
        var proc = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}";
        try
        {
            return !IsAlive(pid) && Directory.GetDirectories(proc + "/task").Length <= 1;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Whether anything listens on the TCP port (IPv4 or IPv6), from /proc/net: a new server could not bind it.</summary>
    public static bool IsListening(int port)
    {
        const string Listen = "0A";
        var suffix = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            List<string> lines;
            try
            {
                lines = File.ReadLines(table).Skip(1).ToList();
            }
            catch (IOException)
            {
                continue;
            }

            foreach (var line in lines)
            {
                // sl local_address rem_address st ...
                var fields = line.Split(' ', 5, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 4 && fields[3] == Listen && fields[1].EndsWith(suffix, StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Waits until nothing listens on <paramref name="port"/> any more (the old process of <paramref name="name"/> has let go of it).</summary>
    public static async Task WaitPortFreeAsync(string name, int port, TimeSpan timeout, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        while (IsListening(port))
        {
            if (waited.Elapsed > timeout)
            {
                throw new TimeoutException($"{name}: port {port} was still taken {timeout.TotalSeconds:0} s after its process was gone; not starting it again");
            }

            await Task.Delay(50, ct);
        }
    }

    /// <summary>The ports the named service or data server listens on (a service's <c>Urls</c> settings; the servers' from DMH_*_PORT).</summary>
    public IReadOnlyList<int> PortsOf(string name) => name switch
    {
        "redis" => EnvironmentPorts("DMH_REDIS_PORT"),
        "mariadb-dmh" => EnvironmentPorts("DMH_MYSQL_PORT"),
        "mariadb-target" => EnvironmentPorts("DMH_TARGET_PORT"),
        _ => _specs.TryGetValue(name, out var spec) ? spec.ListenPorts : [],
    };

    /// <summary>The service as ./dmh started it (captured the first time it is asked for, while it runs).</summary>
    public LaunchSpec Spec(string name)
    {
        if (!_specs.TryGetValue(name, out var spec))
        {
            var pid = Pid(name) ?? throw new InvalidOperationException($"{name} is not running (no pid file in {runDirectory})");
            _specs[name] = spec = LaunchSpec.Capture(name, pid);
        }

        return spec;
    }

    public void CaptureServices()
    {
        foreach (var service in Services)
        {
            Spec(service);
        }
    }

    /// <summary>SIGKILL, and waits until the process is gone (every thread of it).</summary>
    public static async Task KillAsync(int pid, CancellationToken ct)
    {
        Signal(pid, "KILL");
        // A killed MariaDB or .NET service can take a while to go on a loaded machine (its threads and I/O are
        // torn down first); starting it again before then would find the old one still holding its port.
        if (!await WaitGoneAsync(pid, GoneTimeout, ct))
        {
            throw new TimeoutException($"pid {pid} was still there {GoneTimeout.TotalMinutes:0} minutes after SIGKILL");
        }
    }

    /// <summary>SIGTERM (graceful drain), then SIGKILL if it has not exited within the timeout.</summary>
    public static async Task StopAsync(int pid, TimeSpan timeout, CancellationToken ct)
    {
        Signal(pid, "TERM");
        if (!await WaitGoneAsync(pid, timeout, ct))
        {
            await KillAsync(pid, ct);
        }
    }

    /// <summary>Kills what ./dmh (or this runner) started as <paramref name="name"/> and waits until it is gone and its port is free.</summary>
    public async Task KillAsync(string name, CancellationToken ct)
    {
        if (Pid(name) is { } pid)
        {
            await KillAsync(pid, ct);
        }

        foreach (var port in PortsOf(name))
        {
            await WaitPortFreeAsync(name, port, PortTimeout, ct);
        }
    }

    /// <summary>Starts a process detached (its own session, output appended to its log); returns its pid.</summary>
    public int Launch(LaunchSpec spec, string logName)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = spec.WorkingDirectory,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("log=$1; shift; setsid nohup \"$@\" >>\"$log\" 2>&1 </dev/null & echo $!");
        start.ArgumentList.Add("sh");
        start.ArgumentList.Add(Path.Combine(logDirectory, logName + ".log"));
        foreach (var part in spec.Command)
        {
            start.ArgumentList.Add(part);
        }

        start.Environment.Clear();
        foreach (var (key, value) in spec.Environment)
        {
            start.Environment[key] = value;
        }

        using var shell = Process.Start(start) ?? throw new InvalidOperationException("could not start /bin/sh");
        var output = shell.StandardOutput.ReadToEnd();
        shell.WaitForExit();
        return int.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Starts a service of ./dmh's (by its pid file's name) from <paramref name="spec"/> and waits until /readyz answers.</summary>
    public async Task StartServiceAsync(LaunchSpec spec, CancellationToken ct, bool waitReady = true)
    {
        // The one before may have died by itself (a commit crash) moments ago: its port must be free first.
        foreach (var port in spec.ListenPorts)
        {
            await WaitPortFreeAsync(spec.Name, port, PortTimeout, ct);
        }

        var pid = Launch(spec, spec.Name);
        await File.WriteAllTextAsync(Path.Combine(runDirectory, spec.Name + ".pid"), pid.ToString(CultureInfo.InvariantCulture) + "\n", ct);
        if (waitReady)
        {
            await WaitReadyAsync(spec, pid, ct);
        }
    }

    /// <summary>Kills the service and starts it again (from its captured spec, or <paramref name="spec"/>).</summary>
    public async Task RestartServiceAsync(string name, CancellationToken ct, LaunchSpec? spec = null, bool waitReady = true)
    {
        spec ??= Spec(name);
        await KillAsync(name, ct);
        await StartServiceAsync(spec, ct, waitReady);
    }

    public async Task WaitReadyAsync(LaunchSpec spec, int pid, CancellationToken ct)
    {
        var port = spec.HttpPort ?? throw new InvalidOperationException($"{spec.Name} has no Urls setting");
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (!IsAlive(pid))
            {
                var log = Path.Combine(logDirectory, spec.Name + ".log");
                throw new InvalidOperationException($"{spec.Name} (pid {pid}) exited during start-up (log: {log}); its last lines:\n{Tail(log, 15)}");
            }

            try
            {
                using var ready = await _http.GetAsync(new Uri($"http://127.0.0.1:{port}/readyz"), ct);
                if (ready.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
            }

            if (deadline.Elapsed > TimeSpan.FromMinutes(3))
            {
                throw new TimeoutException($"{spec.Name} was not ready in 3 minutes");
            }

            await Task.Delay(100, ct);
        }
    }

    /// <summary><c>./dmh servers</c>: starts whichever data server is not running and waits for it.</summary>
    public async Task StartServersAsync(CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await RunDmhServersAsync(ct);
                // ./dmh servers answering 0 is not enough: it once took a killed, unreaped Redis for a running one.
                if (Servers.FirstOrDefault(server => !IsAlive(server)) is { } down)
                {
                    throw new InvalidOperationException($"{down} is not running after ./dmh servers");
                }

                return;
            }
            catch (InvalidOperationException ex) when (waited.Elapsed < TimeSpan.FromMinutes(3))
            {
                ChaosContext.Log($"./dmh servers failed, trying again: {ex.Message.Split('\n')[0]}");
                await Task.Delay(1000, ct);
            }
        }
    }

    private async Task RunDmhServersAsync(CancellationToken ct)
    {
        var start = new ProcessStartInfo(Path.Combine(repositoryRoot, "dmh"))
        {
            WorkingDirectory = repositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("servers");
        using var dmh = Process.Start(start) ?? throw new InvalidOperationException("could not run ./dmh servers");
        var output = dmh.StandardOutput.ReadToEndAsync(ct);
        var errors = dmh.StandardError.ReadToEndAsync(ct);
        await dmh.WaitForExitAsync(ct);
        if (dmh.ExitCode != 0)
        {
            throw new InvalidOperationException($"./dmh servers failed ({dmh.ExitCode}): {await output}{await errors}");
        }
    }

    public void Dispose() => _http.Dispose();

    private static string Tail(string file, int lines)
    {
        try
        {
            return string.Join('\n', File.ReadLines(file).TakeLast(lines));
        }
        catch (IOException ex)
        {
            return ex.Message;
        }
    }

    private static IReadOnlyList<int> EnvironmentPorts(string variable) =>
        int.TryParse(System.Environment.GetEnvironmentVariable(variable), CultureInfo.InvariantCulture, out var port) ? [port] : [];

    private static void Signal(int pid, string signal)
    {
        if (!IsAlive(pid))
        {
            return;
        }

        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
        kill?.WaitForExit();
    }

    private static async Task<bool> WaitGoneAsync(int pid, TimeSpan timeout, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        while (!IsGone(pid))
        {
            if (waited.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(20, ct);
        }

        return true;
    }
}
