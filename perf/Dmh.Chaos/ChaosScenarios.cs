using System.Globalization;
using System.Net;
using Dmh.Contracts;
using StackExchange.Redis;

namespace Dmh.Chaos;

/// <summary>What a scenario's fault injection can reach.</summary>
public sealed class ChaosContext(ServiceControl services, IDatabase redis, string keyPrefix, ChaosSettings settings, Task loadDone, CancellationToken ct)
{
    private readonly Random _random = new();

    public ServiceControl Services { get; } = services;

    public IDatabase Redis { get; } = redis;

    public string KeyPrefix { get; } = keyPrefix;

    public ChaosSettings Settings { get; } = settings;

    /// <summary>Completes when every journey has finished (late duplicate deliveries aside).</summary>
    public Task LoadDone { get; } = loadDone;

    public CancellationToken Ct { get; } = ct;

    public JourneyLoad? Load { get; set; }

    public int Next(int min, int maxInclusive)
    {
        lock (_random)
        {
            return _random.Next(min, maxInclusive + 1);
        }
    }

    public Task PauseAsync() => Task.Delay(Settings.Interval, Ct);

    public static void Log(string line) => Console.Error.WriteLine($"[chaos] {DateTimeOffset.UtcNow:HH:mm:ss} {line}");
}

/// <summary>One fault-injection scenario: how its journeys deliver notifies and what it breaks meanwhile.</summary>
/// <param name="Inject">Runs beside the load; returns how many faults it injected. Leaves every process running as ./dmh started it.</param>
/// <param name="SetUp">Before the load (e.g. put proxies between the services and their servers).</param>
/// <param name="TearDown">After the load and the faults: the fault is cleared from here on.</param>
public sealed record ChaosScenario(
    string Name,
    string Description,
    Func<ChaosSettings, DeliveryPlan> Plan,
    Func<ChaosContext, Task<int>> Inject,
    Func<ChaosContext, Task>? SetUp = null,
    Func<ChaosContext, Task>? TearDown = null,
    bool Soak = false,
    bool TrimsSync = false);

/// <summary>The scenarios of issue 22, in order.</summary>
public static class ChaosScenarios
{
    private static readonly Lazy<int> RedisPort = new(() => Port("DMH_REDIS_PORT", 6390));
    private static readonly Lazy<int> MysqlPort = new(() => Port("DMH_MYSQL_PORT", 3307));
    private static readonly Lazy<int> TargetPort = new(() => Port("DMH_TARGET_PORT", 3308));
    private static readonly List<TcpFaultProxy> Proxies = [];
    private static readonly List<(string Service, int Pid)> Extras = [];

    public static readonly IReadOnlyList<ChaosScenario> All =
    [
        new("soak", "journeys at a steady rate, no fault: the baseline", _ => DeliveryPlan.Normal, _ => Task.FromResult(0), Soak: true),
        new("duplicate-storm", "every notify delivered 5-20 times, concurrently, some again late",
            s => new DeliveryPlan(r => r.Next(5, 21), r => r.Next(1, 4), s.LateBy), DuplicateStormAsync),
        new("settlement-sigkill", "Settlement killed with SIGKILL every few seconds and restarted", _ => DeliveryPlan.Normal, SettlementKillAsync),
        new("settlement-commit-crash", "Settlement dies between its commit and XACK (Settlement:Faults:ExitAfterCommitCount) and is restarted", _ => DeliveryPlan.Normal, CommitCrashAsync),
        new("redis-kill", "Redis killed (SIGKILL) and restarted (AOF, appendfsync always) during load", _ => DeliveryPlan.Normal, c => KillServerAsync(c, "redis")),
        new("mariadb-kill", "DMH's MariaDB killed (SIGKILL) and restarted during load", _ => DeliveryPlan.Normal, c => KillServerAsync(c, "mariadb-dmh")),
        new("network", "TCP proxies between the services and Redis, MariaDB and the customer's database: latency, bandwidth cap, resets, black hole",
            _ => DeliveryPlan.Normal, NetworkFaultsAsync, ThroughProxiesAsync, DirectAgainAsync),
        new("worker-churn", "1-4 Settlement and 1-3 Syncer instances started and stopped at random", _ => DeliveryPlan.Normal, ChurnAsync, TearDown: StopExtrasAsync),
        new("customer-db-down", "the customer's database down (\"an hour\", compressed), then back", _ => DeliveryPlan.Normal, CustomerOutageAsync),
        new("syncer-kill-trim", "the syncer killed mid-batch repeatedly while the sync stream is trimmed to what was delivered",
            _ => DeliveryPlan.Normal, SyncerKillTrimAsync, AggressiveTrimAsync, c => RestoreAsync(c, "syncer"), TrimsSync: true),
    ];

