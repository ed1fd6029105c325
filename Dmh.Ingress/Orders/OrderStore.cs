using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Dmh.Contracts;
using Dmh.Ingress.Audit;
using Dmh.Ingress.Participants;
using Dmh.Platform;
using MySqlConnector;

namespace Dmh.Ingress.Orders;

/// <summary>What the registrant view is made of.</summary>
public sealed record RegistrantOrderRow(long Id, long CampaignId, string Status, string PayStatus, decimal Amount, string Phone, string? RegistrationCode, string? ReferralCode);

/// <summary>One orders row as admins see it.</summary>
public sealed class AdminOrderRow
{
    public long Id { get; init; }
    public long CampaignId { get; init; }
    public string? CampaignName { get; init; }
    public string Phone { get; init; } = "";
    public string? FormData { get; init; }
    public string? ChannelId { get; init; }
    public long ReferrerId { get; init; }
    public string? ReferrerName { get; init; }
    public string? ReferrerPhone { get; init; }
    public string? RegistrationCode { get; init; }
    public string Status { get; init; } = "";
    public string PayStatus { get; init; } = "";
    public decimal Amount { get; init; }
    public string? TradeNo { get; init; }
    public DateTime? PaidAt { get; init; }
    public string SyncStatus { get; init; } = "";
    public DateTime CreatedAt { get; init; }
}

/// <summary>Validated filters of the admin list and the CSV export.</summary>
public sealed record OrderFilter(long? CampaignId, string? Status, string? PayStatus, string? SyncStatus, DateTimeOffset? From, DateTimeOffset? To, string? Phone);

/// <summary>A first registration: the form as stored JSON, the campaign's price, the openid of the caller's WeChat session (never the body's).</summary>
public sealed record NewOrder(long CampaignId, string Phone, string FormData, string? ChannelId, string? ReferralCode, decimal Amount, string? SessionOpenid, bool PhoneProven);

/// <summary>
/// What a registration found: the new order (<see cref="Created"/>) or the live order this phone already
/// has in the campaign, as the registrant view and with what proving a repeat needs.
/// </summary>
public sealed record Registration(bool Created, RegistrantOrderRow Order, LiveOrder Live);

/// <summary>The live order of a (campaign, phone) with what proving a repeat registration needs.</summary>
public sealed record LiveOrder(long Id, long ParticipantId, string Status, string PayStatus, int TokenVersion, string? ParticipantOpenid);

/// <summary>A proven repeat registration: the new form, the campaign's current price (for a closed order), how the token changes.</summary>
/// <param name="RequiredTokenVersion">Proof by order token: the version it was issued for, which must still be current.</param>
/// <param name="Revoke">Proof by SMS or session: earlier tokens stop working.</param>
/// <param name="OpenidToAttach">The session's openid, attached only when this request proved the phone.</param>
public sealed record ProvenRepeat(string FormData, decimal CurrentPrice, int? RequiredTokenVersion, bool Revoke, string? OpenidToAttach);

public enum RepeatOutcome
{
    Updated,
    AlreadyPaid,
    TokenRevoked,
    Gone,
}

public sealed record PaymentRow(long Id, int Attempt, string OutTradeNo, string Channel, long AmountFen, string Status, string? TransactionId, DateTime? SuccessTime, DateTime CreatedAt);

public sealed class RewardRow
{
    public long Id { get; init; }
    public long UserId { get; init; }
    public decimal Amount { get; init; }
    public int Level { get; init; }
    public long ReversedFen { get; init; }
    public string Status { get; init; } = "";
    public DateTime? SettledAt { get; init; }
    public string? Name { get; init; }
    public string? Phone { get; init; }
}

public sealed record RefundRow(string OutRefundNo, long AmountFen, string Status, string? Reason, DateTime CreatedAt, DateTime? SuccessTime);

public sealed record SyncRow(string Entity, long EntityId, string Status, int Attempts, string? LastError, DateTime? SyncedAt, DateTime UpdatedAt);

