using Dmh.Contracts;
using StackExchange.Redis;

namespace Dmh.Platform.Streams;

/// <summary>What became of one entry handed to a handler.</summary>
public enum MessageOutcome
{
    /// <summary>Not handled (the handler did not get to it, or failed it): redelivered, dead-lettered after MaxDeliveries.</summary>
    Failed,

    /// <summary>Handled for good: acknowledged.</summary>
    Done,

    /// <summary>Can never succeed as it is: dead-lettered at once, without further deliveries.</summary>
    Rejected,

    /// <summary>
    /// Not handled because a dependency (the database) is unreachable: redelivered later, and this
    /// delivery does not count toward dead-lettering.
    /// </summary>
    Postponed,
}

/// <summary>One stream entry handed to a handler.</summary>
public sealed class ConsumedMessage(RedisValue id, Envelope? envelope, string? formatError, long deliveries)
{
    public RedisValue Id { get; } = id;

    /// <summary>The decoded envelope; null when the entry is malformed (see <see cref="FormatError"/>).</summary>
    public Envelope? Envelope { get; } = envelope;

    public string? FormatError { get; } = formatError;

    /// <summary>Times delivered, this one included (1 on a first read).</summary>
    public long Deliveries { get; } = deliveries;

    public MessageOutcome Outcome { get; private set; }

    public bool IsDone => Outcome == MessageOutcome.Done;

    public string? Error { get; private set; }

    /// <summary>Handled for good: the entry will be acknowledged.</summary>
    public void Done()
    {
        Outcome = MessageOutcome.Done;
        Error = null;
    }

    /// <summary>Not handled: stays pending and is redelivered after the claim idle time.</summary>
    public void Fail(string error) => Set(MessageOutcome.Failed, error);

    /// <summary>Can never be handled (e.g. it names a payment attempt that was never prepaid): dead-lettered now.</summary>
    public void Reject(string error) => Set(MessageOutcome.Rejected, error);

    /// <summary>A dependency is unreachable: redelivered later without counting this delivery; the consumer backs off.</summary>
    public void Postpone(string error) => Set(MessageOutcome.Postponed, error);

    private void Set(MessageOutcome outcome, string error)
    {
        Outcome = outcome;
        Error = error;
    }
}

/// <summary>
/// Handles batches read by <see cref="StreamConsumerService{THandler}"/>. Call
/// <see cref="ConsumedMessage.Done"/> on each entry that is handled; the rest stay pending and come
/// back after <see cref="StreamConsumerOptions.ClaimIdle"/>, until they are dead-lettered. A handler
/// that throws leaves every entry it did not mark done pending; if it throws
/// <see cref="DependencyUnavailableException"/> (or MySQL is unreachable) they are postponed instead.
/// </summary>
public interface IStreamHandler
{
    Task HandleAsync(IReadOnlyList<ConsumedMessage> batch, CancellationToken ct);
}
