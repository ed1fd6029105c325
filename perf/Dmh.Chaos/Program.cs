using System.Globalization;
using Dmh.Chaos;
using Dmh.Perf;
using MySqlConnector;
using StackExchange.Redis;

// ./dmh chaos [scenario...]: journeys under injected faults, then the pipeline's promises checked (issue 22).
ChaosSettings settings;
Uri baseUrl;
List<string> names;
try
{
    (settings, baseUrl, names) = ChaosSettings.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(ChaosSettings.Usage);
    return 2;
}

var unknown = names.Where(n => ChaosScenarios.All.All(s => s.Name != n)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"unknown scenario(s) {string.Join(", ", unknown)}; scenarios:");
    foreach (var s in ChaosScenarios.All)
    {
        Console.Error.WriteLine($"  {s.Name,-24} {s.Description}");
    }

    return 2;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};
ThreadPool.GetMinThreads(out var workers, out var io);
ThreadPool.SetMinThreads(Math.Max(workers, Environment.ProcessorCount * 8), io);

var root = PerfSystem.Required("DMH_ROOT");
var keyPrefix = Environment.GetEnvironmentVariable("Redis__KeyPrefix") ?? "";
var redisOptions = ConfigurationOptions.Parse(PerfSystem.Required("DMH_TEST_REDIS"));
redisOptions.AbortOnConnectFail = false;
await using var redis = await ConnectionMultiplexer.ConnectAsync(redisOptions);
await using var customer = new MySqlDataSource(PerfSystem.Required("DMH_TEST_TARGET_MYSQL") + ";Database=customer");
await using var system = await PerfSystem.ConnectAsync(baseUrl, cts.Token);
using var services = new ServiceControl(PerfSystem.Required("DMH_RUN_DIR"), PerfSystem.Required("DMH_LOG_DIR"), root);
services.CaptureServices();
using var handler = new SocketsHttpHandler
{
    MaxConnectionsPerServer = 256,
    PooledConnectionLifetime = TimeSpan.FromMinutes(1),
    ConnectTimeout = TimeSpan.FromSeconds(5),
    UseProxy = false,
    UseCookies = false,
    AllowAutoRedirect = false,
};
using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
var invariants = new Invariants(system.Db, customer, redis.GetDatabase(), keyPrefix);
var simulator = new Uri(PerfSystem.Required("DMH_SIM_URL"));
var runner = new ChaosRunner(system, client, invariants, services, redis.GetDatabase(), keyPrefix, settings, simulator);

var started = DateTimeOffset.UtcNow;
var results = new List<ScenarioResult>();
// In the order given (the most telling first when the run may not finish), else the issue's order.
foreach (var scenario in names.Count == 0 ? ChaosScenarios.All : names.Distinct().Select(n => ChaosScenarios.All.Single(s => s.Name == n)))
{
    await runner.HealAsync(cts.Token);
    var result = await runner.RunAsync(scenario, cts.Token);
    results.Add(result);
    // Each row as soon as it is known: a long run stopped early still leaves its finished rows in the log.
    ChaosContext.Log(ChaosRunner.Table([result]).Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
    if (!result.Passed)
    {
        // Loud: the first ids that break each promise, on stderr as they are found.
        Console.Error.WriteLine($"[chaos] FAIL {scenario.Name}");
        foreach (var violation in result.Violations)
        {
            Console.Error.WriteLine($"[chaos]   {violation}");
        }

        if (result.Recovery is null)
        {
            Console.Error.WriteLine($"[chaos]   the backlog did not drain within {ChaosRunner.FormatSeconds(settings.RecoveryTimeout)} of the fault being cleared");
        }

        if (result.Error is not null)
        {
            Console.Error.WriteLine($"[chaos]   {result.Error}");
        }
    }
}

await runner.HealAsync(CancellationToken.None);
var table = ChaosRunner.Table(results);
var directory = Path.Combine(root, "perf", "results", started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-chaos");
Directory.CreateDirectory(directory);
var report = $"""
    # Chaos run {started:yyyy-MM-dd HH:mm} UTC ({(settings.Quick ? "compressed" : "full")})

    Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; load {File.ReadAllText("/proc/loadavg").Trim()} at the end.
    Settings: {settings}

    {table}
    {string.Join("\n", results.Where(r => !r.Passed).SelectMany(r => r.Violations.Select(v => $"- {r.Name}: {v}").Append(r.Error is null ? "" : $"- {r.Name}: error {r.Error.Split('\n')[0]}")))}
    """;
await File.WriteAllTextAsync(Path.Combine(directory, "report.md"), report);
Console.WriteLine(table);
Console.WriteLine($"report: {Path.Combine(directory, "report.md")}");
var failed = results.Count(r => !r.Passed);
Console.WriteLine($"{results.Count - failed} passed, {failed} failed");
return failed == 0 && results.Count > 0 ? 0 : 1;
