using System.Globalization;
using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Dmh.Ingress.Http;
using MySqlConnector;

namespace Dmh.Ingress.Audit;

/// <summary>
/// The actions the audit log records (<c>audit_log.action</c>). The list endpoint accepts exactly these
/// as its <c>action</c> filter and <c>GET /api/v1/audit-log/actions</c> returns them.
/// </summary>
public static class AuditActions
{
    public const string SignIn = "auth.sign-in";
    public const string SignInFailed = "auth.sign-in-failed";
    public const string PasswordChange = "auth.password-change";
    public const string AccountCreate = "account.create";
    public const string AccountDisable = "account.disable";
    public const string AccountRole = "account.role";
    public const string CampaignCreate = "campaign.create";
    public const string CampaignUpdate = "campaign.update";
    public const string CampaignPublish = "campaign.publish";
    public const string CampaignDisable = "campaign.disable";
    public const string CampaignDelete = "campaign.delete";
    public const string OrderClose = "order.close";
    public const string OrderRefund = "order.refund";
    public const string CheckIn = "check-in.create";
    public const string CheckInUndo = "check-in.undo";
    public const string Export = "export";
    public const string SyncRetry = "sync.retry";
    public const string DeadLetterReplay = "dead-letter.replay";
    public const string BalanceAdjust = "balance.adjust";

    public static readonly IReadOnlyList<string> All =
    [
        SignIn, SignInFailed, PasswordChange, AccountCreate, AccountDisable, AccountRole,
        CampaignCreate, CampaignUpdate, CampaignPublish, CampaignDisable, CampaignDelete,
        OrderClose, OrderRefund, CheckIn, CheckInUndo, Export, SyncRetry, DeadLetterReplay, BalanceAdjust,
    ];

    /// <summary>Other features add theirs here (e.g. withdrawals, campaign approval) so the filter accepts them.</summary>
    public static bool IsKnown(string action) => All.Contains(action, StringComparer.Ordinal);
}

/// <summary>Who acted: the admin account of the request (null id for a failed sign-in) and the client address.</summary>
public sealed record AuditActor(long? Id, string? Name, string? Role, string? Ip)
{
    public static AuditActor Of(HttpContext http)
    {
        var user = http.User;
        var id = long.TryParse(user.FindFirstValue(JwtRegisteredClaimNames.Sub), CultureInfo.InvariantCulture, out var sub) ? sub : (long?)null;
        return new AuditActor(id, user.FindFirstValue(JwtRegisteredClaimNames.UniqueName), user.FindFirstValue("role"), ClientAddress.Of(http));
    }
}

/// <summary>One audit line: who, what (<see cref="AuditActions"/>), on what, and a small JSON detail (no secrets, no full phones).</summary>
public sealed record AuditEntry(AuditActor Actor, string Action, string? TargetType = null, string? TargetId = null, object? Detail = null)
{
    /// <summary>The entry of the request's admin: <c>http.Audit(AuditActions.OrderClose, "order", id)</c>.</summary>
    public static AuditEntry Of(HttpContext http, string action, string? targetType = null, object? targetId = null, object? detail = null) =>
        new(AuditActor.Of(http), action, targetType, Convert.ToString(targetId, CultureInfo.InvariantCulture), detail);
}

/// <summary>
/// Writes <c>audit_log</c> rows. Code that changes data calls <see cref="WriteAsync(MySqlConnection, MySqlTransaction?, AuditEntry?, CancellationToken)"/>
/// with its own connection and transaction, so the line commits or rolls back with the change; an
/// action without a database change (a sign-in, an export) calls the instance method.
/// </summary>
public sealed class AuditLog(MySqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions DetailJson = new(JsonSerializerDefaults.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes the entry on its own connection (no transaction to join).</summary>
    public async Task WriteAsync(AuditEntry entry, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await WriteAsync(connection, null, entry, ct);
    }

    /// <summary>
    /// Writes the entry inside the caller's transaction; a null entry writes nothing (a store called
    /// without one, e.g. by a test). The database clock stamps it, like the rows it sits beside.
    /// </summary>
    public static Task WriteAsync(MySqlConnection connection, MySqlTransaction? tx, AuditEntry? entry, CancellationToken ct)
    {
        if (entry is null)
        {
            return Task.CompletedTask;
        }

        var actor = entry.Actor;
        return connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO audit_log (created_at, actor_id, actor_name, actor_role, action, target_type, target_id, detail, ip)
            VALUES (UTC_TIMESTAMP(3), @actorId, @actorName, @actorRole, @action, @targetType, @targetId, @detail, @ip)
            """, new
        {
            actorId = actor.Id,
            actorName = Cut(actor.Name, 64),
            actorRole = Cut(actor.Role, 16),
            action = entry.Action,
            targetType = entry.TargetType,
            targetId = Cut(entry.TargetId, 64),
            detail = entry.Detail is null ? null : JsonSerializer.Serialize(entry.Detail, DetailJson),
            ip = Cut(actor.Ip, 45),
        }, tx, cancellationToken: ct));
    }

    private static string? Cut(string? s, int max) => s is { } v && v.Length > max ? v[..max] : s;
}
