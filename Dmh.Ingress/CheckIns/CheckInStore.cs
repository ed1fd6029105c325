using System.Data.Common;
using System.Globalization;
using Dapper;
using Dmh.Contracts;
using Dmh.Ingress.Audit;
using MySqlConnector;

namespace Dmh.Ingress.CheckIns;

/// <summary>A paid registration as the check-in desk sees it: who (form name, masked phone), what, and its active check-in.</summary>
public sealed class CheckInCardRow
{
    public long OrderId { get; init; }
    public long CampaignId { get; init; }
    public string? CampaignName { get; init; }
    public string? Name { get; init; }
    public string Phone { get; init; } = "";
    public string Status { get; init; } = "";
    public decimal Amount { get; init; }
    public string RegistrationCode { get; init; } = "";
    public DateTime? PaidAt { get; init; }
    public long? CheckInId { get; init; }
    public DateTime? CheckedInAt { get; init; }
    public string? CheckedInBy { get; init; }
    public string? Method { get; init; }
}

/// <summary>One check_ins row with the registration it belongs to.</summary>
public sealed class CheckInRow
{
    public long Id { get; init; }
    public long OrderId { get; init; }
    public long CampaignId { get; init; }
    public string? CampaignName { get; init; }
    public string? Name { get; init; }
    public string Phone { get; init; } = "";
    public string RegistrationCode { get; init; } = "";
    public DateTime CheckedInAt { get; init; }
    public string? CheckedInBy { get; init; }
    public string Method { get; init; } = "";
    public DateTime? UndoneAt { get; init; }
    public string? UndoneBy { get; init; }
    public string? UndoReason { get; init; }
}

public enum CheckInOutcome
{
    NotFound,
    NotPaid,
    AlreadyCheckedIn,
    CheckedIn,
}

public enum UndoOutcome
{
    NotFound,
    AlreadyUndone,
    Undone,
}

/// <summary>check_ins: one active check-in per order (uk_check_ins_order_active decides, never a check-then-insert).</summary>
public sealed class CheckInStore(MySqlDataSource dataSource, TimeProvider time)
{
    private const string CardSql = """
        SELECT o.id AS OrderId, o.campaign_id AS CampaignId, c.name AS CampaignName,
               JSON_UNQUOTE(JSON_EXTRACT(o.form_data, '$.name')) AS Name, o.phone, o.status, o.amount,
               o.registration_code AS RegistrationCode, o.paid_at AS PaidAt,
               k.id AS CheckInId, k.checked_in_at AS CheckedInAt, a.username AS CheckedInBy, k.method
        FROM orders o
        LEFT JOIN campaigns c ON c.id = o.campaign_id
        LEFT JOIN check_ins k ON k.order_id = o.id AND k.active = 1
        LEFT JOIN admin_users a ON a.id = k.checked_in_by
        WHERE o.registration_code = @code AND o.deleted_at IS NULL
        """;

    private const string RowColumns = """
        k.id, k.order_id AS OrderId, k.campaign_id AS CampaignId, c.name AS CampaignName,
        JSON_UNQUOTE(JSON_EXTRACT(o.form_data, '$.name')) AS Name, o.phone, o.registration_code AS RegistrationCode,
        k.checked_in_at AS CheckedInAt, a.username AS CheckedInBy, k.method,
        k.undone_at AS UndoneAt, u.username AS UndoneBy, k.undo_reason AS UndoReason
        FROM check_ins k
        JOIN orders o ON o.id = k.order_id
        LEFT JOIN campaigns c ON c.id = k.campaign_id
        LEFT JOIN admin_users a ON a.id = k.checked_in_by
        LEFT JOIN admin_users u ON u.id = k.undone_by
        """;

    public async Task<CheckInCardRow?> FindByCodeAsync(string code, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<CheckInCardRow>(new CommandDefinition(CardSql, new { code }, cancellationToken: ct));
    }

