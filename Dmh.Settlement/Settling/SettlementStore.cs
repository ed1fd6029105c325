using System.Data;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Dmh.Contracts;
using Dmh.Platform.Rewards;
using Dmh.Platform.Streams;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Settlement.Settling;

/// <summary>What one settlement did.</summary>
public enum SettleOutcome
{
    /// <summary>The order was paid by this call: committed with its reward and outbox rows.</summary>
    Settled,

    /// <summary>The order was paid already (a repeated delivery or confirmation): nothing changed.</summary>
    Duplicate,
}

/// <summary>The result of one settlement; <see cref="Outbox"/> lists the sync rows to publish.</summary>
public sealed record SettleResult(SettleOutcome Outcome, long OrderId, long? RewardId, IReadOnlyList<SyncRequested> Outbox);

/// <summary>A payment that cannot be settled as it is (unknown attempt, wrong amount): retried, then dead-lettered.</summary>
public sealed class SettlementRejectedException(string message) : Exception(message);

/// <summary>
/// A confirmation for an attempt that never got prepay parameters, so nobody could have paid it: a
/// forged or corrupt entry (issue 15, M5). Dead-lettered at once, never settled.
/// </summary>
public sealed class AttemptNeverPrepaidException(string message) : Exception(message);

/// <summary>What became of one payment of a batch: its result, or the error that kept it from settling.</summary>
public sealed record PaymentOutcome(SettleResult? Result, Exception? Error)
{
    public static PaymentOutcome Of(SettleResult result) => new(result, null);

    public static PaymentOutcome Failed(Exception error) => new(null, error);
}

