using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dmh.Perf;

namespace Dmh.Chaos;

/// <summary>One scenario's figures (the report's row) and what broke.</summary>
public sealed record ScenarioResult(
    string Name,
    long Journeys,
    long Acknowledged,
    long Answered2xx,
    long Refunds,
    long Withdrawals,
    long WithdrawalsPaid,
    int Faults,
    long Settled,
    long Lost,
    long Duplicated,
    long MaxBacklog,
    TimeSpan? Recovery,
    IReadOnlyList<Violation> Violations,
    string? Error)
{
    public bool Passed => Error is null && Violations.Count == 0 && Recovery is not null;
}

/// <summary>
/// Runs one scenario: its journeys at a fixed rate through perf's open-model runner while it injects
/// its faults, then clears them, times the drain of the backlog and checks the <see cref="Invariants"/>.
/// </summary>
public sealed class ChaosRunner(PerfSystem system, HttpClient client, Invariants invariants, ServiceControl services, StackExchange.Redis.IDatabase redis, string keyPrefix, ChaosSettings settings, Uri simulator)
{
    private const int ReferrerCount = 50;
    private const long PriceFen = 9900;
    private const long RewardFen = 1000;

    public async Task<ScenarioResult> RunAsync(ChaosScenario scenario, CancellationToken ct)
    {
        var journeys = scenario.Soak ? settings.SoakJourneys : settings.Journeys;
        var startedUtc = DateTime.UtcNow.AddSeconds(-1);
        // Rewards available at once (hold 0 days), so that the referrers can withdraw them during the journeys.
        var campaign = await system.CreateCampaignAsync("chaos " + scenario.Name, PriceFen, RewardFen, ct, holdDays: 0);
        var referrers = await system.CreateReferrersAsync(new PhoneBlock(), ReferrerCount, ct);
        var load = new JourneyLoad(system, campaign, referrers, scenario.Plan(settings), settings.JourneyDeadline, new RefundPlan(settings.RefundEvery, system.Admin, simulator));
        var loadTime = TimeSpan.FromSeconds(journeys / settings.Rate);
        var withdrawals = new WithdrawalLoad(system, client, simulator, referrers, settings.WithdrawEvery, loadTime, settings.JourneyDeadline);
        await withdrawals.BindOpenidsAsync(ct);
        var scope = () => new CheckScope(campaign.Id, RewardFen / 100m, load.Acknowledged, startedUtc, scenario.TrimsSync)
        {
            Refunds = load.Refunds,
            Withdrawals = withdrawals.Requested,
        };
        var loadDone = new TaskCompletionSource();
        var context = new ChaosContext(services, redis, keyPrefix, settings, loadDone.Task, ct) { Load = load };
        ChaosContext.Log($"{scenario.Name}: {journeys} journeys at {settings.Rate}/s, campaign {campaign.Id}");

        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(ct);
        long maxBacklog = 0;
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                try
                {
                    var backlog = await invariants.BacklogAsync(scope(), sampling.Token);
                    maxBacklog = Math.Max(maxBacklog, backlog.Total);
                }
                catch (Exception) when (!sampling.IsCancellationRequested)
                {
                    // The server being sampled may be the one this scenario killed.
                }

                await Task.Delay(500, sampling.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }, CancellationToken.None);

        int faults;
        RunResult run;
        try
        {
            if (scenario.SetUp is not null)
            {
                await scenario.SetUp(context);
            }

            var runner = new OpenModelRunner(client, load, system.BaseUrl);
            var loading = runner.RunAsync(settings.Rate, TimeSpan.Zero, loadTime, int.MaxValue, ct);
            _ = loading.ContinueWith(_ => loadDone.TrySetResult(), TaskScheduler.Default);
            var withdrawing = withdrawals.RunAsync(loadDone.Task, ct);
            var injecting = scenario.Inject(context);
            run = await loading;
            faults = await injecting;
            await load.WaitForLateDeliveriesAsync();
            await withdrawing;
            if (scenario.TearDown is not null)
            {
                await scenario.TearDown(context);
            }
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            await sampling.CancelAsync();
            await sampler;
            return new ScenarioResult(scenario.Name, journeys, load.Acknowledged.Count, load.Answered2xx, load.Refunds.Count, withdrawals.Requested.Count, 0, 0, 0, 0, 0,
                maxBacklog, null, [], ex.ToString());
        }