/// <summary>orders: registration (race-safe on uk_orders_campaign_phone_live), admin queries, closing.</summary>
public sealed class OrderStore(MySqlDataSource dataSource, ILogger<OrderStore> logger)
{
    private const int MaxAttempts = 20;

    private const string AdminColumns = """
        o.id, o.campaign_id AS CampaignId, c.name AS CampaignName, o.phone, CAST(o.form_data AS CHAR) AS FormData,
        o.channel_id AS ChannelId, o.referrer_id AS ReferrerId, o.status, o.pay_status AS PayStatus, o.amount,
        o.trade_no AS TradeNo, o.paid_at AS PaidAt, o.sync_status AS SyncStatus, o.created_at AS CreatedAt,
        o.registration_code AS RegistrationCode, rp.phone AS ReferrerPhone,
        (SELECT JSON_UNQUOTE(JSON_EXTRACT(ro.form_data, '$.name')) FROM orders ro WHERE ro.participant_id = o.referrer_id ORDER BY ro.id DESC LIMIT 1) AS ReferrerName
        """;

    // The referrer is shown by name (the form's name of their latest registration) and phone, never a bare id.
    private const string AdminFrom = "orders o LEFT JOIN campaigns c ON c.id = o.campaign_id LEFT JOIN participants rp ON rp.id = o.referrer_id AND o.referrer_id > 0";

    /// <summary>
    /// A registration in one round trip (issue 23): in one transaction, the participant upsert, the
    /// referrer chain, the order insert and the row the caller answers with. The unique key
    /// (campaign, phone, live) decides: when this phone already has a live order in the campaign,
    /// nothing changes and that order comes back (<see cref="Registration.Created"/> false).
    /// </summary>
    public Task<Registration> RegisterAsync(NewOrder order, CancellationToken ct) => RetryAsync(() => RegisterOnceAsync(order, ct), order.CampaignId, ct);

    // One batch, one round trip. The participant's id is read by phone (not LAST_INSERT_ID()) because the
    // upsert's ODKU also fires on a referral_code clash; then no participant has the phone, no order is
    // written and the caller tries again with a new code. The order's ODKU fires only on the live key
    // (trade_no and registration_code are NULL at insert): it writes nothing and points LAST_INSERT_ID()
    // at the existing order. The referrer chain is fixed here (issue 17) as RewardRuleEngine.Beneficiaries
    // does: it ends at the registrant, a repeat or a missing link. Everything the registrant's own row
    // gets (referred_by, the session's openid) waits for the order to be new, so a repeat changes nothing.
    // The last SELECT locks rows this transaction already holds: a current read, so it sees an existing
    // order committed after the transaction's snapshot.
    // Each statement of a batch costs the server a parse and a reply packet of its own (a CPU profile of
    // registrations at 1,000/s had MariaDB spend more in sending replies and parsing than in the inserts),
    // so the batch has only the statements this registration needs: the referrer's lookup only with a
    // referral code, the openid's only with a WeChat session, and assignments share one SET. MariaDB
    // evaluates a SET's expressions before it assigns any, so none reads a variable the same SET assigns
    // (level 3 repeats level 2's condition instead of reading @dmh_r2).
    private const string RegisterBeginSql = """
        INSERT INTO participants (phone, referral_code) VALUES (@Phone, @code) ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id);
        SET @dmh_created = ROW_COUNT(), @dmh_pid = (SELECT id FROM participants WHERE phone = @Phone), @dmh_r1 = 0, @dmh_r2 = 0, @dmh_r3 = 0;

        """;