/// <summary>
/// Settles a batch of payments in one MySQL transaction of a few multi-row statements (issue 23):
/// orders and attempts marked paid (only those still unpaid), rewards of up to three levels (unique
/// per order and beneficiary) with their credit ledger rows, one aggregated delta per beneficiary on
/// its balance under the optimistic <c>version</c>, and the sync outbox rows. Entries that cannot be
/// settled (unknown attempt, wrong amount, never prepaid) are left out of the transaction and reported;
/// a transaction that fails as a whole is tried again in halves, down to single payments, so one
/// poison entry never holds back the rest. READ COMMITTED so that every read after a lock sees the
/// committed rows: under REPEATABLE READ a version read again would be the old snapshot.
/// </summary>
public sealed class SettlementStore(
    IOptions<SettlementOptions> options,
    TimeProvider time,
    ILogger<SettlementStore> logger)
{
    private const string CodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    private const int CodeLength = 10;
    private const int ErDupEntry = 1062;
    // InnoDB's answer when waiting for the table's AUTO-INC lock ended in a deadlock: rolled back like one.
    private const int ErAutoIncReadFailed = 1467;
    private readonly SettlementOptions _options = options.Value;

    /// <summary>
    /// Settles one payment; throws what kept it from settling (<see cref="SettlementRejectedException"/>,
    /// <see cref="AttemptNeverPrepaidException"/>, or the database's error, after which the caller
    /// discards the connection).
    /// </summary>
    public async Task<SettleResult> SettleAsync(MySqlConnection connection, PaymentSucceeded payment, CancellationToken ct)
    {
        var outcome = (await SettleBatchAsync(connection, [payment], ct))[0];
        if (outcome.Error is { } error)
        {
            ExceptionDispatchInfo.Throw(error);
        }

        return outcome.Result!;
    }

    /// <summary>
    /// Settles the payments on an open connection that the caller reuses for the next batch; one
    /// outcome per payment, in order. Never throws for a payment's fault: the outcome carries the
    /// error. After an outcome with a database error the caller discards the connection.
    /// </summary>
    public async Task<IReadOnlyList<PaymentOutcome>> SettleBatchAsync(MySqlConnection connection, IReadOnlyList<PaymentSucceeded> payments, CancellationToken ct)
    {
        var outcomes = new PaymentOutcome?[payments.Count];
        await SettlePartAsync(connection, payments, [.. Enumerable.Range(0, payments.Count)], outcomes, ct);
        return [.. outcomes.Select(o => o ?? throw new InvalidOperationException("A payment of the batch was left without an outcome."))];
    }

    /// <summary>
    /// One transaction for <paramref name="part"/>; if it fails as a whole (a constraint, a bad rule, a
    /// conflict that kept coming back), each half is tried on its own, down to single payments. Entries
    /// deferred by the transaction (a second attempt of an order it settled) follow in their own.
    /// </summary>
    private async Task SettlePartAsync(MySqlConnection connection, IReadOnlyList<PaymentSucceeded> payments, int[] part, PaymentOutcome?[] outcomes, CancellationToken ct)
    {
        int[] deferred;
        try
        {
            deferred = await SettleWithRetriesAsync(connection, payments, part, outcomes, ct);
        }
        catch (Exception ex) when (ex is MySqlException or InvalidOperationException or TimeoutException or IOException or JsonException or ArgumentException)
        {
            if (part.Length == 1 || DependencyUnavailableException.IsDatabaseUnreachable(ex) || connection.State != ConnectionState.Open)
            {
                foreach (var i in part)
                {
                    outcomes[i] = PaymentOutcome.Failed(ex);
                }

                return;
            }

            SettlementMetrics.Splits.Inc();
            logger.LogWarning("A batch of {Count} payments failed ({Error}); settling it in halves", part.Length, ex.Message);
            await SettlePartAsync(connection, payments, part[..(part.Length / 2)], outcomes, ct);
            await SettlePartAsync(connection, payments, part[(part.Length / 2)..], outcomes, ct);
            return;
        }

        if (deferred.Length > 0)
        {
            await SettlePartAsync(connection, payments, deferred, outcomes, ct);
        }
    }

    private async Task<int[]> SettleWithRetriesAsync(MySqlConnection connection, IReadOnlyList<PaymentSucceeded> payments, int[] part, PaymentOutcome?[] outcomes, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await SettleOnceAsync(connection, payments, part, outcomes, ct);
            }
            catch (MySqlException ex) when (IsTransient(ex) && attempt < _options.MaxTransactionRetries)
            {
                logger.LogInformation("Settlement of {Count} payments hit {Error}; retrying the transaction", part.Length, ex.ErrorCode);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 20) * (attempt + 1)), time, ct);
            }
        }
    }

    // A registration code drawn twice (50 random bits: rare) fails the whole statement; the retry draws new ones.
    private static bool IsTransient(MySqlException ex) =>
        ex.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout
        || ex.Number == ErAutoIncReadFailed
        || (ex.Number == ErDupEntry && ex.Message.Contains("registration_code", StringComparison.Ordinal));

    /// <summary>Any failure rolls back before it is rethrown, so the connection is never left inside a transaction.</summary>
    private async Task<int[]> SettleOnceAsync(MySqlConnection connection, IReadOnlyList<PaymentSucceeded> payments, int[] part, PaymentOutcome?[] outcomes, CancellationToken ct)
    {
        try
        {
            return await SettleInTransactionAsync(connection, payments, part, outcomes, ct);
        }
        catch
        {
            await RollbackAsync(connection);
            throw;
        }
    }

    private static async Task RollbackAsync(MySqlConnection connection)
    {
        try
        {
            await connection.ExecuteAsync("ROLLBACK");
        }
        catch (Exception ex) when (ex is MySqlException or InvalidOperationException or IOException)
        {
            // The connection is broken: the server rolls back as the session ends, and the caller replaces it.
        }
    }

    /// <summary>
    /// One transaction, begun and ended in SQL so that BEGIN travels with the first statement. Round
    /// trips, whatever the number of payments: lock and read the attempts and orders; read the
    /// campaigns, refunds, balance versions and existing rewards (plus, for rules with tiers or caps,
    /// lock the beneficiaries' balances and read their counts); write everything; COMMIT, sent only
    /// after the client has read that every row it expected was written in the still open transaction.
    /// Writes <paramref name="outcomes"/> only once committed; returns the entries deferred to a
    /// transaction of their own.
    /// </summary>
    private async Task<int[]> SettleInTransactionAsync(MySqlConnection connection, IReadOnlyList<PaymentSucceeded> payments, int[] part, PaymentOutcome?[] outcomes, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        SettlementMetrics.TransactionSize.Observe(part.Length);
        var tradeNos = part.Select(i => payments[i].OutTradeNo).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        // The orders stay locked from here to the commit: a refund's reversal (RewardLedger.ReverseOrderAsync) locks the order first too.
        var attempts = (await connection.QueryAsync<AttemptRow>(new CommandDefinition(BeginSql + LockAttemptsSql, new { TradeNos = tradeNos }, cancellationToken: ct)))
            .ToDictionary(a => a.OutTradeNo, StringComparer.OrdinalIgnoreCase);

        var done = new List<(int Index, PaymentOutcome Outcome)>();
        var deferred = new List<int>();
        var settling = new List<Settling>();
        var again = new List<Settling>();
        var copies = new List<(int Index, int Of)>();
        var firstOf = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var claimed = new HashSet<long>();
        foreach (var i in part)
        {
            var payment = payments[i];
            if (firstOf.TryGetValue(payment.OutTradeNo, out var first))
            {
                // The same confirmation twice in one batch: the second is whatever the first turns out to be.
                copies.Add((i, first));
                continue;
            }

            firstOf[payment.OutTradeNo] = i;
            if (!attempts.TryGetValue(payment.OutTradeNo, out var row))
            {
                done.Add((i, PaymentOutcome.Failed(new SettlementRejectedException($"No payment attempt (or order) for out_trade_no {payment.OutTradeNo}."))));
            }
            else if (row.AttemptStatus == PaymentStatus.Created)
            {
                done.Add((i, PaymentOutcome.Failed(new AttemptNeverPrepaidException(
                    $"Payment attempt {payment.OutTradeNo} (order {row.OrderId}) was never prepaid, so it cannot have been paid: not settled."))));
            }
            else if (row.AmountFen != payment.TotalFen)
            {
                done.Add((i, PaymentOutcome.Failed(new SettlementRejectedException(
                    $"Amount of {payment.OutTradeNo} disagrees: attempt {row.AmountFen} fen, confirmation {payment.TotalFen} fen."))));
            }
            else if (!claimed.Add(row.OrderId))
            {
                // Another attempt of an order this transaction settles: it is a repeated payment, seen after the commit.
                deferred.Add(i);
            }
            else
            {
                (row.PayStatus == PayStatus.Unpaid ? settling : again).Add(new Settling(i, payment, row));
            }
        }

        var context = await ReadContextAsync(connection, settling, now, ct);
        foreach (var s in settling.Where(s => s.Chain.Count > 0 && !context.Configs.ContainsKey(s.Row.CampaignId)).ToList())
        {
            settling.Remove(s);
            done.Add((s.Index, PaymentOutcome.Failed(new SettlementRejectedException($"Campaign {s.Row.CampaignId} of order {s.Row.OrderId} does not exist."))));
        }

        var credits = Credits(settling, context);
        var rewardIds = settling.Count > 0 || again.Any(s => s.Row.AttemptStatus != PaymentStatus.Succeeded)
            ? await WriteAsync(connection, settling, again, credits, context, now, ct)
            : [];

        // Refunds recorded before this settlement (the order row lock orders them, see
        // RewardLedger.ReverseOrderAsync): reversed in this transaction, so the COMMIT waits for that.
        foreach (var s in settling.Where(s => context.RefundedFen.ContainsKey(s.Row.OrderId)))
        {
            await RewardLedger.ReverseOrderAsync(connection, null, s.Row.OrderId, $"settle-{s.Row.OrderId}", null, now, ct);
        }

        await connection.ExecuteAsync(new CommandDefinition("COMMIT", cancellationToken: ct));

        foreach (var s in settling)
        {
            var ids = rewardIds.GetValueOrDefault(s.Row.OrderId) ?? [];
            done.Add((s.Index, PaymentOutcome.Of(new SettleResult(SettleOutcome.Settled, s.Row.OrderId, ids.Count > 0 ? ids[0] : null,
                [new SyncRequested(SyncEntities.Order, s.Row.OrderId), .. ids.Select(id => new SyncRequested(SyncEntities.Reward, id))]))));
        }

        foreach (var s in again)
        {
            if (s.Row.AttemptStatus != PaymentStatus.Succeeded && s.Row.TradeNo is not null && s.Row.TradeNo != s.Payment.TransactionId)
            {
                // Two attempts of one order were both paid: WeChat holds the money twice; an operator refunds one.
                SettlementMetrics.DoublePayments.Inc();
                logger.LogWarning("Order {OrderId} was paid again by {OutTradeNo} ({TransactionId}); it was already paid by {TradeNo}",
                    s.Row.OrderId, s.Payment.OutTradeNo, s.Payment.TransactionId, s.Row.TradeNo);
            }

            done.Add((s.Index, PaymentOutcome.Of(new SettleResult(SettleOutcome.Duplicate, s.Row.OrderId, null, []))));
        }

        foreach (var (index, outcome) in done)
        {
            outcomes[index] = outcome;
        }

        foreach (var (index, of) in copies)
        {
            outcomes[index] = outcomes[of] is { Result: { } result }
                ? PaymentOutcome.Of(new SettleResult(SettleOutcome.Duplicate, result.OrderId, null, []))
                : outcomes[of];
        }

        // A copy of an entry that was deferred follows it (its outcome is not known yet).
        deferred.AddRange(copies.Where(c => outcomes[c.Of] is null).Select(c => c.Index));
        return [.. deferred];
    }

    /// <summary>One payment this transaction settles (or records as repeated), with its locked attempt row and beneficiaries.</summary>
    private sealed record Settling(int Index, PaymentSucceeded Payment, AttemptRow Row)
    {
        public IReadOnlyList<long> Chain { get; } = RewardRuleEngine.Beneficiaries(Row.ParticipantId, Row.ReferrerId, Row.Referrer2Id, Row.Referrer3Id);
    }

    /// <summary>What the settling payments' rewards depend on, read after their orders are locked.</summary>
    private sealed record Context(
        Dictionary<long, RewardConfig> Configs,
        Dictionary<long, long> RefundedFen,
        Dictionary<long, long> Versions,
        HashSet<(long OrderId, long UserId)> Existing,
        Dictionary<(long UserId, long CampaignId), Tally> Tallies)
    {
        public static Context Empty() => new([], [], [], [], []);
    }

    private async Task<Context> ReadContextAsync(MySqlConnection connection, List<Settling> settling, DateTime now, CancellationToken ct)
    {
        if (settling.Count == 0)
        {
            return Context.Empty();
        }

        var orders = settling.Select(s => s.Row.OrderId).ToArray();
        var users = settling.SelectMany(s => s.Chain).Distinct().Order().ToArray();
        Context context;
        await using (var multi = await ResultSets.QueryAsync(connection, new CommandDefinition(ContextSql, new
        {
            Orders = orders,
            Campaigns = settling.Select(s => s.Row.CampaignId).Distinct().ToArray(),
            Users = users,
        }, cancellationToken: ct)))
        {
            var configs = (await multi.ReadAsync<CampaignRow>()).ToDictionary(c => c.Id,
                c => RewardConfig.FromStored(c.RewardConfig, c.HoldDays, c.RewardType, c.RewardRule, c.RewardBps));
            context = new Context(
                configs,
                (await multi.ReadAsync<(long OrderId, long RefundedFen)>()).ToDictionary(r => r.OrderId, r => r.RefundedFen),
                (await multi.ReadAsync<(long UserId, long Version)>()).ToDictionary(v => v.UserId, v => v.Version),
                [.. await multi.ReadAsync<(long OrderId, long UserId)>()],
                []);
        }

        var counted = settling.Where(s => s.Chain.Count > 0 && context.Configs.TryGetValue(s.Row.CampaignId, out var c) && c.NeedsStats).ToList();
        if (counted.Count == 0)
        {
            return context;
        }

        // Tiers and caps count what a beneficiary already has: every beneficiary's balance is locked
        // (in user order) before counting, so two transactions for one beneficiary count one after the other.
        var create = $"INSERT INTO user_balances (user_id) VALUES {string.Join(", ", users.Select((_, i) => $"(@B{i})"))} ON DUPLICATE KEY UPDATE user_id = user_id;\n";
        var args = new DynamicParameters(new
        {
            Users = users,
            Campaigns = counted.Select(s => s.Row.CampaignId).Distinct().ToArray(),
            DayStart = RewardRuleEngine.BeijingDayStartUtc(new DateTimeOffset(now, TimeSpan.Zero)),
        });
        for (var i = 0; i < users.Length; i++)
        {
            args.Add($"B{i}", users[i]);
        }

        await using var stats = await ResultSets.QueryAsync(connection, new CommandDefinition(create + StatsSql, args, cancellationToken: ct));
        foreach (var (userId, version) in await stats.ReadAsync<(long UserId, long Version)>())
        {
            context.Versions[userId] = version;
        }

        foreach (var s in await stats.ReadAsync<StatsRow>())
        {
            var key = (s.UserId, s.CampaignId);
            (context.Tallies.TryGetValue(key, out var tally) ? tally : context.Tallies[key] = new Tally()).Add(s.Level, s.Count, s.TotalFen, s.TodayFen);
        }

        return context;
    }

    /// <summary>A beneficiary's rewards in one campaign: what is recorded plus what this transaction adds, in order.</summary>
    private sealed class Tally
    {
        private readonly Dictionary<int, int> _byLevel = [];

        public int Count { get; private set; }

        public long TotalFen { get; private set; }

        public long TodayFen { get; private set; }

        public void Add(int level, long count, long totalFen, long todayFen)
        {
            _byLevel[level] = _byLevel.GetValueOrDefault(level) + (int)count;
            Count += (int)count;
            TotalFen += totalFen;
            TodayFen += todayFen;
        }

        public BeneficiaryStats Stats(int level) => new(_byLevel.GetValueOrDefault(level), Count, TotalFen, TodayFen);
    }

    /// <summary>One level's reward to write.</summary>
    private sealed record Credit(Settling Payment, long UserId, int Level, long AmountFen, RewardConfig Config)
    {
        public bool Available => Config.HoldDays == 0;
    }

    /// <summary>
    /// The rewards of the settling payments, in the batch's order: a tier or cap sees the rewards of
    /// the payments before it in this batch as if each had been settled on its own.
    /// </summary>
    private static List<Credit> Credits(List<Settling> settling, Context context)
    {
        var credits = new List<Credit>();
        foreach (var s in settling.Where(s => s.Chain.Count > 0))
        {
            var config = context.Configs[s.Row.CampaignId];
            for (var i = 0; i < s.Chain.Count && i < config.Levels.Count; i++)
            {
                var (userId, level) = (s.Chain[i], i + 1);
                if (context.Existing.Contains((s.Row.OrderId, userId)))
                {
                    // The order was unpaid yet already rewarded: only possible after a manual data repair; the existing reward stays.
                    continue;
                }

                Tally? tally = null;
                if (config.NeedsStats && !context.Tallies.TryGetValue((userId, s.Row.CampaignId), out tally))
                {
                    context.Tallies[(userId, s.Row.CampaignId)] = tally = new Tally();
                }

                var amount = RewardRuleEngine.AmountFen(config.Levels[i], config.Caps, s.Payment.TotalFen, tally?.Stats(level) ?? BeneficiaryStats.Empty);
                if (amount > 0)
                {
                    credits.Add(new Credit(s, userId, level, amount, config));
                    tally?.Add(level, 1, amount, amount);
                }
            }
        }

        return credits;
    }

    /// <summary>
    /// Every write of the transaction in two round trips, each ending with what it did; the second
    /// also says whether the transaction is still open. Multi-row statements take their rows from one
    /// JSON parameter (JSON_TABLE) where they update, and from a VALUES list where they insert: an
    /// INSERT ... SELECT takes InnoDB's table-wide AUTO-INC lock for the whole statement, which
    /// serialised concurrent settlements and deadlocked them ("Failed to read auto-increment value").
    /// The beneficiaries' balances are locked (in user order, so these transactions never deadlock on
    /// each other) before the version-checked update: a version that changed since it was read is then
    /// known exactly, and its balance is updated again under the version now locked. No COMMIT rides
    /// here: with a worker killed while it ran, such a COMMIT was seen to commit a reward without its
    /// balance credit, so only the client commits, once it has read the outcome.
    /// </summary>
    /// <returns>The new rewards' ids by order, in level order.</returns>
    private async Task<Dictionary<long, List<long>>> WriteAsync(
        MySqlConnection connection, List<Settling> settling, List<Settling> again, List<Credit> credits, Context context, DateTime now, CancellationToken ct)
    {
        var args = new DynamicParameters(new
        {
            Now = now,
            Paid = Json(settling.Select(s => new { id = s.Row.PaymentId, tx = s.Payment.TransactionId, payer = s.Payment.PayerTotalFen, st = Time(s.Payment.SuccessTime), ra = Time(s.Payment.ReceivedAt), code = NewRegistrationCode() })),
            Again = Json(again.Where(s => s.Row.AttemptStatus != PaymentStatus.Succeeded)
                .Select(s => new { id = s.Row.PaymentId, tx = s.Payment.TransactionId, payer = s.Payment.PayerTotalFen, st = Time(s.Payment.SuccessTime), ra = Time(s.Payment.ReceivedAt) })),
            NewRewards = Json(credits.Select(c => new { o = c.Payment.Row.OrderId, u = c.UserId })),
            // Each multi-row statement names its rows by key too: joined to JSON_TABLE alone, the
            // optimizer scanned (and locked, row by row) the whole table.
            PaymentIds = settling.Select(s => s.Row.PaymentId).ToArray(),
            AgainIds = again.Where(s => s.Row.AttemptStatus != PaymentStatus.Succeeded).Select(s => s.Row.PaymentId).ToArray(),
            RewardOrders = credits.Select(c => c.Payment.Row.OrderId).Distinct().ToArray(),
        });
        var sql = new System.Text.StringBuilder(ResetStateSql);
        if (settling.Count > 0)
        {
            sql.Append(MarkPaidSql);
        }

        sql.Append(RepeatedPaymentSql);
        if (credits.Count > 0)
        {
            sql.Append("INSERT INTO rewards (user_id, order_id, campaign_id, level, amount, amount_fen, status, settled_at, available_at, rule_snapshot, created_at) VALUES ");
            for (var i = 0; i < credits.Count; i++)
            {
                var c = credits[i];
                sql.Append(i == 0 ? "\n" : ",\n").Append(CultureInfo.InvariantCulture, $"(@U{i}, @O{i}, @C{i}, @L{i}, @Fen{i} / 100, @Fen{i}, @St{i}, @Now, @Av{i}, @Snap{i}, @Now)");
                args.Add($"U{i}", c.UserId);
                args.Add($"O{i}", c.Payment.Row.OrderId);
                args.Add($"C{i}", c.Payment.Row.CampaignId);
                args.Add($"L{i}", c.Level);
                args.Add($"Fen{i}", c.AmountFen);
                args.Add($"St{i}", c.Available ? RewardStatus.Available : RewardStatus.Frozen);
                args.Add($"Av{i}", now.AddDays(c.Config.HoldDays));
                args.Add($"Snap{i}", c.Config.SnapshotJson(c.Level));
            }

            sql.Append(";\nSET @dmh_rewards = ROW_COUNT();\n").Append(RewardIdsSql);
        }

        sql.Append(PaidStateSql);
        Dictionary<long, List<long>> rewardIds = [];
        var rewards = new List<(long Id, long OrderId, long UserId)>();
        (long Paid, long Rewards) written;
        await using (var multi = await ResultSets.QueryAsync(connection, new CommandDefinition(sql.ToString(), args, cancellationToken: ct)))
        {
            if (credits.Count > 0)
            {
                rewards = [.. await multi.ReadAsync<(long Id, long OrderId, long UserId)>()];
            }

            written = await multi.ReadSingleAsync<(long Paid, long Rewards)>();
        }

        // Both rows of each payment (its attempt and its order), all still unpaid under the lock taken at the start.
        if (written.Paid != 2L * settling.Count || written.Rewards != credits.Count || rewards.Count != credits.Count)
        {
            throw new InvalidOperationException(
                $"Settlement wrote {written.Paid} payment/order rows for {settling.Count} payments and {written.Rewards} rewards ({rewards.Count} found) for {credits.Count}.");
        }

        var rewardOf = rewards.ToDictionary(r => (r.OrderId, r.UserId), r => r.Id);
        rewardIds = credits.GroupBy(c => c.Payment.Row.OrderId)
            .ToDictionary(g => g.Key, g => g.OrderBy(c => c.Level).Select(c => rewardOf[(c.Payment.Row.OrderId, c.UserId)]).ToList());
        var deltas = credits.GroupBy(c => c.UserId).OrderBy(g => g.Key).Select(g => new Delta(
            g.Key, g.Where(c => !c.Available).Sum(c => c.AmountFen), g.Where(c => c.Available).Sum(c => c.AmountFen),
            g.Sum(c => c.AmountFen), g.Count(), context.Versions.GetValueOrDefault(g.Key))).ToList();

        var second = new System.Text.StringBuilder();
        var args2 = new DynamicParameters(new { Now = now, Users = deltas.Select(d => d.U).ToArray(), Deltas = Json(deltas) });
        if (credits.Count > 0)
        {
            second.Append("INSERT INTO reward_ledger (user_id, kind, frozen_delta_fen, available_delta_fen, earned_delta_fen, reward_id, order_id, business_key, actor, created_at) VALUES ");
            for (var i = 0; i < credits.Count; i++)
            {
                var c = credits[i];
                var id = rewardOf[(c.Payment.Row.OrderId, c.UserId)];
                second.Append(i == 0 ? "\n" : ",\n").Append(CultureInfo.InvariantCulture,
                    $"(@U{i}, 'credit', @F{i}, @A{i}, @Fen{i}, @R{i}, @O{i}, CONCAT('reward:', @R{i}, ':credit'), 'system', @Now)");
                args2.Add($"U{i}", c.UserId);
                args2.Add($"F{i}", c.Available ? 0 : c.AmountFen);
                args2.Add($"A{i}", c.Available ? c.AmountFen : 0);
                args2.Add($"Fen{i}", c.AmountFen);
                args2.Add($"R{i}", id);
                args2.Add($"O{i}", c.Payment.Row.OrderId);
            }

            second.Append(";\nSET @dmh_ledger = ROW_COUNT();\n");
            var created = deltas.Where(d => !context.Versions.ContainsKey(d.U)).Select(d => d.U).ToList();
            if (created.Count > 0)
            {
                // A missing balance row is created at version 0; if another transaction creates it first, the locked version says so.
                second.Append("INSERT INTO user_balances (user_id) VALUES ")
                    .AppendJoin(", ", created.Select((_, i) => $"(@N{i})"))
                    .Append(" ON DUPLICATE KEY UPDATE user_id = user_id;\n");
                for (var i = 0; i < created.Count; i++)
                {
                    args2.Add($"N{i}", created[i]);
                }
            }

            second.Append(LockBalancesSql).Append(BalancesSql);
        }

        if (settling.Count > 0)
        {
            var rows = settling.Select(s => (Entity: SyncEntities.Order, Id: s.Row.OrderId, OrderId: s.Row.OrderId))
                .Concat(rewards.Select(r => (Entity: SyncEntities.Reward, r.Id, r.OrderId))).ToList();
            // Recorded as published with the commit: PaymentSettlementHandler publishes right after it, and
            // an UPDATE per row afterwards (with its index and counter changes) cost more than the rest of
            // the outbox write. A publish that fails clears it again; a crash before the publish leaves the
            // stream entries unacknowledged, and their redelivery publishes the rows (see PublishAsync).
            second.Append("INSERT INTO sync_records (entity, entity_id, order_id, status, committed_at, published_at) VALUES ")
                .AppendJoin(", ", rows.Select((_, i) => $"(@E{i}, @I{i}, @Q{i}, 'pending', @Now, @Now)"))
                .Append(OutboxUpsert);
            for (var i = 0; i < rows.Count; i++)
            {
                args2.Add($"E{i}", rows[i].Entity);
                args2.Add($"I{i}", rows[i].Id);
                args2.Add($"Q{i}", rows[i].OrderId);
            }
        }

        second.Append(StateSql);
        WriteState state;
        List<(long UserId, long Version)> locked = [];
        await using (var multi = await ResultSets.QueryAsync(connection, new CommandDefinition(second.ToString(), args2, cancellationToken: ct)))
        {
            if (credits.Count > 0)
            {
                locked = [.. await multi.ReadAsync<(long UserId, long Version)>()];
            }

            state = await multi.ReadSingleAsync<WriteState>();
        }

        if (state.InTransaction != 1)
        {
            // Whatever ran after the transaction ended ran in autocommit: never go on to COMMIT as if it were one unit.
            throw new InvalidOperationException($"Settlement of {settling.Count} payments lost its transaction before COMMIT.");
        }

        var expected = deltas.ToDictionary(d => d.U, d => d.V);
        var conflicts = locked.Where(l => l.Version != expected[l.UserId]).ToList();
        if (state.Ledger != credits.Count || locked.Count != deltas.Count || state.Moved != deltas.Count - conflicts.Count)
        {
            throw new InvalidOperationException(
                $"Settlement wrote {state.Ledger} ledger rows for {credits.Count} rewards; balances: {locked.Count} of {deltas.Count} locked, {state.Moved} moved, {conflicts.Count} conflicts.");
        }

        if (conflicts.Count > 0)
        {
            // Another transaction changed these balances after they were read: they are locked now, so
            // the update under the version just read cannot miss again.
            SettlementMetrics.LockConflicts.Inc(conflicts.Count);
            var versions = conflicts.ToDictionary(c => c.UserId, c => c.Version);
            var retry = deltas.Where(d => versions.ContainsKey(d.U)).Select(d => d with { V = versions[d.U] }).ToList();
            var moved = await connection.ExecuteScalarAsync<long>(new CommandDefinition(BalancesSql + "SELECT @dmh_moved",
                new { Deltas = Json(retry), Users = retry.Select(d => d.U).ToArray() }, cancellationToken: ct));
            if (moved != retry.Count)
            {
                throw new InvalidOperationException($"Balances locked at their current version moved {moved} of {retry.Count}.");
            }
        }

        return rewardIds;
    }

    /// <summary>One beneficiary's change: frozen, available and earned fen, ledger rows, and the version it was read at.</summary>
    private sealed record Delta(long U, long F, long A, long E, long N, long V);

    private static string Json<T>(IEnumerable<T> rows) => JsonSerializer.Serialize(rows);

    private static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);

    private static string NewRegistrationCode() => RandomNumberGenerator.GetString(CodeAlphabet, CodeLength);

    // For this transaction only (see the class comment for why READ COMMITTED).
    private const string BeginSql = """
        SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
        START TRANSACTION;

        """;

    // Attempts and their orders, locked together in one statement (no shared lock to upgrade later).
    private const string LockAttemptsSql = """
        SELECT p.id AS PaymentId, p.out_trade_no AS OutTradeNo, p.order_id AS OrderId, p.amount_fen AS AmountFen, p.status AS AttemptStatus,
               o.pay_status AS PayStatus, o.trade_no AS TradeNo, o.campaign_id AS CampaignId, o.participant_id AS ParticipantId,
               o.referrer_id AS ReferrerId, o.referrer2_id AS Referrer2Id, o.referrer3_id AS Referrer3Id
        FROM payments p JOIN orders o ON o.id = p.order_id
        WHERE p.out_trade_no IN @TradeNos
        FOR UPDATE
        """;

    private const string ContextSql = """
        SELECT id AS Id, reward_type AS RewardType, reward_rule AS RewardRule, reward_bps AS RewardBps,
               CAST(reward_config AS CHAR) AS RewardConfig, hold_days AS HoldDays
        FROM campaigns WHERE id IN @Campaigns;
        SELECT order_id, CAST(SUM(amount_fen) AS SIGNED) FROM refunds WHERE order_id IN @Orders AND status = 'success' GROUP BY order_id HAVING SUM(amount_fen) > 0;
        SELECT user_id, version FROM user_balances WHERE user_id IN @Users;
        SELECT order_id, user_id FROM rewards WHERE order_id IN @Orders;
        """;

    private const string StatsSql = """
        SELECT user_id, version FROM user_balances WHERE user_id IN @Users ORDER BY user_id FOR UPDATE;
        SELECT user_id AS UserId, campaign_id AS CampaignId, level AS Level, COUNT(*) AS Count, CAST(COALESCE(SUM(amount_fen), 0) AS SIGNED) AS TotalFen,
               CAST(COALESCE(SUM(IF(settled_at >= @DayStart, amount_fen, 0)), 0) AS SIGNED) AS TodayFen
        FROM rewards WHERE campaign_id IN @Campaigns AND user_id IN @Users GROUP BY user_id, campaign_id, level;
        """;

    private sealed class StatsRow
    {
        public long UserId { get; init; }
        public long CampaignId { get; init; }
        public int Level { get; init; }
        public long Count { get; init; }
        public long TotalFen { get; init; }
        public long TodayFen { get; init; }
    }

    // The guard of the whole settlement: only a still unpaid order (locked since the start) is marked paid.
    private const string MarkPaidSql = """
        UPDATE payments p JOIN orders o ON o.id = p.order_id
        JOIN JSON_TABLE(@Paid, '$[*]' COLUMNS (id BIGINT PATH '$.id', tx VARCHAR(64) PATH '$.tx', payer BIGINT PATH '$.payer',
                                               st DATETIME(3) PATH '$.st', ra DATETIME(3) PATH '$.ra', code VARCHAR(16) PATH '$.code')) d ON d.id = p.id
        SET o.pay_status = 'paid', o.status = 'paid', o.trade_no = d.tx, o.paid_at = d.st,
            o.registration_code = d.code, o.sync_status = 'pending', o.updated_at = @Now,
            p.status = 'succeeded', p.transaction_id = d.tx, p.payer_total_fen = d.payer, p.success_time = d.st, p.received_at = d.ra
        WHERE p.id IN @PaymentIds AND o.pay_status = 'unpaid';
        SET @dmh_paid = ROW_COUNT();

        """;

    /// <summary>A repeated payment of an already paid order: its attempt is still recorded as succeeded.</summary>
    private const string RepeatedPaymentSql = """
        UPDATE payments p
        JOIN JSON_TABLE(@Again, '$[*]' COLUMNS (id BIGINT PATH '$.id', tx VARCHAR(64) PATH '$.tx', payer BIGINT PATH '$.payer',
                                                st DATETIME(3) PATH '$.st', ra DATETIME(3) PATH '$.ra')) d ON d.id = p.id
        SET p.status = 'succeeded', p.transaction_id = d.tx, p.payer_total_fen = d.payer, p.success_time = d.st, p.received_at = d.ra
        WHERE p.id IN @AgainIds AND p.status <> 'succeeded';

        """;

    // Each beneficiary's version as it is now, locked to the commit.
    private const string LockBalancesSql = """
        SELECT user_id, version FROM user_balances WHERE user_id IN @Users ORDER BY user_id FOR UPDATE;

        """;

    // One aggregated delta per beneficiary; version counts the ledger rows, so it moves by their number.
    private const string BalancesSql = """
        UPDATE user_balances b
        JOIN JSON_TABLE(@Deltas, '$[*]' COLUMNS (u BIGINT PATH '$.U', f BIGINT PATH '$.F', a BIGINT PATH '$.A', e BIGINT PATH '$.E',
                                                 n BIGINT PATH '$.N', v BIGINT PATH '$.V')) d ON d.u = b.user_id
        SET b.frozen_fen = b.frozen_fen + d.f, b.available_fen = b.available_fen + d.a, b.total_earned_fen = b.total_earned_fen + d.e,
            b.balance = b.balance + (d.f + d.a) / 100, b.total_reward = b.total_reward + d.e / 100, b.version = b.version + d.n
        WHERE b.user_id IN @Users AND b.version = d.v;
        SET @dmh_moved = ROW_COUNT();

        """;

    private const string OutboxUpsert = """

        ON DUPLICATE KEY UPDATE status = 'pending', committed_at = @Now, published_at = @Now, next_attempt_at = NULL;

        """;

    private const string PaidStateSql = """
        SELECT CAST(COALESCE(@dmh_paid, 0) AS SIGNED), CAST(COALESCE(@dmh_rewards, 0) AS SIGNED);

        """;

    private const string StateSql = """
        SELECT CAST(COALESCE(@dmh_ledger, 0) AS SIGNED) AS Ledger, CAST(COALESCE(@dmh_moved, 0) AS SIGNED) AS Moved,
               CAST(@@in_transaction AS SIGNED) AS InTransaction;

        """;

    // Session variables outlive a transaction: none of an earlier one's may be read as this one's.
    private const string ResetStateSql = """
        SET @dmh_paid = 0, @dmh_rewards = 0, @dmh_ledger = 0, @dmh_moved = 0;

        """;

    private const string RewardIdsSql = """
        SELECT r.id, r.order_id, r.user_id
        FROM JSON_TABLE(@NewRewards, '$[*]' COLUMNS (o BIGINT PATH '$.o', u BIGINT PATH '$.u')) j JOIN rewards r ON r.order_id = j.o AND r.user_id = j.u
        WHERE r.order_id IN @RewardOrders;

        """;

    private sealed record WriteState(long Ledger, long Moved, long InTransaction);

    private sealed record CampaignRow(long Id, string? RewardType, decimal RewardRule, int RewardBps, string? RewardConfig, int HoldDays);

    private sealed record AttemptRow(long PaymentId, string OutTradeNo, long OrderId, long AmountFen, string AttemptStatus, string PayStatus, string? TradeNo,
        long CampaignId, long ParticipantId, long ReferrerId, long Referrer2Id, long Referrer3Id);
}
