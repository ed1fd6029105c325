using Dmh.Contracts;
using StackExchange.Redis;

namespace Dmh.Platform.Streams;

/// <summary>One stream entry handed to a handler.</summary>
public sealed class ConsumedMessage(RedisValue id, Envelope? envelope, string? formatError, long deliveries)
{
    public RedisValue Id { get; } = id;

    /// <summary>The decoded envelope; null when the entry is malformed (see <see cref="FormatError"/>).</summary>
    public Envelope? Envelope { get; } = envelope;

    public string? FormatError { get; } = formatError;

    /// <summary>Times delivered, this one included (1 on a first read).</summary>
    public long Deliveries { get; } = deliveries;

    public bool IsDone { get; private set; }

    public string? Error { get; private set; }

    /// <summary>Handled for good: the entry will be acknowledged.</summary>
    public void Done() => IsDone = true;

    /// <summary>Not handled: stays pending and is redelivered after the claim idle time.</summary>
    public void Fail(string error)
    {
        IsDone = false;
        Error = error;
    }
}

/// <summary>
/// Handles batches read by <see cref="StreamConsumerService{THandler}"/>. Call
/// <see cref="ConsumedMessage.Done"/> on each entry that is handled; the rest stay pending and come
/// back after <see cref="StreamConsumerOptions.ClaimIdle"/>, until they are dead-lettered. A handler
/// that throws leaves every entry it did not mark done pending.
/// </summary>
public interface IStreamHandler
{
    Task HandleAsync(IReadOnlyList<ConsumedMessage> batch, CancellationToken ct);
}
