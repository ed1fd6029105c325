using Dapper;
using Dmh.Platform.Streams;
using MySqlConnector;

namespace Dmh.Platform.Database;

/// <summary>
/// The dead_letters table, which Ingress's dead-letter endpoints list and replay: the
/// <see cref="IDeadLetterStore"/> of DMH's workers. Unique on (stream, group, entry), so a repeat is ignored.
/// </summary>
public sealed class DeadLetterTable(MySqlDataSource dataSource) : IDeadLetterStore
{
    public async Task RecordAsync(DeadLetter letter, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT IGNORE INTO dead_letters (stream, entry_id, group_name, consumer, deliveries, message_type, message_key, payload, error)
            VALUES (@Stream, @EntryId, @Group, @Consumer, @Deliveries, @MessageType, @MessageKey, @Payload, @Error)
            """, letter, cancellationToken: ct));
    }
}