    private const string RegisterReferrerSql = """
        SELECT COALESCE(MAX(p1.id), 0), COALESCE(MAX(p1.referred_by), 0), COALESCE(MAX(p2.referred_by), 0) INTO @dmh_r1, @dmh_u2, @dmh_u3
            FROM participants p1 LEFT JOIN participants p2 ON p2.id = p1.referred_by
            WHERE p1.referral_code = @ReferralCode AND p1.id <> @dmh_pid;
        SET @dmh_r2 = IF(@dmh_r1 > 0 AND @dmh_u2 > 0 AND @dmh_u2 NOT IN (@dmh_pid, @dmh_r1), @dmh_u2, 0),
            @dmh_r3 = IF(@dmh_r1 > 0 AND @dmh_u2 > 0 AND @dmh_u2 NOT IN (@dmh_pid, @dmh_r1) AND @dmh_u3 > 0 AND @dmh_u3 NOT IN (@dmh_pid, @dmh_r1, @dmh_u2), @dmh_u3, 0);

        """;

    private const string RegisterOrderSql = """
        INSERT INTO orders (campaign_id, participant_id, phone, form_data, channel_id, referrer_id, referrer2_id, referrer3_id, status, amount, pay_status)
            SELECT @CampaignId, @dmh_pid, @Phone, @FormData, @ChannelId, @dmh_r1, @dmh_r2, @dmh_r3, @pending, @Amount, @unpaid FROM DUAL WHERE @dmh_pid IS NOT NULL
            ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id);
        SET @dmh_new = ROW_COUNT(), @dmh_order = IF(@dmh_pid IS NULL, 0, LAST_INSERT_ID());

        """;

    private const string RegisterReferredBySql = """
        UPDATE participants SET referred_by = @dmh_r1 WHERE id = @dmh_pid AND @dmh_new = 1 AND @dmh_created = 1 AND @dmh_r1 > 0 AND referred_by = 0;

        """;

    private const string RegisterOpenidSql = """
        UPDATE IGNORE participants SET openid = @SessionOpenid
            WHERE @SessionOpenid IS NOT NULL AND id = @dmh_pid AND @dmh_new = 1 AND openid IS NULL AND (@dmh_created = 1 OR @PhoneProven);

        """;

    private const string RegisterEndSql = """
        SELECT @dmh_new AS Created, o.id, o.campaign_id AS CampaignId, o.status, o.pay_status AS PayStatus,
               o.amount, o.phone, o.registration_code AS RegistrationCode, o.participant_id AS ParticipantId, o.token_version AS TokenVersion,
               p.referral_code AS ReferralCode, p.openid AS ParticipantOpenid
            FROM orders o JOIN participants p ON p.id = o.participant_id
            WHERE o.id = @dmh_order AND o.deleted_at IS NULL FOR UPDATE;

        """;

    // A registration's statements without the transaction around them: one or many run in one transaction.
    private static readonly string[] RegisterStatements = [.. Enumerable.Range(0, 4).Select(variant =>
        RegisterBeginSql
        + ((variant & 1) != 0 ? RegisterReferrerSql : "")
        + RegisterOrderSql
        + ((variant & 1) != 0 ? RegisterReferredBySql : "")
        + ((variant & 2) != 0 ? RegisterOpenidSql : "")
        + RegisterEndSql)];

    private static int Variant(NewOrder order) => (string.IsNullOrEmpty(order.ReferralCode) ? 0 : 1) | (order.SessionOpenid is null ? 0 : 2);

    // The statements of the i-th registration of a batch: its parameters carry the suffix _i (the @dmh_
    // session variables are shared: each registration sets them before it reads them).
    private static readonly ConcurrentDictionary<(int Variant, int Index), string> BatchStatements = new();

    /// <summary>
    /// One transaction for these registrations: each with the referrer's lookup only for a referral code
    /// and the openid's only for a WeChat session.
    /// </summary>
    internal static string RegisterSql(IReadOnlyList<NewOrder> orders)
    {
        var sql = new StringBuilder("START TRANSACTION;\n");
        for (var i = 0; i < orders.Count; i++)
        {
            sql.Append(BatchStatements.GetOrAdd((Variant(orders[i]), i), key =>
                Regex.Replace(RegisterStatements[key.Variant], @"@(?!dmh_)([A-Za-z]\w*)", $"@$1_{key.Index}")));
        }

        return sql.Append("COMMIT;").ToString();
    }

