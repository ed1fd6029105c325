using System.Globalization;
using Dapper;
using Dmh.Contracts;
using MySqlConnector;
using StackExchange.Redis;

namespace Dmh.Chaos;

/// <summary>What one scenario's checks look at: its campaign, its referrers and what WeChat was told (2xx).</summary>
/// <param name="TrimsSync">The scenario trims the sync stream under its consumers: the dead letters of entries deleted
/// before they were acknowledged are expected (the outbox sweeper re-publishes those rows, which the sync checks verify).</param>
public sealed record CheckScope(long CampaignId, decimal RewardYuan, IReadOnlyCollection<long> Acknowledged, DateTime StartedUtc, bool TrimsSync = false)
{
    /// <summary>Refunds the admin API answered 200 for (out_refund_no → order id).</summary>
    public IReadOnlyDictionary<string, long> Refunds { get; init; } = new Dictionary<string, long>();

    /// <summary>WeChat's (the simulator's) record of the refunded orders' refunds, read after the drain.</summary>
    public IReadOnlyDictionary<string, (long OrderId, string Status)> WechatRefunds { get; init; } = new Dictionary<string, (long, string)>();

    /// <summary>Withdrawals the H5 API answered 201 for (id → participant id).</summary>
    public IReadOnlyDictionary<long, long> Withdrawals { get; init; } = new Dictionary<long, long>();

    /// <summary>WeChat's (the simulator's) record of the referrers' transfer bills: out_bill_no → state, read after the drain.</summary>
    public IReadOnlyDictionary<string, string> WechatTransfers { get; init; } = new Dictionary<string, string>();

    /// <summary>Stream entry ids start with the Unix milliseconds of their XADD.</summary>
    public long StartedMs => new DateTimeOffset(StartedUtc, TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>The queries' parameters (Dapper would try to bind every property, collections included, to SQL with a ':' in it).</summary>
    public object Parameters => new { CampaignId, RewardYuan, StartedMs, TrimsSync };
}

/// <summary>One broken promise: how many ids break it and the first of them.</summary>
public sealed record Violation(string Invariant, int Count, IReadOnlyList<string> FirstIds)
{
    public override string ToString() => $"{Invariant}: {Count} (first: {string.Join(", ", FirstIds)})";
}

/// <summary>
/// The pipeline's promises, checked from DMH's MariaDB, Redis and the customer's database after a
/// scenario has drained. Each invariant is one query that returns the ids breaking it; add a promise
/// by adding one line to <see cref="Dmh"/> (DMH's database), <see cref="Customer"/> or <see cref="Streams"/>.
/// </summary>
public sealed class Invariants(MySqlDataSource dmh, MySqlDataSource customer, IDatabase redis, string keyPrefix)
{
    private const int Shown = 10;

