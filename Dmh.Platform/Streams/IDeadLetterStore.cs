namespace Dmh.Platform.Streams;

/// <summary>An entry a consumer group gave up on, as operators see it.</summary>
/// <param name="Stream">The logical stream name (without the key prefix).</param>
/// <param name="EntryId">The entry's stream id.</param>
/// <param name="Group">The consumer group.</param>
/// <param name="Consumer">The consumer that gave up on it.</param>
/// <param name="Deliveries">Times it was delivered (0 when it was found deleted from the stream).</param>
/// <param name="MessageType">The envelope's type; null when the entry was malformed or deleted.</param>
/// <param name="MessageKey">The envelope's idempotency key; null when the entry was malformed or deleted.</param>
/// <param name="Payload">The envelope's payload, or the raw fields of a malformed entry; null when deleted.</param>
/// <param name="Error">Why it was given up on.</param>
public sealed record DeadLetter(
    string Stream,
    string EntryId,
    string Group,
    string Consumer,
    long Deliveries,
    string? MessageType,
    string? MessageKey,
    string? Payload,
    string Error);

/// <summary>
/// Where <see cref="StreamConsumerService{THandler}"/> records a dead letter for operators, after
/// copying it to the dead-letter stream. The host provides it (DMH's workers: the dead_letters table,
/// <c>AddDeadLetterTable()</c>), so the generic loop holds no SQL. A failure here is logged and the
/// entry is acknowledged all the same: the dead-letter stream already holds it.
/// </summary>
public interface IDeadLetterStore
{
    /// <summary>Records the letter; recording the same stream, group and entry again changes nothing.</summary>
    Task RecordAsync(DeadLetter letter, CancellationToken ct);
}