    /// <summary>
    /// Many registrations in one transaction and one round trip (<see cref="RegistrationBatches"/>): each
    /// statement of a registration as <see cref="RegisterAsync"/> runs it, so each keeps its own outcome on
    /// the unique keys (a phone twice in one batch: the second finds the first's order). A null is a
    /// registration whose new referral code clashed: it wrote nothing and goes again alone. Any error
    /// rolls the whole batch back and throws; the caller then registers each alone.
    /// </summary>
    internal async Task<Registration?[]> RegisterBatchAsync(IReadOnlyList<NewOrder> orders, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await RegisterOnConnectionAsync(connection, orders, ct);
    }

    // A batch answers with one result set per registration (the last SELECT of each), read in order.
    // Alone is a batch of one, so both run the same statements.
    private async Task<Registration?[]> RegisterOnConnectionAsync(MySqlConnection connection, IReadOnlyList<NewOrder> orders, CancellationToken ct)
    {
        await using var command = new MySqlCommand(RegisterSql(orders), connection);
        for (var i = 0; i < orders.Count; i++)
        {
            var order = orders[i];
            var suffix = "_" + i.ToString(CultureInfo.InvariantCulture);
            command.Parameters.AddWithValue("@CampaignId" + suffix, order.CampaignId);
            command.Parameters.AddWithValue("@Phone" + suffix, order.Phone);
            command.Parameters.AddWithValue("@code" + suffix, ParticipantStore.NewReferralCode());
            command.Parameters.AddWithValue("@FormData" + suffix, order.FormData);
            command.Parameters.AddWithValue("@ChannelId" + suffix, order.ChannelId);
            command.Parameters.AddWithValue("@ReferralCode" + suffix, order.ReferralCode);
            command.Parameters.AddWithValue("@Amount" + suffix, order.Amount);
            command.Parameters.AddWithValue("@SessionOpenid" + suffix, order.SessionOpenid);
            command.Parameters.AddWithValue("@PhoneProven" + suffix, order.PhoneProven);
            command.Parameters.AddWithValue("@pending" + suffix, OrderStatus.Pending);
            command.Parameters.AddWithValue("@unpaid" + suffix, PayStatus.Unpaid);
        }

        var results = new Registration?[orders.Count];
        try
        {
            await using var reader = await command.ExecuteReaderAsync(ct);
            for (var i = 0; i < orders.Count; i++)
            {
                if (i > 0 && !await reader.NextResultAsync(ct))
                {
                    throw new InvalidOperationException($"The registration batch answered {i} of {orders.Count} registrations.");
                }

                results[i] = await reader.ReadAsync(ct) ? ToRegistration(orders[i], reader) : null;
            }
        }
        catch (MySqlException)
        {
            // A lock wait timeout ends the statement, not the transaction: end it before a retry.
            await RollbackQuietlyAsync(connection);
            throw;
        }

        return results;
    }

    private async Task<Registration> RegisterOnceAsync(NewOrder order, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        for (var attempt = 1; ; attempt++)
        {
            if ((await RegisterOnConnectionAsync(connection, [order], ct))[0] is { } registration)
            {
                return registration;
            }

            // The new referral code clashed with another participant's (60 random bits: very rare).
            if (attempt >= 5)
            {
                throw new InvalidOperationException("Could not register: no participant for the phone after the upsert.");
            }
        }
    }

    // The columns of RegisterEndSql, in order.
    private Registration ToRegistration(NewOrder order, MySqlDataReader row)
    {
        var created = Convert.ToInt64(row.GetValue(0), CultureInfo.InvariantCulture) == 1;
        var (id, campaignId, status, payStatus, amount, phone) = (row.GetInt64(1), row.GetInt64(2), row.GetString(3), row.GetString(4), row.GetDecimal(5), row.GetString(6));
        var registrationCode = row.IsDBNull(7) ? null : row.GetString(7);
        var (participantId, tokenVersion) = (row.GetInt64(8), row.GetInt32(9));
        var referralCode = row.IsDBNull(10) ? null : row.GetString(10);
        var participantOpenid = row.IsDBNull(11) ? null : row.GetString(11);
        if (order.SessionOpenid is { } openid && created && participantOpenid != openid)
        {
            logger.LogInformation("The session's openid was not attached to participant {ParticipantId}: the phone was not proven, or one of them is already bound", participantId);
        }

        return new Registration(
            created,
            new RegistrantOrderRow(id, campaignId, status, payStatus, amount, phone, registrationCode, referralCode),
            new LiveOrder(id, participantId, status, payStatus, tokenVersion, participantOpenid));
    }

