using Dapper;
using Dmh.Contracts;
using Dmh.Ingress.Audit;
using Dmh.Ingress.Http;
using Dmh.Ingress.Security;
using Dmh.Platform.Streams;
using Microsoft.AspNetCore.Http.HttpResults;
using MySqlConnector;

namespace Dmh.Ingress.DeadLetters;

/// <summary>Stream entries that failed too often: listed for operators, and replayed onto their stream.</summary>
public static class DeadLetterEndpoints
{
    public static IEndpointRouteBuilder MapDeadLetterEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/dead-letters").WithTags("Dead letters");
        group.MapGet("/", ListAsync).RequireAuthorization(Policies.AdminRead);
        group.MapPost("/{id:long}/replay", ReplayAsync).RequireAuthorization(Policies.AdminWrite);
        return app;
    }

    public sealed record DeadLetter(long Id, string Stream, string EntryId, string Group, string Consumer, int Deliveries,
        string? MessageType, string? MessageKey, string? Payload, string? Error, DateTimeOffset CreatedAt, DateTimeOffset? ReplayedAt);

    public sealed record DeadLetterPage(IReadOnlyList<DeadLetter> Items, long Total, int Page, int PageSize);

    public sealed record Replayed(long Id, string Stream, string EntryId);

    private static async Task<Results<Ok<DeadLetterPage>, ProblemHttpResult>> ListAsync(
        MySqlDataSource db, CancellationToken ct, int page = 1, int pageSize = 20, string? stream = null, bool? replayed = null)
    {
        if (page < 1 || pageSize < 1 || pageSize > 100)
        {
            return Problems.InvalidPaging("page must be ≥ 1 and pageSize 1..100.");
        }

        const string Filter = """
            WHERE (@Stream IS NULL OR stream = @Stream)
              AND (@Replayed IS NULL OR (@Replayed = 1 AND replayed_at IS NOT NULL) OR (@Replayed = 0 AND replayed_at IS NULL))
            """;
        var args = new { Stream = stream, Replayed = replayed is null ? (int?)null : replayed.Value ? 1 : 0, Limit = pageSize, Offset = (page - 1) * pageSize };
        await using var connection = await db.OpenConnectionAsync(ct);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM dead_letters {Filter}", args, cancellationToken: ct));
        var rows = await connection.QueryAsync<Row>(new CommandDefinition($"""
            SELECT id AS Id, stream AS Stream, entry_id AS EntryId, group_name AS GroupName, consumer AS Consumer, deliveries AS Deliveries,
                   message_type AS MessageType, message_key AS MessageKey, payload AS Payload, error AS Error,
                   created_at AS CreatedAt, replayed_at AS ReplayedAt
            FROM dead_letters {Filter}
            ORDER BY id DESC LIMIT @Limit OFFSET @Offset
            """, args, cancellationToken: ct));
        return TypedResults.Ok(new DeadLetterPage(rows.Select(r => r.ToApi()).ToList(), total, page, pageSize));
    }

    private static async Task<Results<Accepted<Replayed>, ProblemHttpResult>> ReplayAsync(
        long id, HttpContext http, MySqlDataSource db, StreamPublisher publisher, TimeProvider time, ILoggerFactory loggers, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<LetterRow>(
            new CommandDefinition("SELECT stream AS Stream, message_type AS Type, message_key AS `Key`, payload AS Payload FROM dead_letters WHERE id = @Id",
                new { Id = id }, cancellationToken: ct));
        if (row is not { } letter)
        {
            return Problems.NotFound($"Dead letter {id}");
        }

        if (string.IsNullOrEmpty(letter.Type) || letter.Payload is null)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, "not-replayable",
                "This entry was malformed (no type or payload): there is no envelope to replay");
        }

        // Claim the replay first so two clicks publish once; undone if the publish fails.
        var now = time.GetUtcNow().UtcDateTime;
        if (await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE dead_letters SET replayed_at = @Now WHERE id = @Id AND replayed_at IS NULL", new { Now = now, Id = id }, cancellationToken: ct)) == 0)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "already-replayed", $"Dead letter {id} was replayed already");
        }

        try
        {
            var entryId = await publisher.PublishRawAsync(letter.Stream,
                new Envelope(letter.Type, 1, letter.Key ?? "", letter.Payload, time.GetUtcNow()));
            loggers.CreateLogger(typeof(DeadLetterEndpoints)).LogInformation("Replayed dead letter {DeadLetterId} onto {Stream} as {EntryId}", id, letter.Stream, (string?)entryId);
            // After the publish (a Redis write no MySQL transaction covers): a failed publish undoes the claim and logs nothing.
            await AuditLog.WriteAsync(connection, null,
                AuditEntry.Of(http, AuditActions.DeadLetterReplay, "dead-letter", id, new { stream = letter.Stream, type = letter.Type, entryId = (string?)entryId }), CancellationToken.None);
            return TypedResults.Accepted($"/api/v1/dead-letters/{id}", new Replayed(id, letter.Stream, (string)entryId!));
        }
        catch
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE dead_letters SET replayed_at = NULL WHERE id = @Id", new { Id = id }, cancellationToken: CancellationToken.None));
            throw;
        }
    }

    private sealed record LetterRow(string Stream, string? Type, string? Key, string? Payload);

    private sealed record Row(long Id, string Stream, string EntryId, string GroupName, string Consumer, int Deliveries,
        string? MessageType, string? MessageKey, string? Payload, string? Error, DateTime CreatedAt, DateTime? ReplayedAt)
    {
        public DeadLetter ToApi() => new(Id, Stream, EntryId, GroupName, Consumer, Deliveries, MessageType, MessageKey, Payload, Error,
            Utc(CreatedAt), ReplayedAt is { } r ? Utc(r) : null);

        private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
    }
}
