using System.Text;
using Dapper;
using Dmh.Contracts;
using Dmh.Ingress.Audit;
using Dmh.Platform;
using MySqlConnector;

namespace Dmh.Ingress.Campaigns;

/// <summary>A campaigns row as stored (money in yuan, times UTC).</summary>
public sealed class CampaignRow
{
    public long Id { get; init; }
    public string Name { get; init; } = "";
    public string? Description { get; init; }
    public string? CoverUrl { get; init; }
    public string? FormFields { get; init; }
    public decimal Price { get; init; }
    public string RewardType { get; init; } = RewardTypes.Fixed;
    public decimal RewardRule { get; init; }
    public int RewardBps { get; init; }
    public string? RewardConfig { get; init; }
    public int HoldDays { get; init; }
    public string? PaymentSettings { get; init; }
    public bool RequireSms { get; init; }
    public DateTime? StartTime { get; init; }
    public DateTime? EndTime { get; init; }
    public string Status { get; init; } = StoredStatus.Draft;
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public string? ApprovalStatus { get; init; }
    public string? ApprovalReason { get; init; }
    public DateTime? ApprovalAt { get; init; }
    public string? ApprovalByName { get; init; }

    public long PriceFen => Money.YuanToFen(Price);
}

/// <summary>The values a campaign write stores.</summary>
public sealed record CampaignValues(
    string Name, string? Description, string? CoverUrl, DateTime? StartUtc, DateTime? EndUtc, long PriceFen,
    string RewardType, long RewardFen, int RewardBps, string RewardConfigJson, int HoldDays, string? PaymentJson, bool RequireSms, string? FormJson);

public sealed record CampaignQuery(int Page, int PageSize, string? Name, string? Status, DateTimeOffset Now, string? Approval = null);

/// <summary>
/// campaigns: explicit SQL for the campaign feature and the order feature's lookups. Every write
/// invalidates <see cref="CampaignCache"/> (here and on every other Ingress).
/// </summary>
public sealed class CampaignStore(MySqlDataSource dataSource, CampaignCache cache)
{
    private const string Columns = """
        id, name, description, cover_url AS CoverUrl, CAST(form_fields AS CHAR) AS FormFields, price,
        reward_type AS RewardType, reward_rule AS RewardRule, reward_bps AS RewardBps,
        CAST(reward_config AS CHAR) AS RewardConfig, hold_days AS HoldDays,
        CAST(payment_settings AS CHAR) AS PaymentSettings, require_sms AS RequireSms,
        start_time AS StartTime, end_time AS EndTime, status, created_at AS CreatedAt, updated_at AS UpdatedAt,
        approval_status AS ApprovalStatus, approval_reason AS ApprovalReason, approval_at AS ApprovalAt,
        (SELECT username FROM admin_users WHERE admin_users.id = campaigns.approval_by) AS ApprovalByName
        """;

    /// <summary>A campaign that is not soft-deleted.</summary>
    public Task<CampaignRow?> FindAsync(long id, CancellationToken ct) => FindAsync(dataSource, id, ct);

    internal static async Task<CampaignRow?> FindAsync(MySqlDataSource dataSource, long id, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<CampaignRow>(new CommandDefinition(
            $"SELECT {Columns} FROM campaigns WHERE id = @id AND deleted_at IS NULL", new { id }, cancellationToken: ct));
    }

