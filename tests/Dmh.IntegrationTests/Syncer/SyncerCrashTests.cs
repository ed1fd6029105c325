using System.Diagnostics;
using Dmh.Contracts;
using Dmh.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Dmh.IntegrationTests.Syncer;

/// <summary>A real Dmh.Syncer process killed with SIGKILL mid-stream; another instance takes over.</summary>
public sealed class SyncerCrashTests(ITestOutputHelper output) : SyncTestBase(TargetKind.MySql)
{
    [Fact]
    public async Task A_syncer_killed_mid_batch_loses_nothing_and_duplicates_nothing_after_another_instance_takes_over()
    {
        var orders = await SyncSeed.OrdersAsync(Db, 10_000);
        var settings = Target.SyncSettings();
        settings["Syncer:Consumer:BatchSize"] = "200";
        settings["Syncer:Consumer:ConsumerName"] = "victim";
        using var victim = StartProcess(settings);
        try
        {
            await SyncSeed.PublishAsync(Redis.GetDatabase(), Prefix, SyncEntities.Order, orders);
            await SyncSeed.WaitUntilAsync(async () => await Target.ScalarAsync("SELECT COUNT(*) FROM dmh_orders") >= 1_500);
        }
        finally
        {
            // Process.Kill sends SIGKILL on Linux: no drain, no acknowledgement, no status update.
            victim.Kill(entireProcessTree: true);
            await victim.WaitForExitAsync();
        }

        var atKill = await SyncSeed.StatusCountsAsync(Db);
        output.WriteLine($"at SIGKILL: target {await Target.ScalarAsync("SELECT COUNT(*) FROM dmh_orders")} rows, "
            + $"sync_records synced {atKill.GetValueOrDefault(SyncStatus.Synced)}, pending {atKill.GetValueOrDefault(SyncStatus.Pending)}");

        settings["Syncer:Consumer:ConsumerName"] = "survivor";
        await using var survivor = new ServiceFactory<Dmh.Syncer.EntryPoint>(Db, Prefix, settings);
        _ = survivor.Services;
        await SyncSeed.WaitUntilAsync(async () => (await SyncSeed.StatusCountsAsync(Db)).GetValueOrDefault(SyncStatus.Synced) == 10_000);

        Assert.Equal(10_000, await Target.ScalarAsync("SELECT COUNT(*) FROM dmh_orders"));
        Assert.Equal(10_000, await Target.ScalarAsync("SELECT COUNT(DISTINCT dmh_order_id) FROM dmh_orders"));
        await SyncSeed.WaitUntilAsync(async () => (await Redis.GetDatabase().StreamPendingAsync(Prefix + StreamNames.Sync, GroupNames.Syncer)).PendingMessageCount == 0);
    }

    private Process StartProcess(Dictionary<string, string?> settings)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        var dir = Path.Combine(TestEnvironment.RepoRoot, "Dmh.Syncer", "bin", configuration, "net10.0");
        var start = new ProcessStartInfo("dotnet", [Path.Combine(dir, "Dmh.Syncer.dll")])
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var env = new Dictionary<string, string?>(settings)
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["ASPNETCORE_ENVIRONMENT"] = "Testing",
            ["Database:ConnectionString"] = Db.ConnectionString,
            ["Redis:Configuration"] = TestEnvironment.Redis,
            ["Redis:KeyPrefix"] = Prefix,
            ["Security:DataKey"] = TestKeys.DataKey,
        };
        foreach (var (key, value) in env)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start Dmh.Syncer");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.WriteLine("syncer: " + e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
