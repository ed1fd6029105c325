using System.Diagnostics;
using System.Text;
using Dapper;
using Dmh.IntegrationTests.Infrastructure;

namespace Dmh.IntegrationTests.Settlement;

/// <summary>A real Dmh.Settlement process dies between commit and XACK; another instance takes over.</summary>
public sealed class SettlementCrashTests : SettlementTestBase
{
    [Fact]
    public async Task A_worker_killed_between_commit_and_ack_loses_nothing_and_settles_nothing_twice()
    {
        var campaign = await Kit.CampaignAsync(fixedYuan: 1.5m);
        var referrers = new List<long>();
        for (var i = 0; i < 10; i++)
        {
            referrers.Add(await Kit.ParticipantAsync());
        }

        var registrant = await Kit.ParticipantAsync();
        for (var i = 0; i < 200; i++)
        {
            var (_, outTradeNo) = await Kit.OrderAsync(campaign, registrant, referrers[i % 10], 9900);
            await Kit.PublishAsync(SettlementKit.Payment(outTradeNo, 9900));
        }

        // The victim reads every entry in one batch, commits 50 (a few more in flight may commit too)
        // and dies by the chaos hook before acknowledging any of them.
        var (exitCode, output) = await RunVictimAsync(new Dictionary<string, string?>(Kit.Settings("victim", claimIdle: "01:00:00"))
        {
            ["Settlement:Faults:ExitAfterCommitCount"] = "50",
            ["Settlement:MaxParallelism"] = "8",
            ["Settlement:Consumer:BatchSize"] = "500",
        });
        Assert.True(exitCode != 0, $"the victim should have died; output:\n{output}");
        var paidByVictim = await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM orders WHERE pay_status = 'paid'");
        Assert.InRange(paidByVictim, 50, 199);
        Assert.Equal(200, await Kit.PendingAsync());

        using var survivor = await SettlementKit.StartWorkerAsync(Kit.Settings("survivor", claimIdle: "00:00:00.500"));
        await SettlementKit.WaitUntilAsync(async () =>
            await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM orders WHERE pay_status = 'paid'") == 200 && await Kit.PendingAsync() == 0);

        await using var check = await Db.DataSource.OpenConnectionAsync();
        Assert.Equal(200, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rewards"));
        Assert.Equal(200, await check.ExecuteScalarAsync<long>("SELECT COUNT(DISTINCT order_id) FROM rewards"));
        var balances = (await check.QueryAsync<(decimal Balance, long Version, decimal Sum, long Count)>("""
            SELECT b.balance, b.version, SUM(r.amount), COUNT(r.id)
            FROM user_balances b JOIN rewards r ON r.user_id = b.user_id GROUP BY b.user_id, b.balance, b.version
            """)).ToList();
        Assert.Equal(10, balances.Count);
        Assert.All(balances, b => Assert.Equal((30m, 20L), (b.Balance, b.Version)));
        Assert.All(balances, b => Assert.Equal((b.Sum, b.Count), (b.Balance, b.Version)));
        // Outbox rows the victim committed but never published are published by the takeover's duplicate path.
        await SettlementKit.WaitUntilAsync(async () => await Kit.UnpublishedAsync() == 0);
        Assert.Equal(400, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM sync_records"));
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM dead_letters"));
        await survivor.StopAsync();
    }

    [Fact]
    public async Task A_worker_killed_after_committing_a_batch_of_100_before_its_ack_loses_nothing_and_settles_nothing_twice()
    {
        var campaign = await Kit.CampaignAsync(fixedYuan: 0.5m);
        var referrers = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            referrers.Add(await Kit.ParticipantAsync());
        }

        var registrant = await Kit.ParticipantAsync();
        for (var i = 0; i < 200; i++)
        {
            var (_, outTradeNo) = await Kit.OrderAsync(campaign, registrant, referrers[i % 5], 9900);
            await Kit.PublishAsync(SettlementKit.Payment(outTradeNo, 9900));
        }

        // One lane, two transactions of 100: the victim commits the first 100 payments in one transaction
        // and dies right after that commit, before acknowledging anything.
        var (exitCode, output) = await RunVictimAsync(new Dictionary<string, string?>(Kit.Settings("victim", claimIdle: "01:00:00"))
        {
            ["Settlement:Faults:ExitAfterCommitCount"] = "1",
            ["Settlement:MaxParallelism"] = "1",
            ["Settlement:MaxPaymentsPerTransaction"] = "100",
            ["Settlement:Consumer:BatchSize"] = "500",
        });
        Assert.True(exitCode != 0, $"the victim should have died; output:\n{output}");
        Assert.Equal(100, await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM orders WHERE pay_status = 'paid'"));
        Assert.Equal(200, await Kit.PendingAsync());

        using var survivor = await SettlementKit.StartWorkerAsync(Kit.Settings("survivor", claimIdle: "00:00:00.500"));
        await SettlementKit.WaitUntilAsync(async () =>
            await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM orders WHERE pay_status = 'paid'") == 200 && await Kit.PendingAsync() == 0);
        await SettlementKit.WaitUntilAsync(async () => await Kit.UnpublishedAsync() == 0);
        await survivor.StopAsync();

        await using var check = await Db.DataSource.OpenConnectionAsync();
        Assert.Equal(200, await check.ExecuteScalarAsync<long>("SELECT COUNT(DISTINCT order_id) FROM rewards"));
        Assert.Equal(200, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rewards"));
        var balances = (await check.QueryAsync<(decimal Balance, long Version)>("SELECT balance, version FROM user_balances")).ToList();
        Assert.Equal(5, balances.Count);
        Assert.All(balances, b => Assert.Equal((20m, 40L), (b.Balance, b.Version)));
        Assert.Equal(400, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM sync_records"));
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM dead_letters"));
        await Kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task Workers_killed_while_new_referrers_balances_conflict_never_commit_a_reward_without_its_credit()
    {
        // Few new referrers (no balance row yet) shared by many lanes: most settlements in flight when a
        // worker dies are retrying a balance version, which once committed rewards without their credit.
        var campaign = await Kit.CampaignAsync(fixedYuan: 1.5m);
        var referrers = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            referrers.Add(await Kit.ParticipantAsync());
        }

        var registrant = await Kit.ParticipantAsync();
        for (var round = 0; round < 4; round++)
        {
            // Each victim reads its own fresh entries and dies after 15 commits, with the rest in flight.
            for (var i = 0; i < 60; i++)
            {
                var (_, outTradeNo) = await Kit.OrderAsync(campaign, registrant, referrers[i % 3], 9900);
                await Kit.PublishAsync(SettlementKit.Payment(outTradeNo, 9900));
            }

            var (exitCode, output) = await RunVictimAsync(new Dictionary<string, string?>(Kit.Settings($"victim{round}", claimIdle: "01:00:00"))
            {
                ["Settlement:Faults:ExitAfterCommitCount"] = "15",
                ["Settlement:MaxParallelism"] = "16",
                ["Settlement:MinPaymentsPerTransaction"] = "1",
                ["Settlement:Consumer:BatchSize"] = "500",
            });
            Assert.True(exitCode != 0, $"victim {round} should have died; output:\n{output}");
        }

        using var survivor = await SettlementKit.StartWorkerAsync(Kit.Settings("survivor", claimIdle: "00:00:00.500"));
        await SettlementKit.WaitUntilAsync(async () =>
            await Kit.ScalarAsync<long>("SELECT COUNT(*) FROM orders WHERE pay_status = 'paid'") == 240 && await Kit.PendingAsync() == 0);
        await survivor.StopAsync();

        await using var check = await Db.DataSource.OpenConnectionAsync();
        Assert.Equal(240, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rewards"));
        var balances = (await check.QueryAsync<(long UserId, decimal Balance, long Version, decimal Sum, long Count)>("""
            SELECT b.user_id, b.balance, b.version, SUM(r.amount), COUNT(r.id)
            FROM user_balances b JOIN rewards r ON r.user_id = b.user_id GROUP BY b.user_id, b.balance, b.version
            """)).ToList();
        Assert.Equal(3, balances.Count);
        Assert.All(balances, b => Assert.Equal((120m, 80L), (b.Balance, b.Version)));
        Assert.All(balances, b => Assert.Equal((b.Sum, b.Count), (b.Balance, b.Version)));
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM dead_letters"));
    }

    private static async Task<(int ExitCode, string Output)> RunVictimAsync(Dictionary<string, string?> settings)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            ? "Debug"
            : "Release";
        var directory = Path.Combine(TestEnvironment.RepoRoot, "Dmh.Settlement", "bin", configuration, "net10.0");
        var dll = Path.Combine(directory, "Dmh.Settlement.dll");
        Assert.True(File.Exists(dll), $"build Dmh.Settlement first: {dll} is missing");
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Urls"] = "http://127.0.0.1:0";
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }
}
