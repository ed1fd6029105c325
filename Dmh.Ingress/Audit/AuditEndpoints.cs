using System.Text;
using System.Text.Json;
using Dapper;
using Dmh.Ingress.Http;
using Dmh.Ingress.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using MySqlConnector;

namespace Dmh.Ingress.Audit;

/// <summary>The audit log for the admin role: <c>GET /api/v1/audit-log</c> (filtered, newest first) and its action list.</summary>
public static class AuditEndpoints
{
    public const int MaxPageSize = 100;

    public sealed record AuditItem(
        long Id, DateTimeOffset CreatedAt, long? ActorId, string? ActorName, string? ActorRole, string Action,
        string? TargetType, string? TargetId, JsonElement? Detail, string? Ip);

    public sealed record AuditPage(IReadOnlyList<AuditItem> Items, long Total, int Page, int PageSize);

    public static WebApplicationBuilder AddAuditLog(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AuditLog>();
        return builder;
    }

    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/audit-log").WithTags("Audit log").RequireAuthorization(Policies.AdminOnly);
        group.MapGet("/", ListAsync);
        group.MapGet("/actions", () => TypedResults.Ok(AuditActions.All));
        return app;
    }

    private static async Task<Results<Ok<AuditPage>, ProblemHttpResult>> ListAsync(
        MySqlDataSource db, CancellationToken ct, int page = 1, int pageSize = 20, string? action = null, string? actor = null,
        string? targetType = null, string? targetId = null, DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        var errors = new FieldErrors();
        if (page < 1 || pageSize < 1 || pageSize > MaxPageSize)
        {
            errors.Add("page", $"page must be ≥ 1 and pageSize 1..{MaxPageSize}.");
        }

        if (action is not null && !AuditActions.IsKnown(action))
        {
            errors.Add("action", "Unknown action: GET /api/v1/audit-log/actions lists them.");
        }

        if (actor is { Length: > 64 } || targetType is { Length: > 32 } || targetId is { Length: > 64 })
        {
            errors.Add("actor", "actor has at most 64 characters, targetType 32, targetId 64.");
        }

        if (from is { } f && to is { } t && t <= f)
        {
            errors.Add("to", "to must be after from.");
        }

        if (errors.Any)
        {
            return Problems.Validation(errors);
        }

        var where = new StringBuilder("1 = 1");
        if (action is not null)
        {
            where.Append(" AND action = @action");
        }

        if (!string.IsNullOrWhiteSpace(actor))
        {
            where.Append(" AND actor_name = @actor");
        }

        if (!string.IsNullOrWhiteSpace(targetType))
        {
            where.Append(" AND target_type = @targetType");
        }

        if (!string.IsNullOrWhiteSpace(targetId))
        {
            where.Append(" AND target_id = @targetId");
        }

        if (from is not null)
        {
            where.Append(" AND created_at >= @fromUtc");
        }

        if (to is not null)
        {
            where.Append(" AND created_at < @toUtc");
        }

        var args = new
        {
            action, actor = actor?.Trim(), targetType = targetType?.Trim(), targetId = targetId?.Trim(),
            fromUtc = from?.UtcDateTime, toUtc = to?.UtcDateTime, limit = pageSize, offset = (page - 1) * pageSize,
        };
        await using var connection = await db.OpenConnectionAsync(ct);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM audit_log WHERE {where}", args, cancellationToken: ct));
        var rows = await connection.QueryAsync<Row>(new CommandDefinition($"""
            SELECT id AS Id, created_at AS CreatedAt, actor_id AS ActorId, actor_name AS ActorName, actor_role AS ActorRole, action AS Action,
                   target_type AS TargetType, target_id AS TargetId, CAST(detail AS CHAR) AS Detail, ip AS Ip
            FROM audit_log WHERE {where} ORDER BY id DESC LIMIT @limit OFFSET @offset
            """, args, cancellationToken: ct));
        return TypedResults.Ok(new AuditPage(rows.Select(r => r.ToApi()).ToList(), total, page, pageSize));
    }

    private sealed class Row
    {
        public long Id { get; init; }
        public DateTime CreatedAt { get; init; }
        public long? ActorId { get; init; }
        public string? ActorName { get; init; }
        public string? ActorRole { get; init; }
        public string Action { get; init; } = "";
        public string? TargetType { get; init; }
        public string? TargetId { get; init; }
        public string? Detail { get; init; }
        public string? Ip { get; init; }

        public AuditItem ToApi()
        {
            JsonElement? detail = null;
            if (!string.IsNullOrEmpty(Detail))
            {
                using var doc = JsonDocument.Parse(Detail);
                detail = doc.RootElement.Clone();
            }

            return new AuditItem(Id, new DateTimeOffset(DateTime.SpecifyKind(CreatedAt, DateTimeKind.Utc)), ActorId, ActorName, ActorRole, Action,
                TargetType, TargetId, detail, Ip);
        }
    }
}