    /// <summary>Checks in the paid order with this code once; a second call finds the active check-in and changes nothing.</summary>
    public async Task<(CheckInOutcome Outcome, CheckInCardRow? Card)> CheckInAsync(string code, long adminId, string method, CancellationToken ct, AuditEntry? audit = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            // Locked so a refund cannot land between the paid check and the insert.
            var order = await connection.QuerySingleOrDefaultAsync<(long Id, long CampaignId, string Status)?>(new CommandDefinition(
                "SELECT id, campaign_id, status FROM orders WHERE registration_code = @code AND deleted_at IS NULL FOR UPDATE",
                new { code }, tx, cancellationToken: ct));
            if (order is not { } o)
            {
                return (CheckInOutcome.NotFound, null);
            }

            if (o.Status != OrderStatus.Paid)
            {
                await tx.RollbackAsync(ct);
                return (CheckInOutcome.NotPaid, await FindByCodeAsync(code, ct));
            }

            try
            {
                await connection.ExecuteAsync(new CommandDefinition("""
                    INSERT INTO check_ins (order_id, campaign_id, checked_in_by, checked_in_at, method)
                    VALUES (@orderId, @campaignId, @adminId, @now, @method)
                    """, new { orderId = o.Id, campaignId = o.CampaignId, adminId, now = time.GetUtcNow().UtcDateTime, method }, tx, cancellationToken: ct));
                var entry = audit is null ? null : audit with
                {
                    TargetType = "order",
                    TargetId = o.Id.ToString(CultureInfo.InvariantCulture),
                    Detail = new { code, method, campaignId = o.CampaignId },
                };
                await AuditLog.WriteAsync(connection, tx, entry, ct);
                await tx.CommitAsync(ct);
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
            {
                await tx.RollbackAsync(CancellationToken.None);
                return (CheckInOutcome.AlreadyCheckedIn, await FindByCodeAsync(code, ct));
            }
        }

        return (CheckInOutcome.CheckedIn, await FindByCodeAsync(code, ct));
    }

    /// <summary>Undoes an active check-in (who, when, why are kept); an undone one stays as it is.</summary>
    public async Task<(UndoOutcome Outcome, CheckInRow? Row)> UndoAsync(long id, long adminId, string reason, CancellationToken ct, AuditEntry? audit = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        int changed;
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            changed = await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE check_ins SET undone_by = @adminId, undone_at = @now, undo_reason = @reason WHERE id = @id AND undone_at IS NULL",
                new { id, adminId, reason, now = time.GetUtcNow().UtcDateTime }, tx, cancellationToken: ct));
            if (changed == 1)
            {
                await AuditLog.WriteAsync(connection, tx, audit, ct);
            }

            await tx.CommitAsync(ct);
        }

        var row = await connection.QuerySingleOrDefaultAsync<CheckInRow>(new CommandDefinition(
            $"SELECT {RowColumns} WHERE k.id = @id", new { id }, cancellationToken: ct));
        return row is null ? (UndoOutcome.NotFound, null) : (changed == 1 ? UndoOutcome.Undone : UndoOutcome.AlreadyUndone, row);
    }

    public async Task<(IReadOnlyList<CheckInRow> Items, long Total)> ListAsync(long? campaignId, bool includeUndone, int page, int pageSize, CancellationToken ct)
    {
        var where = Where(campaignId, includeUndone);
        var args = new { campaignId, offset = (page - 1) * pageSize, limit = pageSize };
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM check_ins k WHERE {where}", args, cancellationToken: ct));
        var items = (await connection.QueryAsync<CheckInRow>(new CommandDefinition(
            $"SELECT {RowColumns} WHERE {where} ORDER BY k.id DESC LIMIT @limit OFFSET @offset", args, cancellationToken: ct))).ToList();
        return (items, total);
    }

    /// <summary>Every check-in of the filter, undone ones included, oldest first, streamed.</summary>
    public async IAsyncEnumerable<CheckInRow> StreamAsync(long? campaignId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            $"SELECT {RowColumns} WHERE {Where(campaignId, includeUndone: true)} ORDER BY k.id", new { campaignId }, cancellationToken: ct));
        var parser = ((DbDataReader)reader).GetRowParser<CheckInRow>();
        while (await ((DbDataReader)reader).ReadAsync(ct))
        {
            yield return parser(reader);
        }
    }

    /// <summary>Paid registrations and how many of them are checked in, for one campaign or all.</summary>
    public async Task<(long Paid, long CheckedIn)> SummaryAsync(long? campaignId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var filter = campaignId is null ? "" : " AND o.campaign_id = @campaignId";
        return await connection.QuerySingleAsync<(long, long)>(new CommandDefinition($"""
            SELECT COUNT(*), COUNT(k.id)
            FROM orders o LEFT JOIN check_ins k ON k.order_id = o.id AND k.active = 1
            WHERE o.status = 'paid' AND o.deleted_at IS NULL{filter}
            """, new { campaignId }, cancellationToken: ct));
    }

    private static string Where(long? campaignId, bool includeUndone) =>
        (campaignId is null ? "1 = 1" : "k.campaign_id = @campaignId") + (includeUndone ? "" : " AND k.undone_at IS NULL");
}