        // The fault is cleared: from here the backlog must drain.
        var cleared = Stopwatch.StartNew();
        TimeSpan? recovery = null;
        while (cleared.Elapsed < settings.RecoveryTimeout)
        {
            try
            {
                if ((await invariants.BacklogAsync(scope(), ct)).Total == 0)
                {
                    recovery = cleared.Elapsed;
                    break;
                }
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
            }

            await Task.Delay(250, ct);
        }

        await sampling.CancelAsync();
        await sampler;
        var violations = await invariants.CheckAsync(scope() with
        {
            WechatRefunds = await load.RefundsAtWechatAsync(client, ct),
            WechatTransfers = await withdrawals.TransfersAtWechatAsync(ct),
        }, ct);
        var paidOut = withdrawals.Outcomes.Count(o => o.Value == "paid");
        var settled = (await invariants.BacklogAsync(scope(), ct)) is var b ? load.Acknowledged.Count - b.Unsettled : 0;
        var lost = violations.Where(v => v.Invariant.Contains("lost", StringComparison.Ordinal) && v.Invariant.StartsWith("notify", StringComparison.Ordinal)).Sum(v => (long)v.Count);
        var duplicated = violations.Where(v => v.Invariant.Contains("duplicated", StringComparison.Ordinal) || v.FirstIds.Any(id => id.Contains('×', StringComparison.Ordinal) && !id.EndsWith("×0", StringComparison.Ordinal))).Sum(v => (long)v.Count);
        ChaosContext.Log($"{scenario.Name}: {run.Completed - run.Errors} of {journeys} journeys acknowledged, {faults} faults, "
            + $"withdrawals {string.Join(", ", withdrawals.Outcomes.GroupBy(o => o.Value).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}"))}, "
            + $"recovery {(recovery is { } r ? FormatSeconds(r) : "not within " + FormatSeconds(settings.RecoveryTimeout))}");
        return new ScenarioResult(scenario.Name, journeys, load.Acknowledged.Count, load.Answered2xx, load.Refunds.Count, withdrawals.Requested.Count, paidOut,
            faults, settled, lost, duplicated, maxBacklog, recovery, violations, null);
    }

    /// <summary>Restarts whatever an earlier scenario left dead, so each starts from the whole system.</summary>
    public async Task HealAsync(CancellationToken ct)
    {
        if (!services.IsAlive("redis") || !services.IsAlive("mariadb-dmh") || !services.IsAlive("mariadb-target"))
        {
            await services.StartServersAsync(ct);
        }

        foreach (var service in ServiceControl.Services)
        {
            if (!services.IsAlive(service))
            {
                ChaosContext.Log($"{service} was down: starting it again");
                await services.StartServiceAsync(services.Spec(service), ct);
            }
        }
    }

    public static string FormatSeconds(TimeSpan t) => t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";

    public static string Table(IEnumerable<ScenarioResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| scenario | journeys | notified (2xx) | notifies answered 2xx | refunds | withdrawals (paid) | faults | settled | lost | duplicated | max backlog | recovery | result |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var r in results)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {r.Name} | {r.Journeys} | {r.Acknowledged} | {r.Answered2xx} | {r.Refunds} | {r.Withdrawals} ({r.WithdrawalsPaid}) | {r.Faults} | {r.Settled} | {r.Lost} | {r.Duplicated} | {r.MaxBacklog} | {(r.Recovery is { } t ? FormatSeconds(t) : "—")} | {(r.Passed ? "PASS" : "FAIL")} |");
        }

        return text.ToString();
    }
}
