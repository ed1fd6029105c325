using System.Globalization;
using Dapper;
using Dmh.Ingress.Participants;
using Dmh.Platform.Rewards;
using Dmh.Platform.Withdrawals;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Ingress.Withdrawals;

public enum RequestOutcome
{
    Created,
    NegativeBalance,
    OpenRequest,
    OpenidRequired,
    DailyLimit,
    Insufficient,
}

public enum ReviewOutcome
{
    Done,
    NotFound,
    WrongState,
    NeedsAdmin,
    OpenidRequired,
}

/// <summary>Admin list filters (validated by the endpoint).</summary>
public sealed record WithdrawalFilter(string? Status, long? UserId, string? Phone, DateTime? From, DateTime? To);

/// <summary>A withdrawal with who asked for it, for the admin list and export.</summary>
public sealed class AdminWithdrawalRow
{
    public long Id { get; init; }
    public long UserId { get; init; }
    public string? Name { get; init; }
    public string? Phone { get; init; }
    public long AmountFen { get; init; }
    public string Status { get; init; } = "";
    public string Mode { get; init; } = "";
    public DateTime CreatedAt { get; init; }
    public string? ReviewedBy { get; init; }
    public DateTime? ReviewedAt { get; init; }
    public string? RejectReason { get; init; }
    public string? PaidReference { get; init; }
    public DateTime? PaidAt { get; init; }
    public string? PaidBy { get; init; }
    public string? OutBillNo { get; init; }
    public string? TransferState { get; init; }
    public string? FailReason { get; init; }
}

/// <summary>The withdrawals table as Ingress uses it: requests (H5), review and manual payout (admin).</summary>
public sealed class WithdrawalStore(MySqlDataSource dataSource, IOptions<WithdrawalOptions> options, TimeProvider time)
{
    public static readonly TimeSpan Beijing = TimeSpan.FromHours(8);

    private readonly WithdrawalOptions _options = options.Value;

    public WithdrawalOptions Options => _options;

    public static DateTime BeijingDay(DateTimeOffset now) => now.ToOffset(Beijing).Date;

    public sealed record Balance(long AvailableFen, long WithdrawingFen, long PaidOutFen);

    public async Task<(Balance Balance, string? Blocked, IReadOnlyList<WithdrawalRow> Items)> ReadMineAsync(long userId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var balance = await connection.QuerySingleOrDefaultAsync<Balance>(new CommandDefinition(
            "SELECT available_fen AS AvailableFen, withdrawing_fen AS WithdrawingFen, paid_out_fen AS PaidOutFen FROM user_balances WHERE user_id = @userId",
            new { userId }, cancellationToken: ct)) ?? new Balance(0, 0, 0);
        var blocked = await BlockedAsync(connection, null, userId, balance.AvailableFen, 0, ct);
        var items = (await connection.QueryAsync<WithdrawalRow>(new CommandDefinition(
            $"SELECT {WithdrawalRow.Columns} FROM withdrawals WHERE user_id = @userId ORDER BY id DESC LIMIT 100", new { userId }, cancellationToken: ct))).ToList();
        return (balance, blocked, items);
    }