    /// <summary>Queries on DMH's database; parameters are <see cref="CheckScope"/>'s (@CampaignId, @RewardYuan, @StartedMs, @TrimsSync).</summary>
    private static readonly (string Name, string Sql)[] Dmh =
    [
        ("paid order without exactly one succeeded payment (duplicated or lost)", """
            SELECT o.id FROM orders o LEFT JOIN payments p ON p.order_id = o.id AND p.status = 'succeeded'
            WHERE o.campaign_id = @CampaignId AND o.pay_status IN ('paid', 'refunded') GROUP BY o.id HAVING COUNT(p.id) <> 1
            """),
        ("paid order without exactly one reward of the campaign's amount (duplicated or lost)", """
            SELECT o.id FROM orders o LEFT JOIN rewards r ON r.order_id = o.id
            WHERE o.campaign_id = @CampaignId AND o.pay_status IN ('paid', 'refunded')
            GROUP BY o.id HAVING COUNT(r.id) <> 1 OR SUM(r.amount) <> @RewardYuan
            """),
        ("reward for an order that is not paid", """
            SELECT r.id FROM rewards r JOIN orders o ON o.id = r.order_id WHERE o.campaign_id = @CampaignId AND o.pay_status NOT IN ('paid', 'refunded')
            """),
        ("referrer whose balance is not the sum of their rewards less what refunds reversed and what they withdrew", """
            SELECT b.user_id FROM user_balances b
            JOIN (SELECT user_id, SUM(amount_fen - reversed_fen) AS kept FROM rewards GROUP BY user_id) r ON r.user_id = b.user_id
            WHERE b.user_id IN (SELECT DISTINCT referrer_id FROM orders WHERE campaign_id = @CampaignId)
              AND (b.total_reward * 100 <> r.kept OR b.total_earned_fen <> r.kept
                   OR b.frozen_fen + b.available_fen + b.withdrawing_fen + b.paid_out_fen <> r.kept OR b.balance * 100 <> b.frozen_fen + b.available_fen)
            """),
        ("referrer whose withdrawing or paid-out money is not their open or paid withdrawals (paid twice, or a hold lost)", """
            SELECT b.user_id FROM user_balances b
            LEFT JOIN (SELECT user_id, SUM(IF(status IN ('pending', 'approved', 'transferring'), amount_fen, 0)) AS open_fen,
                              SUM(IF(status = 'paid', amount_fen, 0)) AS paid_fen
                       FROM withdrawals GROUP BY user_id) w ON w.user_id = b.user_id
            WHERE b.user_id IN (SELECT DISTINCT referrer_id FROM orders WHERE campaign_id = @CampaignId)
              AND (b.withdrawing_fen <> COALESCE(w.open_fen, 0) OR b.paid_out_fen <> COALESCE(w.paid_fen, 0))
            """),
        // The business keys are WithdrawalLedger's: withdrawal:{id}:hold, then :release (rejected, failed) or :payout (paid).
        ("withdrawal not final, or not its hold and then exactly its release or payout in the ledger", """
            SELECT w.id FROM withdrawals w
            LEFT JOIN reward_ledger h ON h.business_key = CONCAT('withdrawal:', w.id, ':hold')
            LEFT JOIN reward_ledger r ON r.business_key = CONCAT('withdrawal:', w.id, ':release')
            LEFT JOIN reward_ledger p ON p.business_key = CONCAT('withdrawal:', w.id, ':payout')
            WHERE w.user_id IN (SELECT DISTINCT referrer_id FROM orders WHERE campaign_id = @CampaignId)
              AND NOT COALESCE(h.id IS NOT NULL AND h.kind = 'withdraw_hold' AND h.user_id = w.user_id
                       AND h.available_delta_fen = -w.amount_fen AND h.withdrawing_delta_fen = w.amount_fen
                       AND CASE WHEN w.status = 'paid' THEN r.id IS NULL AND p.id IS NOT NULL AND p.id > h.id AND p.kind = 'payout' AND p.user_id = w.user_id
                                     AND p.withdrawing_delta_fen = -w.amount_fen AND p.paid_out_delta_fen = w.amount_fen
                                WHEN w.status IN ('rejected', 'failed') THEN p.id IS NULL AND r.id IS NOT NULL AND r.id > h.id AND r.kind = 'withdraw_release'
                                     AND r.user_id = w.user_id AND r.available_delta_fen = w.amount_fen AND r.withdrawing_delta_fen = -w.amount_fen
                                ELSE FALSE END, FALSE)
            """),
        ("referrer whose balance is not the sum of their ledger rows (or version not their count)", """
            SELECT b.user_id FROM user_balances b
            LEFT JOIN (SELECT user_id, SUM(frozen_delta_fen) AS f, SUM(available_delta_fen) AS a, SUM(withdrawing_delta_fen) AS w,
                              SUM(paid_out_delta_fen) AS p, SUM(earned_delta_fen) AS e, COUNT(*) AS n
                       FROM reward_ledger GROUP BY user_id) l ON l.user_id = b.user_id
            WHERE b.user_id IN (SELECT DISTINCT referrer_id FROM orders WHERE campaign_id = @CampaignId)
              AND (b.frozen_fen <> COALESCE(l.f, 0) OR b.available_fen <> COALESCE(l.a, 0) OR b.withdrawing_fen <> COALESCE(l.w, 0)
                   OR b.paid_out_fen <> COALESCE(l.p, 0) OR b.total_earned_fen <> COALESCE(l.e, 0) OR b.version <> COALESCE(l.n, 0))
            """),
        ("refund not recorded as succeeded (WeChat's notify lost or not applied)", """
            SELECT f.out_refund_no FROM refunds f JOIN orders o ON o.id = f.order_id WHERE o.campaign_id = @CampaignId AND f.status <> 'success'
            """),
        ("reward not reversed exactly in proportion to its order's refunds (reversed twice, or not at all)", """
            SELECT r.id FROM rewards r JOIN orders o ON o.id = r.order_id
            LEFT JOIN (SELECT order_id, SUM(amount_fen) AS s FROM refunds WHERE status = 'success' GROUP BY order_id) f ON f.order_id = o.id
            LEFT JOIN (SELECT reward_id, -SUM(earned_delta_fen) AS v, -SUM(frozen_delta_fen + available_delta_fen) AS b
                       FROM reward_ledger WHERE kind = 'reversal' GROUP BY reward_id) l ON l.reward_id = r.id
            WHERE o.campaign_id = @CampaignId
              AND (r.reversed_fen <> CASE WHEN COALESCE(f.s, 0) >= ROUND(o.amount * 100) THEN r.amount_fen
                                          ELSE r.amount_fen * COALESCE(f.s, 0) DIV ROUND(o.amount * 100) END
                   OR COALESCE(l.v, 0) <> r.reversed_fen OR COALESCE(l.b, 0) <> r.reversed_fen)
            """),
        ("order whose pay status does not match its refunds (refunded iff its refunds cover the price)", """
            SELECT o.id FROM orders o
            LEFT JOIN (SELECT order_id, SUM(amount_fen) AS s FROM refunds WHERE status = 'success' GROUP BY order_id) f ON f.order_id = o.id
            WHERE o.campaign_id = @CampaignId AND o.pay_status IN ('paid', 'refunded')
              AND (COALESCE(f.s, 0) >= ROUND(o.amount * 100)) <> (o.pay_status = 'refunded')
            """),
        ("order, reward or reversal not synced (sync_records not 'synced')", """
            SELECT CONCAT(s.entity, ':', s.entity_id) FROM sync_records s JOIN orders o ON o.id = s.order_id
            WHERE o.campaign_id = @CampaignId AND s.status <> 'synced'
            """),
        ("paid order without its two sync records (order and reward)", """
            SELECT o.id FROM orders o LEFT JOIN sync_records s ON s.order_id = o.id AND s.entity IN ('order', 'reward')
            WHERE o.campaign_id = @CampaignId AND o.pay_status IN ('paid', 'refunded') GROUP BY o.id HAVING COUNT(s.id) <> 2
            """),
        ("reversal without its sync record", """
            SELECT l.id FROM reward_ledger l JOIN orders o ON o.id = l.order_id
            LEFT JOIN sync_records s ON s.entity = 'reversal' AND s.entity_id = l.id
            WHERE o.campaign_id = @CampaignId AND l.kind = 'reversal' AND s.id IS NULL
            """),
        ("dead letter of an entry published during the scenario", """
            SELECT CONCAT(stream, ' ', entry_id, ' ', COALESCE(message_key, '')) FROM dead_letters
            WHERE CAST(SUBSTRING_INDEX(entry_id, '-', 1) AS UNSIGNED) >= @StartedMs AND NOT (@TrimsSync AND stream LIKE '%dmh:sync' AND error LIKE 'Deleted from the stream%')
            """),
    ];