    public async Task<(IReadOnlyList<CampaignRow> Items, long Total)> ListAsync(CampaignQuery query, CancellationToken ct)
    {
        var where = new StringBuilder("deleted_at IS NULL");
        if (!string.IsNullOrWhiteSpace(query.Name))
        {
            where.Append(" AND name LIKE @like");
        }

        where.Append(query.Status switch
        {
            CampaignStatus.Draft => " AND status = 'draft'",
            CampaignStatus.Disabled => " AND status = 'disabled'",
            CampaignStatus.Scheduled => " AND status = 'published' AND start_time > @now",
            CampaignStatus.Ended => " AND status = 'published' AND NOT (start_time IS NOT NULL AND start_time > @now) AND end_time <= @now",
            CampaignStatus.Active => " AND status = 'published' AND (start_time IS NULL OR start_time <= @now) AND (end_time IS NULL OR end_time > @now)",
            _ => "",
        });
        where.Append(query.Approval switch
        {
            CampaignApproval.None => " AND approval_status IS NULL",
            CampaignApproval.Pending or CampaignApproval.Approved or CampaignApproval.Rejected => " AND approval_status = @approval",
            _ => "",
        });
        var args = new
        {
            like = "%" + EscapeLike(query.Name?.Trim() ?? "") + "%",
            now = query.Now.UtcDateTime,
            offset = (query.Page - 1) * query.PageSize,
            limit = query.PageSize,
            approval = query.Approval,
        };
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM campaigns WHERE {where}", args, cancellationToken: ct));
        var items = await connection.QueryAsync<CampaignRow>(new CommandDefinition(
            $"SELECT {Columns} FROM campaigns WHERE {where} ORDER BY id DESC LIMIT @limit OFFSET @offset", args, cancellationToken: ct));
        return (items.AsList(), total);
    }

