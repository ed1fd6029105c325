using System.Diagnostics;
using System.Globalization;
using Dapper;
using HdrHistogram;
using MySqlConnector;

namespace Dmh.Perf;

/// <summary>What a scenario adds after a rate: figures from the database and checks against targets.</summary>
/// <param name="Lines">Markdown lines for the report (and the console).</param>
/// <param name="Targets">Bounds checked, each PASS or FAIL.</param>
/// <param name="StepP99Us">The figure step mode bounds instead of the HTTP p99 (e.g. settlement p99).</param>
public sealed record RunCheck(IReadOnlyList<string> Lines, IReadOnlyList<TargetCheck> Targets, long? StepP99Us)
{
    public bool Passed => Targets.All(t => t.Pass);
}

public sealed record TargetCheck(string Target, string Measured, bool Pass)
{
    public static string Table(IEnumerable<TargetCheck> checks) =>
        "| target | measured | result |\n| --- | --- | --- |\n" +
        string.Concat(checks.Select(c => $"| {c.Target} | {c.Measured} | {(c.Pass ? "PASS" : "FAIL")} |\n"));
}

/// <summary>Settlement of a set of orders, from DMH's own timestamps.</summary>
/// <param name="Expected">Orders whose payment was notified.</param>
/// <param name="Paid">Of those, marked paid.</param>
/// <param name="Rewards">Reward rows for them (one each expected).</param>
/// <param name="Delay">payments.received_at (notify accepted) to rewards.settled_at (the settling transaction's clock), µs,
/// for the orders notified in the measured window: warm-up is discarded here as it is from the HTTP figures.</param>
/// <param name="DelayWithWarmup">The same over every order, warm-up included.</param>
/// <param name="BalancesWrong">Referrers whose balance is not the sum of their rewards, or whose version is not their count.</param>
/// <param name="LedgerWrong">Referrers whose balance buckets are not the sums of their reward_ledger rows, or whose version is not the count of those rows (issue 17).</param>
public sealed record SettlementFigures(long Expected, long Paid, long Rewards, LongHistogram Delay, LongHistogram DelayWithWarmup, long BalancesWrong, long LedgerWrong);

/// <summary>Sync of a set of orders and their rewards to the customer's database.</summary>
/// <param name="Rows">sync_records rows (order + reward per payment).</param>
/// <param name="Delay">committed_at (settlement commit) to synced_at (inserted at the target), µs, synced rows only, of the
/// orders notified in the measured window (as <see cref="SettlementFigures.Delay"/>).</param>
/// <param name="DelayWithWarmup">The same over every synced row, warm-up included.</param>
/// <param name="RowsPerSecond">Synced rows over the span from the first commit to the last sync.</param>
public sealed record SyncFigures(long Rows, long Synced, long Failed, LongHistogram Delay, LongHistogram DelayWithWarmup, double RowsPerSecond);