    /// <summary>Queries on the customer's database; parameter @Ids (DMH order or reward ids), compared with what DMH paid.</summary>
    private static readonly (string Name, string Entity, string Sql)[] Customer =
    [
        ("paid order not in the customer's database exactly once", "order",
            "SELECT dmh_order_id, COUNT(*) FROM dmh_orders WHERE dmh_order_id BETWEEN @Min AND @Max GROUP BY dmh_order_id"),
        ("reward not in the customer's database exactly once", "reward",
            "SELECT dmh_reward_id, COUNT(*) FROM dmh_rewards WHERE dmh_reward_id BETWEEN @Min AND @Max GROUP BY dmh_reward_id"),
        ("reversal not in the customer's database exactly once", "reversal",
            "SELECT dmh_reversal_id, COUNT(*) FROM dmh_reward_reversals WHERE dmh_reversal_id BETWEEN @Min AND @Max GROUP BY dmh_reversal_id"),
    ];

    /// <summary>Stream groups whose pending entries must return to zero.</summary>
    private static readonly (string Stream, string Group)[] Streams =
    [
        (StreamNames.Payments, GroupNames.Settlement),
        (StreamNames.Sync, GroupNames.Syncer),
    ];

    /// <summary>Whether the backlog has drained: every acknowledged order paid and synced, nothing pending in the streams.</summary>
    public async Task<Backlog> BacklogAsync(CheckScope scope, CancellationToken ct)
    {
        await using var connection = await dmh.OpenConnectionAsync(ct);
        var (paid, unsynced, refunding, withdrawing) = await connection.QuerySingleAsync<(long, long, long, long)>(new CommandDefinition("""
            SELECT (SELECT COUNT(*) FROM orders WHERE campaign_id = @CampaignId AND pay_status IN ('paid', 'refunded')),
                   (SELECT COUNT(*) FROM sync_records s JOIN orders o ON o.id = s.order_id WHERE o.campaign_id = @CampaignId AND s.status <> 'synced'),
                   (SELECT COUNT(*) FROM refunds f JOIN orders o ON o.id = f.order_id WHERE o.campaign_id = @CampaignId AND f.status NOT IN ('success', 'closed', 'abnormal')),
                   (SELECT COUNT(*) FROM withdrawals WHERE status IN ('pending', 'approved', 'transferring')
                      AND user_id IN (SELECT DISTINCT referrer_id FROM orders WHERE campaign_id = @CampaignId))
            """, scope.Parameters, cancellationToken: ct));
        long pending = 0;
        foreach (var (stream, group) in Streams)
        {
            pending += (await redis.StreamPendingAsync(keyPrefix + stream, group)).PendingMessageCount;
        }

        return new Backlog(Math.Max(0, scope.Acknowledged.Count - paid), unsynced, pending, refunding, withdrawing);
    }