    /// <summary>The first rule that refuses a request of <paramref name="amountFen"/> (0: any request), in the order the page shows them.</summary>
    private async Task<string?> BlockedAsync(MySqlConnection connection, MySqlTransaction? tx, long userId, long available, long amountFen, CancellationToken ct)
    {
        if (available < 0)
        {
            return BlockedReasons.NegativeBalance;
        }

        if (await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                "SELECT id FROM withdrawals WHERE open_user_id = @userId", new { userId }, tx, cancellationToken: ct)) is not null)
        {
            return BlockedReasons.OpenRequest;
        }

        if (_options.IsWechat && await OpenidAsync(connection, tx, userId, ct) is null)
        {
            return BlockedReasons.OpenidRequired;
        }

        var day = await connection.QuerySingleAsync<(long Count, long Total)>(new CommandDefinition("""
            SELECT COUNT(*), CAST(COALESCE(SUM(amount_fen), 0) AS SIGNED) FROM withdrawals
            WHERE user_id = @userId AND beijing_day = @day AND status NOT IN ('rejected', 'failed')
            """, new { userId, day = BeijingDay(time.GetUtcNow()) }, tx, cancellationToken: ct));
        return day.Count >= _options.DailyCount || day.Total + Math.Max(amountFen, _options.MinFen) > _options.DailyTotalFen
            ? BlockedReasons.DailyLimit
            : null;
    }

    private static Task<string?> OpenidAsync(MySqlConnection connection, MySqlTransaction? tx, long userId, CancellationToken ct) =>
        connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT openid FROM participants WHERE id = @userId", new { userId }, tx, cancellationToken: ct));

    /// <summary>
    /// A new request and its hold, in one transaction under the balance row's lock; the unique
    /// <c>open_user_id</c> keeps a second open request out whatever the race.
    /// </summary>
    public async Task<(RequestOutcome Outcome, WithdrawalRow? Row)> RequestAsync(long userId, long amountFen, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct);
        var check = await RewardLedger.CheckWithdrawalAsync(connection, tx, userId, amountFen, ct);
        var available = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT available_fen FROM user_balances WHERE user_id = @userId", new { userId }, tx, cancellationToken: ct)) ?? 0;
        var blocked = await BlockedAsync(connection, tx, userId, available, amountFen, ct);
        var outcome = blocked switch
        {
            BlockedReasons.NegativeBalance => RequestOutcome.NegativeBalance,
            BlockedReasons.OpenRequest => RequestOutcome.OpenRequest,
            BlockedReasons.OpenidRequired => RequestOutcome.OpenidRequired,
            BlockedReasons.DailyLimit => RequestOutcome.DailyLimit,
            _ => check == WithdrawalCheck.Allowed ? RequestOutcome.Created : RequestOutcome.Insufficient,
        };
        if (outcome != RequestOutcome.Created)
        {
            return (outcome, null);
        }

        var now = time.GetUtcNow();
        long id;
        try
        {
            id = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
                INSERT INTO withdrawals (user_id, amount_fen, status, mode, open_user_id, openid, beijing_day, created_at)
                VALUES (@userId, @amountFen, 'pending', @mode, @userId, (SELECT openid FROM participants WHERE id = @userId), @day, @now);
                SELECT LAST_INSERT_ID();
                """, new { userId, amountFen, mode = _options.Mode, day = BeijingDay(now), now = now.UtcDateTime }, tx, cancellationToken: ct));
        }
        catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
        {
            return (RequestOutcome.OpenRequest, null);
        }

        await WithdrawalLedger.HoldAsync(connection, tx, userId, id, amountFen, now.UtcDateTime, ct);
        var row = await WithdrawalLedger.LockAsync(connection, tx, id, ct);
        await tx.CommitAsync(ct);
        return (RequestOutcome.Created, row);
    }

    public async Task<WithdrawalRow?> FindAsync(long id, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await WithdrawalLedger.FindAsync(connection, id, ct);
    }

    public bool NeedsAdmin(long amountFen) => amountFen > _options.AdminApprovalAboveFen;

    /// <summary>
    /// pending → approved (manual) or transferring with its out_bill_no (wechat; the bill is created
    /// after this commits, so a notify can never find a withdrawal that does not know its bill yet).
    /// </summary>
    public async Task<(ReviewOutcome Outcome, WithdrawalRow? Row)> ApproveAsync(long id, string actor, bool isAdmin, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct);
        var w = await WithdrawalLedger.LockAsync(connection, tx, id, ct);
        if (w is null)
        {
            return (ReviewOutcome.NotFound, null);
        }

        if (w.Status != WithdrawalStatus.Pending)
        {
            return (ReviewOutcome.WrongState, w);
        }

        if (NeedsAdmin(w.AmountFen) && !isAdmin)
        {
            return (ReviewOutcome.NeedsAdmin, w);
        }

        var now = time.GetUtcNow().UtcDateTime;
        if (_options.IsWechat)
        {
            var openid = w.Openid ?? await OpenidAsync(connection, tx, w.UserId, ct);
            if (openid is null)
            {
                return (ReviewOutcome.OpenidRequired, w);
            }

            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE withdrawals SET status = 'transferring', mode = 'wechat', openid = @openid, out_bill_no = @outBillNo,
                    reviewed_by = @actor, reviewed_at = @now
                WHERE id = @id
                """, new { id, openid, outBillNo = WithdrawalLedger.OutBillNo(id), actor = Trim(actor, 64), now }, tx, cancellationToken: ct));
        }
        else
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE withdrawals SET status = 'approved', mode = 'manual', reviewed_by = @actor, reviewed_at = @now WHERE id = @id",
                new { id, actor = Trim(actor, 64), now }, tx, cancellationToken: ct));
        }

        var row = await WithdrawalLedger.LockAsync(connection, tx, id, ct);
        await tx.CommitAsync(ct);
        return (ReviewOutcome.Done, row);
    }

    /// <summary>pending → rejected, the hold released, in one transaction.</summary>
    public async Task<(ReviewOutcome Outcome, WithdrawalRow? Row)> RejectAsync(long id, string reason, string actor, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct);
        var w = await WithdrawalLedger.LockAsync(connection, tx, id, ct);
        if (w is null)
        {
            return (ReviewOutcome.NotFound, null);
        }

        if (w.Status != WithdrawalStatus.Pending)
        {
            return (ReviewOutcome.WrongState, w);
        }

        var now = time.GetUtcNow().UtcDateTime;
        await WithdrawalLedger.ReleaseAsync(connection, tx, w, "rejected: " + reason, actor, now, ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE withdrawals SET status = 'rejected', open_user_id = NULL, reviewed_by = @actor, reviewed_at = @now, reject_reason = @reason
            WHERE id = @id
            """, new { id, actor = Trim(actor, 64), now, reason }, tx, cancellationToken: ct));
        var row = await WithdrawalLedger.LockAsync(connection, tx, id, ct);
        await tx.CommitAsync(ct);
        return (ReviewOutcome.Done, row);
    }

    /// <summary>approved (manual) → paid: withdrawing → paid out, with the operator's reference, time and name.</summary>
    public async Task<(ReviewOutcome Outcome, WithdrawalRow? Row)> PayoutAsync(long id, string reference, DateTime paidAt, string actor, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct);
        var w = await WithdrawalLedger.LockAsync(connection, tx, id, ct);
        if (w is null)
        {
            return (ReviewOutcome.NotFound, null);
        }

        if (w.Status != WithdrawalStatus.Approved)
        {
            return (ReviewOutcome.WrongState, w);
        }

        var now = time.GetUtcNow().UtcDateTime;
        await WithdrawalLedger.PayoutAsync(connection, tx, w, "manual payout " + reference, actor, now, ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE withdrawals SET status = 'paid', open_user_id = NULL, paid_reference = @reference, paid_at = @paidAt, paid_by = @actor
            WHERE id = @id
            """, new { id, reference, paidAt, actor = Trim(actor, 64) }, tx, cancellationToken: ct));
        var row = await WithdrawalLedger.LockAsync(connection, tx, id, ct);
        await tx.CommitAsync(ct);
        return (ReviewOutcome.Done, row);
    }

    private static (string Where, DynamicParameters Args) Where(WithdrawalFilter f)
    {
        var where = "1 = 1";
        var args = new DynamicParameters();
        if (f.Status is not null)
        {
            where += " AND w.status = @status";
            args.Add("status", f.Status);
        }

        if (f.UserId is not null)
        {
            where += " AND w.user_id = @userId";
            args.Add("userId", f.UserId);
        }

        if (f.Phone is not null)
        {
            where += " AND w.user_id = (SELECT id FROM participants WHERE phone = @phone)";
            args.Add("phone", f.Phone);
        }

        if (f.From is not null)
        {
            where += " AND w.created_at >= @from";
            args.Add("from", f.From);
        }

        if (f.To is not null)
        {
            where += " AND w.created_at < @to";
            args.Add("to", f.To);
        }

        return (where, args);
    }

    private const string AdminSelect = """
        SELECT w.id AS Id, w.user_id AS UserId,
               (SELECT JSON_UNQUOTE(JSON_EXTRACT(o.form_data, '$.name')) FROM orders o WHERE o.participant_id = w.user_id ORDER BY o.id DESC LIMIT 1) AS Name,
               p.phone AS Phone, w.amount_fen AS AmountFen, w.status AS Status, w.mode AS Mode, w.created_at AS CreatedAt, w.reviewed_by AS ReviewedBy,
               w.reviewed_at AS ReviewedAt, w.reject_reason AS RejectReason, w.paid_reference AS PaidReference, w.paid_at AS PaidAt, w.paid_by AS PaidBy,
               w.out_bill_no AS OutBillNo, w.transfer_state AS TransferState, w.fail_reason AS FailReason
        FROM withdrawals w LEFT JOIN participants p ON p.id = w.user_id
        """;

    public async Task<(IReadOnlyList<AdminWithdrawalRow> Rows, long Total, long PendingCount, long PendingFen)> ListAsync(
        WithdrawalFilter filter, int page, int pageSize, CancellationToken ct)
    {
        var (where, args) = Where(filter);
        args.Add("limit", pageSize);
        args.Add("offset", (page - 1) * pageSize);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM withdrawals w WHERE {where}", args, cancellationToken: ct));
        var rows = (await connection.QueryAsync<AdminWithdrawalRow>(new CommandDefinition(
            $"{AdminSelect} WHERE {where} ORDER BY w.id DESC LIMIT @limit OFFSET @offset", args, cancellationToken: ct))).ToList();
        var pending = await connection.QuerySingleAsync<(long Count, long Fen)>(new CommandDefinition(
            "SELECT COUNT(*), CAST(COALESCE(SUM(amount_fen), 0) AS SIGNED) FROM withdrawals WHERE status = 'pending'", cancellationToken: ct));
        return (rows, total, pending.Count, pending.Fen);
    }

    public async Task<AdminWithdrawalRow?> FindAdminAsync(long id, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<AdminWithdrawalRow>(new CommandDefinition(
            $"{AdminSelect} WHERE w.id = @id", new { id }, cancellationToken: ct));
    }

    public async IAsyncEnumerable<AdminWithdrawalRow> ExportAsync(WithdrawalFilter filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var (where, args) = Where(filter);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<AdminWithdrawalRow>(new CommandDefinition(
            $"{AdminSelect} WHERE {where} ORDER BY w.id DESC LIMIT 100000", args, cancellationToken: ct));
        foreach (var row in rows)
        {
            yield return row;
        }
    }

    public static string Iso(DateTime utc) => new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)).ToString("O", CultureInfo.InvariantCulture);

    public static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    public static DateTimeOffset? Utc(DateTime? value) => value is { } v ? Utc(v) : null;

    public static AdminWithdrawal ToAdmin(AdminWithdrawalRow r, bool needsAdmin) => new(
        r.Id, r.UserId, r.Name, PhoneNumbers.Mask(r.Phone), r.AmountFen, r.Status, r.Mode, needsAdmin, Utc(r.CreatedAt), r.ReviewedBy, Utc(r.ReviewedAt),
        r.RejectReason, r.PaidReference, Utc(r.PaidAt), r.PaidBy, r.OutBillNo, r.TransferState, r.FailReason);

    private static string Trim(string value, int max) => value.Length > max ? value[..max] : value;
}