/// <summary>Waits for payments and sync rows to land, then reads their delays from the database.</summary>
public static class Landing
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    /// <param name="measuredFromOrderId">The first order notified after the warm-up (orders are notified in id order).</param>
    public static async Task<SettlementFigures> SettlementAsync(MySqlDataSource db, OrderRange orders, long measuredFromOrderId, TimeSpan timeout, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var paid = await WaitAsync(() => connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM orders WHERE campaign_id = @CampaignId AND id BETWEEN @MinId AND @MaxId AND pay_status = 'paid'", orders, cancellationToken: ct)),
            orders.Count, timeout, ct);
        var delays = (await connection.QueryAsync<(long OrderId, long Delay)>(new CommandDefinition("""
            SELECT o.id, TIMESTAMPDIFF(MICROSECOND, p.received_at, r.settled_at)
            FROM orders o JOIN payments p ON p.order_id = o.id AND p.status = 'succeeded' JOIN rewards r ON r.order_id = o.id
            WHERE o.campaign_id = @CampaignId AND o.id BETWEEN @MinId AND @MaxId
            """, orders, cancellationToken: ct))).ToList();
        var balancesWrong = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            SELECT COUNT(*) FROM user_balances b
            JOIN (SELECT user_id, SUM(amount) AS total, COUNT(*) AS n FROM rewards
                  WHERE user_id IN (SELECT DISTINCT referrer_id FROM orders WHERE campaign_id = @CampaignId AND id BETWEEN @MinId AND @MaxId)
                  GROUP BY user_id) r ON r.user_id = b.user_id
            WHERE b.balance <> r.total OR b.version <> r.n
            """, orders, cancellationToken: ct));
        var ledgerWrong = await connection.ExecuteScalarAsync<long>(new CommandDefinition(LedgerWrongSql, orders, cancellationToken: ct));
        return new SettlementFigures(orders.Count, paid, delays.Count,
            Histogram(delays.Where(d => d.OrderId >= measuredFromOrderId).Select(d => d.Delay)), Histogram(delays.Select(d => d.Delay)), balancesWrong, ledgerWrong);
    }

    /// <summary>The ledger invariant for the run's referrers: each bucket = the sum of its ledger rows, version = their count.</summary>
    public const string LedgerWrongSql = """
        SELECT COUNT(*) FROM user_balances b
        LEFT JOIN (SELECT user_id, SUM(frozen_delta_fen) AS f, SUM(available_delta_fen) AS a, SUM(withdrawing_delta_fen) AS w,
                          SUM(paid_out_delta_fen) AS p, SUM(earned_delta_fen) AS e, COUNT(*) AS n
                   FROM reward_ledger
                   WHERE user_id IN (SELECT DISTINCT referrer_id FROM orders WHERE campaign_id = @CampaignId AND id BETWEEN @MinId AND @MaxId)
                   GROUP BY user_id) l ON l.user_id = b.user_id
        WHERE b.user_id IN (SELECT DISTINCT referrer_id FROM orders WHERE campaign_id = @CampaignId AND id BETWEEN @MinId AND @MaxId)
          AND (b.frozen_fen <> COALESCE(l.f, 0) OR b.available_fen <> COALESCE(l.a, 0) OR b.withdrawing_fen <> COALESCE(l.w, 0)
               OR b.paid_out_fen <> COALESCE(l.p, 0) OR b.total_earned_fen <> COALESCE(l.e, 0) OR b.version <> COALESCE(l.n, 0))
        """;

    /// <param name="measuredFromOrderId">The first order notified after the warm-up (0: every order counts).</param>
    public static async Task<SyncFigures> SyncAsync(MySqlDataSource db, OrderRange orders, long measuredFromOrderId, long expectedRows, TimeSpan timeout, CancellationToken ct)
    {
        const string From = """
            FROM sync_records s JOIN orders o ON o.id = s.order_id
            WHERE o.campaign_id = @CampaignId AND o.id BETWEEN @MinId AND @MaxId
            """;
        await using var connection = await db.OpenConnectionAsync(ct);
        await WaitAsync(() => connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT COUNT(*) {From} AND s.status IN ('synced', 'failed')", orders, cancellationToken: ct)), expectedRows, timeout, ct);
        var counts = await connection.QuerySingleAsync<(long Rows, long Synced, long Failed)>(new CommandDefinition(
            $"SELECT COUNT(*), COALESCE(SUM(s.status = 'synced'), 0), COALESCE(SUM(s.status = 'failed'), 0) {From}", orders, cancellationToken: ct));
        var delays = (await connection.QueryAsync<(long OrderId, long Delay)>(new CommandDefinition(
            $"SELECT s.order_id, TIMESTAMPDIFF(MICROSECOND, s.committed_at, s.synced_at) {From} AND s.status = 'synced'", orders, cancellationToken: ct))).ToList();
        var spanUs = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            $"SELECT TIMESTAMPDIFF(MICROSECOND, MIN(s.committed_at), MAX(s.synced_at)) {From} AND s.status = 'synced'", orders, cancellationToken: ct)) ?? 0;
        return new SyncFigures(counts.Rows, counts.Synced, counts.Failed,
            Histogram(delays.Where(d => d.OrderId >= measuredFromOrderId).Select(d => d.Delay)), Histogram(delays.Select(d => d.Delay)),
            spanUs > 0 ? counts.Synced / (spanUs / 1e6) : 0);
    }

    public static IEnumerable<string> Describe(SettlementFigures s) =>
    [
        string.Create(CultureInfo.InvariantCulture, $"Settlement (notify accepted → reward written, from payments.received_at and rewards.settled_at): {s.Paid} of {s.Expected} orders paid, {s.Rewards} rewards, p50 {Report.FormatMicros(P(s.Delay, 50))}, p95 {Report.FormatMicros(P(s.Delay, 95))}, p99 {Report.FormatMicros(P(s.Delay, 99))}, max {Report.FormatMicros(s.Delay.TotalCount == 0 ? 0 : s.Delay.GetMaxValue())}{WarmupNote(s)}; referrers whose balance ≠ sum of rewards or version ≠ count: {s.BalancesWrong}; whose balance ≠ sum of ledger rows or version ≠ their count: {s.LedgerWrong}."),
    ];

    private static string WarmupNote(SettlementFigures s) => s.DelayWithWarmup.TotalCount == s.Delay.TotalCount
        ? ""
        : string.Create(CultureInfo.InvariantCulture,
            $" ({s.Delay.TotalCount} notified after the warm-up; with the warm-up's {s.DelayWithWarmup.TotalCount - s.Delay.TotalCount} too: p99 {Report.FormatMicros(P(s.DelayWithWarmup, 99))})");

    public static IEnumerable<string> Describe(SyncFigures s) =>
    [
        string.Create(CultureInfo.InvariantCulture, $"Sync (settlement commit → row inserted at the customer's database, from sync_records): {s.Synced} of {s.Rows} rows synced, {s.Failed} failed, {s.RowsPerSecond:0} rows/s, delay p50 {Report.FormatMicros(P(s.Delay, 50))}, p95 {Report.FormatMicros(P(s.Delay, 95))}, p99 {Report.FormatMicros(P(s.Delay, 99))}, max {Report.FormatMicros(s.Delay.TotalCount == 0 ? 0 : s.Delay.GetMaxValue())}{WarmupNote(s)}."),
    ];

    private static string WarmupNote(SyncFigures s) => s.DelayWithWarmup.TotalCount == s.Delay.TotalCount
        ? ""
        : string.Create(CultureInfo.InvariantCulture,
            $" ({s.Delay.TotalCount} rows of orders notified after the warm-up; with the warm-up's {s.DelayWithWarmup.TotalCount - s.Delay.TotalCount} too: p99 {Report.FormatMicros(P(s.DelayWithWarmup, 99))})");

    /// <summary>A backlog drained: payments per second, and the CPU each payment cost by process (where a second instance's gain has to come from).</summary>
    public static string DescribeDrain(long payments, double seconds, ProcessCpu cpu, int instances)
    {
        string PerPayment(TimeSpan t) => (t.TotalMilliseconds / payments).ToString("0.000", CultureInfo.InvariantCulture);
        var settlement = cpu.ByProcess.Where(p => p.Key.StartsWith("settlement", StringComparison.Ordinal)).Aggregate(TimeSpan.Zero, (a, p) => a + p.Value);
        var database = cpu.ByProcess.GetValueOrDefault("mariadb-dmh");
        var busy = cpu.MachineTotal > TimeSpan.Zero ? cpu.MachineBusy / cpu.MachineTotal : 0;
        return string.Create(CultureInfo.InvariantCulture,
            $"Backlog drained by {instances} Settlement process(es): {payments} payments in {seconds:0.000} s = **{payments / seconds:0} payments/s**; " +
            $"CPU per payment while draining (ms): Settlement {PerPayment(settlement)}, MariaDB {PerPayment(database)}, every process {PerPayment(cpu.MachineBusy)} (machine busy {busy:0 %}).");
    }

    /// <summary>The proposal's settlement target and the exactly-once checks.</summary>
    public static IEnumerable<TargetCheck> Targets(SettlementFigures s) =>
    [
        new("reward settled < 2 s after the notify (p99)", Report.FormatMicros(P(s.Delay, 99)), s.Delay.TotalCount > 0 && P(s.Delay, 99) < 2_000_000),
        new("every payment settled exactly once", $"{s.Paid}/{s.Expected} paid, {s.Rewards} rewards", s.Paid == s.Expected && s.Rewards == s.Expected),
        new("balance = sum of rewards, version = count", $"{s.BalancesWrong} referrers off", s.BalancesWrong == 0),
        new("balance = sum(ledger), version = count of ledger rows", $"{s.LedgerWrong} referrers off", s.LedgerWrong == 0),
    ];

    /// <summary>The proposal's sync targets: delay under a minute, success above 95 %.</summary>
    public static IEnumerable<TargetCheck> Targets(SyncFigures s, long expectedRows)
    {
        var success = expectedRows == 0 ? 0 : (double)s.Synced / expectedRows;
        return
        [
            new("synced < 1 min after settlement (p99)", Report.FormatMicros(P(s.Delay, 99)), s.Delay.TotalCount > 0 && P(s.Delay, 99) < 60_000_000),
            new("sync success > 95 %", $"{Report.FormatPercent(success)} ({s.Synced}/{expectedRows})", success > 0.95),
        ];
    }

    public static long P(LongHistogram h, double percentile) => h.TotalCount == 0 ? 0 : h.GetValueAtPercentile(percentile);

    public static LongHistogram Histogram(IEnumerable<long> micros)
    {
        var h = OpenModelRunner.NewHistogram();
        foreach (var us in micros)
        {
            h.RecordValue(Math.Clamp(us, 1, h.HighestTrackableValue));
        }

        return h;
    }

    /// <summary>Polls <paramref name="count"/> until it reaches <paramref name="expected"/> or the timeout passes; returns the last count.</summary>
    private static async Task<long> WaitAsync(Func<Task<long>> count, long expected, TimeSpan timeout, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        long current;
        while ((current = await count()) < expected && Stopwatch.GetElapsedTime(started) < timeout)
        {
            await Task.Delay(Poll, ct);
        }

        return current;
    }
}

/// <summary>The orders of one rate: one campaign, an id range, how many of them were paid.</summary>
public sealed record OrderRange(long CampaignId, long MinId, long MaxId, long Count)
{
    public static OrderRange Of(long campaignId, IReadOnlyCollection<long> orderIds) =>
        new(campaignId, orderIds.Count == 0 ? 0 : orderIds.Min(), orderIds.Count == 0 ? -1 : orderIds.Max(), orderIds.Count);
}