    private static async Task<int> DuplicateStormAsync(ChaosContext c)
    {
        await c.LoadDone;
        await c.Load!.WaitForLateDeliveriesAsync();
        return (int)(c.Load.Deliveries - c.Load.Acknowledged.Count);
    }

    private static async Task<int> SettlementKillAsync(ChaosContext c)
    {
        var spec = c.Services.Spec("settlement");
        for (var i = 0; i < c.Settings.Faults; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(c.Next(500, 3000)), c.Ct);
            await c.Services.RestartServiceAsync("settlement", c.Ct, spec);
        }

        return c.Settings.Faults;
    }

    private static async Task<int> CommitCrashAsync(ChaosContext c)
    {
        var spec = c.Services.Spec("settlement");
        var crashes = 0;
        while (crashes < c.Settings.Faults)
        {
            var after = c.Next(1, 20);
            // Not waited for: with a backlog it may commit its count and die before it answers /readyz.
            await c.Services.RestartServiceAsync("settlement", c.Ct, spec.With(new Dictionary<string, string>
            {
                ["Settlement__Faults__ExitAfterCommitCount"] = after.ToString(CultureInfo.InvariantCulture),
            }), waitReady: false);
            // It dies by itself after that many commits; once the journeys are over nothing more commits.
            while (c.Services.IsAlive("settlement") && !c.LoadDone.IsCompleted)
            {
                await Task.Delay(50, c.Ct);
            }

            if (c.Services.IsAlive("settlement"))
            {
                break;
            }

            crashes++;
        }

        await c.Services.RestartServiceAsync("settlement", c.Ct, spec);
        return crashes;
    }

    private static async Task<int> KillServerAsync(ChaosContext c, string server)
    {
        for (var i = 0; i < c.Settings.ServerFaults; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(c.Next(1000, 3000)), c.Ct);
            ChaosContext.Log($"SIGKILL {server}");
            await c.Services.KillAsync(server, c.Ct);
            await c.Services.StartServersAsync(c.Ct);
        }

        return c.Settings.ServerFaults;
    }

    private static async Task ThroughProxiesAsync(ChaosContext c)
    {
        var redis = Proxy(RedisPort.Value);
        var mysql = Proxy(MysqlPort.Value);
        var target = Proxy(TargetPort.Value);
        foreach (var service in ServiceControl.Services)
        {
            var spec = c.Services.Spec(service)
                .Rewrite($"127.0.0.1:{RedisPort.Value},", $"127.0.0.1:{redis.Port},")
                .Rewrite($"Port={MysqlPort.Value};", $"Port={mysql.Port};");
            if (service == "syncer")
            {
                spec = spec.With(new Dictionary<string, string> { ["ExternalSync__Database__Port"] = target.Port.ToString(CultureInfo.InvariantCulture) });
            }

            await c.Services.RestartServiceAsync(service, c.Ct, spec);
        }
    }

    private static async Task<int> NetworkFaultsAsync(ChaosContext c)
    {
        string[] links = ["redis", "mariadb", "customer-db"];
        string[] kinds = ["latency 200 ms", "bandwidth 20 KB/s", "connections reset", "black hole"];
        // Every kind on every link at least once.
        var faults = Math.Max(c.Settings.Faults, links.Length * kinds.Length);
        for (var i = 0; i < faults; i++)
        {
            var proxy = Proxies[i % links.Length];
            var kind = kinds[i / links.Length % kinds.Length];
            ChaosContext.Log($"{kind} between the services and {links[i % links.Length]}");
            switch (kind)
            {
                case "latency 200 ms":
                    proxy.Latency = TimeSpan.FromMilliseconds(200);
                    break;
                case "bandwidth 20 KB/s":
                    proxy.BytesPerSecond = 20 * 1024;
                    break;
                case "connections reset":
                    proxy.ResetAll();
                    break;
                default:
                    proxy.BlackHole = true;
                    break;
            }

            await Task.Delay(c.Settings.Hold, c.Ct);
            proxy.Clear();
            await c.PauseAsync();
        }

        return faults;
    }

    private static async Task DirectAgainAsync(ChaosContext c)
    {
        foreach (var service in ServiceControl.Services)
        {
            await RestoreAsync(c, service);
        }

        foreach (var proxy in Proxies)
        {
            await proxy.DisposeAsync();
        }

        Proxies.Clear();
    }

    private static async Task<int> ChurnAsync(ChaosContext c)
    {
        for (var i = 0; i < c.Settings.Faults; i++)
        {
            await c.PauseAsync();
            var settlement = c.Next(1, 4);
            var syncer = c.Next(1, 3);
            ChaosContext.Log($"worker churn: {settlement} settlement, {syncer} syncer");
            await ScaleAsync(c, "settlement", settlement - 1);
            await ScaleAsync(c, "syncer", syncer - 1);
        }

        return c.Settings.Faults;
    }

    private static async Task ScaleAsync(ChaosContext c, string service, int extras)
    {
        var mine = Extras.Where(e => e.Service == service).ToList();
        for (var n = mine.Count; n < extras; n++)
        {
            // Port 0: each extra instance listens wherever the OS puts it; consumer names carry the pid.
            var pid = c.Services.Launch(c.Services.Spec(service).With(new Dictionary<string, string> { ["Urls"] = "http://127.0.0.1:0" }), service + "-extra");
            Extras.Add((service, pid));
        }

        foreach (var extra in mine.OrderBy(_ => c.Next(0, 1000)).Take(Math.Max(0, mine.Count - extras)))
        {
            Extras.Remove(extra);
            // Half stopped gracefully (SIGTERM, drain), half killed.
            if (c.Next(0, 1) == 0)
            {
                await ServiceControl.StopAsync(extra.Pid, TimeSpan.FromSeconds(10), c.Ct);
            }
            else
            {
                await ServiceControl.KillAsync(extra.Pid, c.Ct);
            }
        }
    }

    private static async Task StopExtrasAsync(ChaosContext c)
    {
        await ScaleAsync(c, "settlement", 0);
        await ScaleAsync(c, "syncer", 0);
    }

    private static async Task<int> CustomerOutageAsync(ChaosContext c)
    {
        for (var i = 0; i < c.Settings.ServerFaults; i++)
        {
            await c.PauseAsync();
            ChaosContext.Log($"customer database down for {c.Settings.Outage.TotalSeconds:0} s");
            await c.Services.KillAsync("mariadb-target", c.Ct);
            await Task.Delay(c.Settings.Outage, c.Ct);
            await c.Services.StartServersAsync(c.Ct);
        }

        return c.Settings.ServerFaults;
    }

    private static Task AggressiveTrimAsync(ChaosContext c) =>
        c.Services.RestartServiceAsync("syncer", c.Ct, c.Services.Spec("syncer").With(new Dictionary<string, string>
        {
            ["Syncer__Consumer__TrimInterval"] = "00:00:00.200",
        }));

    private static async Task<int> SyncerKillTrimAsync(ChaosContext c)
    {
        var spec = c.Services.Spec("syncer").With(new Dictionary<string, string> { ["Syncer__Consumer__TrimInterval"] = "00:00:00.200" });
        var stream = c.KeyPrefix + StreamNames.Sync;
        for (var i = 0; i < c.Settings.Faults; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(c.Next(300, 2000)), c.Ct);
            // Everything delivered to a consumer goes, acknowledged or not: what the killed syncer held is then only in MySQL.
            var groups = await c.Redis.StreamGroupInfoAsync(stream);
            var delivered = groups.FirstOrDefault(g => g.Name == GroupNames.Syncer).LastDeliveredId;
            if (delivered is { Length: > 0 } id && id != "0-0")
            {
                await c.Redis.ExecuteAsync("XTRIM", stream, "MINID", id);
            }

            await c.Services.RestartServiceAsync("syncer", c.Ct, spec);
        }

        return c.Settings.Faults;
    }

    private static Task RestoreAsync(ChaosContext c, string service) => c.Services.RestartServiceAsync(service, c.Ct, c.Services.Spec(service));

    private static TcpFaultProxy Proxy(int port)
    {
        var proxy = new TcpFaultProxy(new IPEndPoint(IPAddress.Loopback, port)).Start();
        Proxies.Add(proxy);
        return proxy;
    }

    private static int Port(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), CultureInfo.InvariantCulture, out var port) ? port : fallback;
}