    public async Task<IReadOnlyList<Violation>> CheckAsync(CheckScope scope, CancellationToken ct)
    {
        var violations = new List<Violation>();
        await using var connection = await dmh.OpenConnectionAsync(ct);
        var paid = (await connection.QueryAsync<long>(new CommandDefinition(
            "SELECT id FROM orders WHERE campaign_id = @CampaignId AND pay_status IN ('paid', 'refunded')", scope.Parameters, cancellationToken: ct))).ToHashSet();
        Add(violations, "notify answered 2xx but the order is not paid (lost)", scope.Acknowledged.Where(id => !paid.Contains(id)).Order().Select(Id));
        var refunds = (await connection.QueryAsync<(string OutRefundNo, string Status)>(new CommandDefinition(
            "SELECT f.out_refund_no, f.status FROM refunds f JOIN orders o ON o.id = f.order_id WHERE o.campaign_id = @CampaignId", scope.Parameters, cancellationToken: ct)))
            .ToDictionary(f => f.OutRefundNo, f => f.Status, StringComparer.Ordinal);
        Add(violations, "refund answered 200 but not in DMH's refunds", scope.Refunds.Keys.Where(no => !refunds.ContainsKey(no)).Order(StringComparer.Ordinal));
        // WeChat's word: every refund it made is a succeeded refund in DMH, and DMH claims none WeChat did not make.
        Add(violations, "refund WeChat made that DMH does not record as succeeded", scope.WechatRefunds
            .Where(w => w.Value.Status == "SUCCESS" && refunds.GetValueOrDefault(w.Key) != "success").Select(w => w.Key).Order(StringComparer.Ordinal));
        Add(violations, "refund DMH records as succeeded that WeChat did not make", refunds
            .Where(f => f.Value == "success" && scope.WechatRefunds.Count > 0 && scope.WechatRefunds.GetValueOrDefault(f.Key).Status != "SUCCESS").Select(f => f.Key).Order(StringComparer.Ordinal));
        var withdrawals = (await connection.QueryAsync<(long Id, string Status, string? OutBillNo)>(new CommandDefinition("""
            SELECT id, status, out_bill_no FROM withdrawals WHERE user_id IN (SELECT DISTINCT referrer_id FROM orders WHERE campaign_id = @CampaignId)
            """, scope.Parameters, cancellationToken: ct))).ToList();
        Add(violations, "withdrawal answered 201 but not in DMH's withdrawals", scope.Withdrawals.Keys.Where(id => withdrawals.All(w => w.Id != id)).Order().Select(Id));
        // WeChat's word: every transfer it paid is a paid withdrawal in DMH, and DMH claims none paid that WeChat did not pay.
        Add(violations, "withdrawal WeChat paid that DMH does not record as paid", withdrawals
            .Where(w => w.OutBillNo is not null && scope.WechatTransfers.GetValueOrDefault(w.OutBillNo) == "SUCCESS" && w.Status != "paid").Select(w => Id(w.Id)));
        Add(violations, "withdrawal DMH records as paid that WeChat did not pay", withdrawals
            .Where(w => w.Status == "paid" && w.OutBillNo is not null && scope.WechatTransfers.GetValueOrDefault(w.OutBillNo) != "SUCCESS").Select(w => Id(w.Id)));
        foreach (var (name, sql) in Dmh)
        {
            var rows = await connection.QueryAsync(new CommandDefinition(sql, scope.Parameters, cancellationToken: ct));
            Add(violations, name, rows.Select(row => Convert.ToString(((IDictionary<string, object>)row).Values.First(), CultureInfo.InvariantCulture) ?? ""));
        }

        var rewards = (await connection.QueryAsync<long>(new CommandDefinition(
            "SELECT r.id FROM rewards r JOIN orders o ON o.id = r.order_id WHERE o.campaign_id = @CampaignId AND o.pay_status IN ('paid', 'refunded')", scope.Parameters, cancellationToken: ct))).ToHashSet();
        var reversals = (await connection.QueryAsync<long>(new CommandDefinition(
            "SELECT l.id FROM reward_ledger l JOIN orders o ON o.id = l.order_id WHERE o.campaign_id = @CampaignId AND l.kind = 'reversal'", scope.Parameters, cancellationToken: ct))).ToHashSet();
        await using var target = await customer.OpenConnectionAsync(ct);
        foreach (var (name, entity, sql) in Customer)
        {
            var expected = entity switch { "order" => paid, "reward" => rewards, _ => reversals };
            if (expected.Count == 0)
            {
                continue;
            }

            var copies = (await target.QueryAsync<(long Id, long Count)>(new CommandDefinition(sql, new { Min = expected.Min(), Max = expected.Max() }, cancellationToken: ct)))
                .ToDictionary(r => r.Id, r => r.Count);
            // Rows in the id range that DMH did not pay belong to other campaigns' orders: only DMH's paid ids are compared.
            Add(violations, name, expected.Where(id => copies.GetValueOrDefault(id) != 1).Order().Select(id => $"{entity} {Id(id)} ×{copies.GetValueOrDefault(id)}"));
        }

        foreach (var (stream, group) in Streams)
        {
            var pending = await redis.StreamPendingAsync(keyPrefix + stream, group);
            if (pending.PendingMessageCount > 0)
            {
                violations.Add(new Violation($"entries still pending in {stream} ({group})", pending.PendingMessageCount, [pending.LowestPendingMessageId.ToString()]));
            }
        }

        return violations;
    }

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static void Add(List<Violation> violations, string name, IEnumerable<string> ids)
    {
        var all = ids.ToList();
        if (all.Count > 0)
        {
            violations.Add(new Violation(name, all.Count, all.Take(Shown).ToList()));
        }
    }
}

/// <summary>
/// Work not yet done: acknowledged orders not yet paid, sync rows not yet synced, stream entries pending,
/// refunds WeChat has not yet answered, withdrawals not yet final.
/// </summary>
public sealed record Backlog(long Unsettled, long Unsynced, long Pending, long Refunding, long Withdrawing)
{
    public long Total => Unsettled + Unsynced + Pending + Refunding + Withdrawing;
}