    private static async Task RollbackQuietlyAsync(MySqlConnection connection)
    {
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("ROLLBACK", cancellationToken: CancellationToken.None));
        }
        catch (MySqlException)
        {
            // The connection is gone; the server rolled the transaction back with it.
        }
    }

    /// <summary>
    /// A proven repeat of an unpaid order: the new form data; a closed order reopens to pending at the
    /// campaign's current price (its old attempts stay closed); the token version moves on a revoke.
    /// The row is locked, so a settling payment or a concurrent revoke is seen, not overwritten.
    /// </summary>
    public Task<(RepeatOutcome Outcome, int TokenVersion)> UpdateProvenAsync(long orderId, ProvenRepeat repeat, CancellationToken ct) =>
        RetryAsync(() => UpdateProvenOnceAsync(orderId, repeat, ct), orderId, ct);

    private async Task<T> RetryAsync<T>(Func<Task<T>> step, long id, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await step();
            }
            catch (MySqlException ex) when (attempt < MaxAttempts && ex.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout)
            {
                logger.LogDebug("Registration step for {Id} retried after {Error}", id, ex.ErrorCode);
            }

            await Task.Delay(Random.Shared.Next(1, 5 * attempt), ct);
        }
    }

    private async Task<(RepeatOutcome, int)> UpdateProvenOnceAsync(long orderId, ProvenRepeat repeat, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<(string PayStatus, int TokenVersion, long ParticipantId)?>(new CommandDefinition(
            "SELECT pay_status, token_version, participant_id FROM orders WHERE id = @orderId AND deleted_at IS NULL FOR UPDATE",
            new { orderId }, tx, cancellationToken: ct));
        if (row is not { } order)
        {
            return (RepeatOutcome.Gone, 0);
        }

        if (order.PayStatus != PayStatus.Unpaid)
        {
            return (RepeatOutcome.AlreadyPaid, order.TokenVersion);
        }

        if (repeat.RequiredTokenVersion is { } required && required != order.TokenVersion)
        {
            return (RepeatOutcome.TokenRevoked, order.TokenVersion);
        }

        var version = order.TokenVersion + (repeat.Revoke ? 1 : 0);
        // amount is assigned before status, so it still sees whether the order was closed.
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE orders SET form_data = @FormData,
                amount = IF(status = @closed, @CurrentPrice, amount),
                status = IF(status = @closed, @pending, status),
                token_version = @version
            WHERE id = @orderId
            """, new { repeat.FormData, repeat.CurrentPrice, orderId, version, closed = OrderStatus.Closed, pending = OrderStatus.Pending },
            tx, cancellationToken: ct));
        if (repeat.OpenidToAttach is { } openid
            && !await ParticipantStore.AttachOpenidAsync(connection, tx, order.ParticipantId, openid, ct))
        {
            logger.LogInformation("The session's openid was not attached to participant {ParticipantId}: one of them is already bound", order.ParticipantId);
        }

        await tx.CommitAsync(ct);
        return (RepeatOutcome.Updated, version);
    }

    public async Task<RegistrantOrderRow?> FindRegistrantAsync(long id, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<RegistrantOrderRow>(new CommandDefinition("""
            SELECT o.id, o.campaign_id AS CampaignId, o.status, o.pay_status AS PayStatus, o.amount, o.phone,
                   o.registration_code AS RegistrationCode, p.referral_code AS ReferralCode
            FROM orders o LEFT JOIN participants p ON p.id = o.participant_id
            WHERE o.id = @id AND o.deleted_at IS NULL
            """, new { id }, cancellationToken: ct));
    }

    public async Task<AdminOrderRow?> FindAdminAsync(long id, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<AdminOrderRow>(new CommandDefinition(
            $"SELECT {AdminColumns} FROM {AdminFrom} WHERE o.id = @id AND o.deleted_at IS NULL",
            new { id }, cancellationToken: ct));
    }

    public async Task<(IReadOnlyList<AdminOrderRow> Items, long Total)> ListAsync(OrderFilter filter, int page, int pageSize, CancellationToken ct)
    {
        var (where, args) = Where(filter);
        args.Add("offset", (page - 1) * pageSize);
        args.Add("limit", pageSize);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM orders o WHERE {where}", args, cancellationToken: ct));
        var items = (await connection.QueryAsync<AdminOrderRow>(new CommandDefinition(
            $"SELECT {AdminColumns} FROM {AdminFrom} WHERE {where} ORDER BY o.id DESC LIMIT @limit OFFSET @offset",
            args, cancellationToken: ct))).ToList();
        return (items, total);
    }

    /// <summary>Streams the filtered orders (oldest first) without holding them in memory.</summary>
    public async IAsyncEnumerable<AdminOrderRow> StreamAsync(OrderFilter filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var (where, args) = Where(filter);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            $"SELECT {AdminColumns} FROM {AdminFrom} WHERE {where} ORDER BY o.id",
            args, cancellationToken: ct));
        var parser = ((DbDataReader)reader).GetRowParser<AdminOrderRow>();
        while (await ((DbDataReader)reader).ReadAsync(ct))
        {
            yield return parser(reader);
        }
    }

    /// <summary>The campaigns of the filtered orders (the filter's campaign even without orders), for the export's form columns.</summary>
    public async Task<IReadOnlyList<ExportCampaign>> ExportCampaignsAsync(OrderFilter filter, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        if (filter.CampaignId is { } id)
        {
            return (await connection.QueryAsync<ExportCampaign>(new CommandDefinition(
                "SELECT id, name, CAST(form_fields AS CHAR) AS FormFields FROM campaigns WHERE id = @id", new { id }, cancellationToken: ct))).AsList();
        }

        var (where, args) = Where(filter);
        return (await connection.QueryAsync<ExportCampaign>(new CommandDefinition($"""
            SELECT id, name, CAST(form_fields AS CHAR) AS FormFields FROM campaigns
            WHERE id IN (SELECT DISTINCT o.campaign_id FROM orders o WHERE {where}) ORDER BY id
            """, args, cancellationToken: ct))).AsList();
    }

    public async Task<(IReadOnlyList<PaymentRow> Payments, IReadOnlyList<RewardRow> Rewards, IReadOnlyList<SyncRow> Sync, IReadOnlyList<RefundRow> Refunds)> FindDetailAsync(long id, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var payments = (await connection.QueryAsync<PaymentRow>(new CommandDefinition("""
            SELECT id, attempt, out_trade_no AS OutTradeNo, channel, amount_fen AS AmountFen, status, transaction_id AS TransactionId,
                   success_time AS SuccessTime, created_at AS CreatedAt
            FROM payments WHERE order_id = @id ORDER BY attempt
            """, new { id }, cancellationToken: ct))).ToList();
        var rewards = (await connection.QueryAsync<RewardRow>(new CommandDefinition(
            """
            SELECT r.id, r.user_id AS UserId, r.amount, r.level AS Level, r.reversed_fen AS ReversedFen, r.status, r.settled_at AS SettledAt, p.phone AS Phone,
                   (SELECT JSON_UNQUOTE(JSON_EXTRACT(ro.form_data, '$.name')) FROM orders ro WHERE ro.participant_id = r.user_id ORDER BY ro.id DESC LIMIT 1) AS Name
            FROM rewards r LEFT JOIN participants p ON p.id = r.user_id WHERE r.order_id = @id ORDER BY r.level, r.id
            """,
            new { id }, cancellationToken: ct))).ToList();
        var sync = (await connection.QueryAsync<SyncRow>(new CommandDefinition("""
            SELECT entity, entity_id AS EntityId, status, attempts, last_error AS LastError, synced_at AS SyncedAt, updated_at AS UpdatedAt
            FROM sync_records WHERE order_id = @id ORDER BY entity, entity_id
            """, new { id }, cancellationToken: ct))).ToList();
        var refunds = (await connection.QueryAsync<RefundRow>(new CommandDefinition("""
            SELECT out_refund_no AS OutRefundNo, amount_fen AS AmountFen, status, reason, created_at AS CreatedAt, success_time AS SuccessTime
            FROM refunds WHERE order_id = @id ORDER BY id
            """, new { id }, cancellationToken: ct))).ToList();
        return (payments, rewards, sync, refunds);
    }

    public enum CloseOutcome
    {
        NotFound,
        NotUnpaid,
        Closed,
    }

    /// <summary>Closes an unpaid order and its open attempts in one transaction; answers the latest prepaid attempt to close at the provider.</summary>
    public async Task<(CloseOutcome Outcome, string? PrepaidOutTradeNo)> CloseAsync(long id, CancellationToken ct, AuditEntry? audit = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var payStatus = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT pay_status FROM orders WHERE id = @id AND deleted_at IS NULL FOR UPDATE", new { id }, tx, cancellationToken: ct));
        if (payStatus is null)
        {
            return (CloseOutcome.NotFound, null);
        }

        if (payStatus != PayStatus.Unpaid)
        {
            return (CloseOutcome.NotUnpaid, null);
        }

        var prepaid = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT out_trade_no FROM payments WHERE order_id = @id AND status = @prepaid ORDER BY attempt DESC LIMIT 1",
            new { id, prepaid = PaymentStatus.Prepaid }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE orders SET status = @closed WHERE id = @id", new { id, closed = OrderStatus.Closed }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE payments SET status = @closed WHERE order_id = @id AND status IN (@created, @prepaid)",
            new { id, closed = PaymentStatus.Closed, created = PaymentStatus.Created, prepaid = PaymentStatus.Prepaid }, tx, cancellationToken: ct));
        await AuditLog.WriteAsync(connection, tx, audit, ct);
        await tx.CommitAsync(ct);
        return (CloseOutcome.Closed, prepaid);
    }

    private static (string Where, DynamicParameters Args) Where(OrderFilter f)
    {
        var where = new StringBuilder("o.deleted_at IS NULL");
        var args = new DynamicParameters();
        if (f.CampaignId is { } campaignId)
        {
            where.Append(" AND o.campaign_id = @campaignId");
            args.Add("campaignId", campaignId);
        }

        if (f.Status is { } status)
        {
            where.Append(" AND o.status = @status");
            args.Add("status", status);
        }

        if (f.PayStatus is { } payStatus)
        {
            where.Append(" AND o.pay_status = @payStatus");
            args.Add("payStatus", payStatus);
        }

        if (f.SyncStatus is { } syncStatus)
        {
            where.Append(" AND o.sync_status = @syncStatus");
            args.Add("syncStatus", syncStatus);
        }

        if (f.From is { } from)
        {
            where.Append(" AND o.created_at >= @from");
            args.Add("from", from.UtcDateTime);
        }

        if (f.To is { } to)
        {
            where.Append(" AND o.created_at < @to");
            args.Add("to", to.UtcDateTime);
        }

        if (f.Phone is { } phone)
        {
            // Digits only (validated), so LIKE needs no escaping; a prefix keeps the index usable.
            where.Append(phone.Length == 11 ? " AND o.phone = @phone" : " AND o.phone LIKE @phone");
            args.Add("phone", phone.Length == 11 ? phone : phone + "%");
        }

        return (where.ToString(), args);
    }

    public static long Fen(decimal yuan) => Money.YuanToFen(yuan);

    public static string Iso(DateTime utc) => new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
}