    public async Task<long> InsertAsync(CampaignValues v, long? createdBy, CancellationToken ct, AuditEntry? audit = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            INSERT INTO campaigns (name, description, cover_url, form_fields, price, reward_type, reward_rule, reward_bps,
                                   reward_config, hold_days, payment_settings, require_sms, start_time, end_time, status, created_by)
            VALUES (@Name, @Description, @CoverUrl, @FormJson, @price, @RewardType, @reward, @RewardBps,
                    @RewardConfigJson, @HoldDays, @PaymentJson, @RequireSms, @StartUtc, @EndUtc, 'draft', @createdBy);
            SELECT LAST_INSERT_ID();
            """, Args(v, new { createdBy }), tx, cancellationToken: ct));
        await AuditLog.WriteAsync(connection, tx, audit is null ? null : audit with { TargetId = id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, ct);
        await tx.CommitAsync(ct);
        return id;
    }

    /// <summary>
    /// Saves the campaign's values. An approval it had is dropped (it covers what was approved), and so is
    /// a submission waiting for review (the admin would approve content they may not have seen; the
    /// operator submits again), unless <paramref name="keepApproval"/> (an admin's own edit).
    /// </summary>
    public async Task<bool> UpdateAsync(long id, CampaignValues v, CancellationToken ct, AuditEntry? audit = null, bool keepApproval = false)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var changed = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            UPDATE campaigns SET name = @Name, description = @Description, cover_url = @CoverUrl, form_fields = @FormJson,
                   price = @price, reward_type = @RewardType, reward_rule = @reward, reward_bps = @RewardBps,
                   reward_config = @RewardConfigJson, hold_days = @HoldDays,
                   payment_settings = @PaymentJson, require_sms = @RequireSms, start_time = @StartUtc, end_time = @EndUtc,
                   approval_status = IF(approval_status IN ('approved', 'pending') AND NOT @keepApproval, NULL, approval_status),
                   updated_at = UTC_TIMESTAMP(3)
            WHERE id = @id AND deleted_at IS NULL;
            SELECT ROW_COUNT();
            """, Args(v, new { id, keepApproval }), tx, cancellationToken: ct));
        var found = await AuditedAsync(connection, tx, id, changed == 1, audit, ct);
        await cache.InvalidateAsync(id);
        return found;
    }

    /// <summary>Sets the stored status; false when the campaign does not exist (or is deleted).</summary>
    public async Task<bool> SetStatusAsync(long id, string status, CancellationToken ct, AuditEntry? audit = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE campaigns SET status = @status, updated_at = UTC_TIMESTAMP(3) WHERE id = @id AND deleted_at IS NULL",
            new { id, status }, tx, cancellationToken: ct));
        var found = await AuditedAsync(connection, tx, id, changed == 1, audit, ct);
        await cache.InvalidateAsync(id);
        return found;
    }

    /// <summary>
    /// Moves the approval of a campaign that is not published from one of <paramref name="from"/> (null =
    /// not submitted) to <paramref name="to"/> in one conditional update; <paramref name="publish"/> also
    /// publishes it (an approval puts the campaign live). False when it is in no such state (nothing changes).
    /// </summary>
    public async Task<bool> MoveApprovalAsync(
        long id, string?[] from, string to, string? reason, long? by, bool publish, CancellationToken ct, AuditEntry? audit = null)
    {
        var states = from.OfType<string>().ToArray();
        var condition = (states.Length > 0 ? "approval_status IN @states" : "FALSE") + (from.Contains(null) ? " OR approval_status IS NULL" : "");
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var moved = await connection.ExecuteAsync(new CommandDefinition($"""
            UPDATE campaigns SET approval_status = @to, approval_reason = @reason, approval_by = @by, approval_at = UTC_TIMESTAMP(3),
                   status = IF(@publish, 'published', status), updated_at = UTC_TIMESTAMP(3)
            WHERE id = @id AND deleted_at IS NULL AND status <> 'published' AND ({condition})
            """, new { id, states, to, reason, by, publish }, tx, cancellationToken: ct)) == 1;
        if (moved)
        {
            await AuditLog.WriteAsync(connection, tx, audit, ct);
        }

        await tx.CommitAsync(ct);
        await cache.InvalidateAsync(id);
        return moved;
    }

    /// <summary>Publishes an approved campaign (Campaigns:RequireApproval); false when it is missing or not approved.</summary>
    public async Task<bool> PublishApprovedAsync(long id, CancellationToken ct, AuditEntry? audit = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE campaigns SET status = 'published', updated_at = UTC_TIMESTAMP(3) WHERE id = @id AND deleted_at IS NULL AND approval_status = 'approved'",
            new { id }, tx, cancellationToken: ct));
        var published = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM campaigns WHERE id = @id AND deleted_at IS NULL AND approval_status = 'approved' AND status = 'published'",
            new { id }, tx, cancellationToken: ct)) == 1;
        if (published)
        {
            await AuditLog.WriteAsync(connection, tx, audit, ct);
        }

        await tx.CommitAsync(ct);
        await cache.InvalidateAsync(id);
        return published;
    }

    public async Task<bool> SoftDeleteAsync(long id, CancellationToken ct, AuditEntry? audit = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var deleted = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE campaigns SET deleted_at = UTC_TIMESTAMP(3) WHERE id = @id AND deleted_at IS NULL", new { id }, tx, cancellationToken: ct)) == 1;
        if (deleted)
        {
            await AuditLog.WriteAsync(connection, tx, audit, ct);
        }

        await tx.CommitAsync(ct);
        await cache.InvalidateAsync(id);
        return deleted;
    }

    /// <summary>Writes the audit line of a campaign write that found its row and commits; false when the campaign does not exist.</summary>
    private static async Task<bool> AuditedAsync(MySqlConnection connection, MySqlTransaction tx, long id, bool changed, AuditEntry? audit, CancellationToken ct)
    {
        // UseAffectedRows is on: an update that changes nothing reports 0 rows although the row exists.
        var exists = changed || await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM campaigns WHERE id = @id AND deleted_at IS NULL", new { id }, tx, cancellationToken: ct)) == 1;
        if (exists)
        {
            await AuditLog.WriteAsync(connection, tx, audit, ct);
        }

        await tx.CommitAsync(ct);
        return exists;
    }

    private static DynamicParameters Args(CampaignValues v, object extra)
    {
        var p = new DynamicParameters(v);
        p.AddDynamicParams(extra);
        p.Add("price", Money.FenToYuan(v.PriceFen));
        p.Add("reward", Money.FenToYuan(v.RewardFen));
        return p;
    }

    private static string EscapeLike(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
