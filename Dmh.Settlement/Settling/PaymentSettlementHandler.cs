using System.Collections.Concurrent;
using System.Text.Json;
using Dapper;
using Dmh.Contracts;
using Dmh.Platform.Streams;
using Microsoft.Extensions.Options;
using MySqlConnector;
using StackExchange.Redis;

namespace Dmh.Settlement.Settling;

/// <summary>Settles one confirmed payment that did not come through the stream (reconciliation).</summary>
public interface IPaymentSettler
{
    /// <summary>Settles as a stream entry would be; the returned message's outcome says what happened.</summary>
    Task<ConsumedMessage> SettleAsync(PaymentSucceeded payment, CancellationToken ct);
}

/// <summary>
/// Settles a batch of <see cref="PaymentSucceeded"/> entries: cut into parts of at most
/// MaxPaymentsPerTransaction, each settled in one transaction (<see cref="SettlementStore"/>), up to
/// MaxParallelism parts at once. A payment that cannot be settled is failed (left pending, redelivered,
/// dead-lettered after N deliveries); one for an attempt that was never prepaid is rejected
/// (dead-lettered at once); while MySQL is unreachable payments are postponed (redelivered without
/// counting). None stops the loop. After the batch the sync outbox rows are published; a crash before
/// that leaves the entries unacknowledged, and their redelivery (duplicates then) publishes the rows.
/// </summary>
public sealed class PaymentSettlementHandler(
    SettlementStore store,
    StreamPublisher publisher,
    MySqlDataSource dataSource,
    IOptions<SettlementOptions> options,
    TimeProvider time,
    ILogger<PaymentSettlementHandler> logger) : IStreamHandler, IPaymentSettler, IAsyncDisposable
{
    private readonly SettlementOptions _options = options.Value;
    private readonly ConnectionShelf<MySqlConnection> _connections = new(
        ct => dataSource.OpenConnectionAsync(ct).AsTask(), options.Value.ReuseConnectionsWithin, time);
    private int _commits;

    public async Task HandleAsync(IReadOnlyList<ConsumedMessage> batch, CancellationToken ct)
    {
        SettlementMetrics.BatchSize.Observe(batch.Count);
        var readable = new List<(ConsumedMessage Message, PaymentSucceeded Payment)>(batch.Count);
        foreach (var message in batch)
        {
            if (Read(message) is { } payment)
            {
                readable.Add((message, payment));
            }
        }

        var settled = new ConcurrentQueue<SyncRequested>();
        var duplicates = new ConcurrentQueue<long>();
        var parts = new ConcurrentQueue<(ConsumedMessage Message, PaymentSucceeded Payment)[]>(Parts(readable, _options));
        var lanes = Math.Min(_options.MaxParallelism, parts.Count);
        await Task.WhenAll(Enumerable.Range(0, lanes).Select(_ => SettleLaneAsync(parts, settled, duplicates, ct)));
        // Once per batch rather than per payment: the XADDs are pipelined.
        await PublishAsync([.. settled], [.. duplicates], ct);
    }

    /// <summary>
    /// Parts in stream order, none above MaxPaymentsPerTransaction; up to MaxParallelism of them as long
    /// as each keeps MinPaymentsPerTransaction.
    /// </summary>
    internal static IEnumerable<T[]> Parts<T>(List<T> items, SettlementOptions options)
    {
        if (items.Count == 0)
        {
            return [];
        }

        var needed = Ceiling(items.Count, options.MaxPaymentsPerTransaction);
        var parallel = Math.Min(options.MaxParallelism, Ceiling(items.Count, Math.Min(options.MinPaymentsPerTransaction, options.MaxPaymentsPerTransaction)));
        var count = Math.Max(needed, parallel);
        return items.Chunk(Ceiling(items.Count, count));
    }

    private static int Ceiling(int count, int per) => (count + per - 1) / per;

    public async Task<ConsumedMessage> SettleAsync(PaymentSucceeded payment, CancellationToken ct)
    {
        var message = new ConsumedMessage(RedisValue.Null,
            new Envelope(MessageTypes.PaymentSucceeded, 1, payment.OutTradeNo, JsonSerializer.Serialize(payment, StreamPublisher.Json), time.GetUtcNow()),
            formatError: null, deliveries: 1);
        await HandleAsync([message], ct);
        return message;
    }

    /// <summary>
    /// One lane takes parts off the batch's queue until it is empty, each in one transaction on the
    /// lane's connection: opening a pooled connection per part would add a reset round trip to each.
    /// The connection is shelved for the next batch's lanes when the queue is done; after a database
    /// error it is disposed instead, as it may be broken.
    /// </summary>
    private async Task SettleLaneAsync(ConcurrentQueue<(ConsumedMessage Message, PaymentSucceeded Payment)[]> parts,
        ConcurrentQueue<SyncRequested> settled, ConcurrentQueue<long> duplicates, CancellationToken ct)
    {
        MySqlConnection? connection = null;
        try
        {
            while (!ct.IsCancellationRequested && parts.TryDequeue(out var part))
            {
                IReadOnlyList<PaymentOutcome> outcomes;
                try
                {
                    connection ??= await _connections.TakeAsync(ct);
                    outcomes = await store.SettleBatchAsync(connection, [.. part.Select(p => p.Payment)], ct);
                }
                catch (Exception ex) when (ex is MySqlException or InvalidOperationException or TimeoutException or IOException)
                {
                    outcomes = [.. part.Select(_ => PaymentOutcome.Failed(ex))];
                }

                var broken = false;
                for (var i = 0; i < part.Length; i++)
                {
                    broken |= Record(part[i].Message, part[i].Payment, outcomes[i], settled, duplicates);
                }

                if (connection is not null && (broken || connection.State != System.Data.ConnectionState.Open))
                {
                    await connection.DisposeAsync();
                    connection = null;
                }
            }

            if (connection is not null)
            {
                _connections.Shelve(connection);
                connection = null;
            }
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>The entry's <see cref="PaymentSucceeded"/>, or null after failing an entry that is not one.</summary>
    private static PaymentSucceeded? Read(ConsumedMessage message)
    {
        if (message.Envelope is not { } envelope)
        {
            message.Fail(message.FormatError ?? "malformed entry");
            SettlementMetrics.Payments.WithLabels("failed").Inc();
            return null;
        }

        PaymentSucceeded? payment;
        try
        {
            payment = envelope.Type == MessageTypes.PaymentSucceeded
                ? JsonSerializer.Deserialize<PaymentSucceeded>(envelope.Payload, StreamPublisher.Json)
                : null;
        }
        catch (JsonException ex)
        {
            message.Fail($"Bad PaymentSucceeded payload: {ex.Message}");
            SettlementMetrics.Payments.WithLabels("failed").Inc();
            return null;
        }

        if (payment is null || string.IsNullOrEmpty(payment.OutTradeNo) || string.IsNullOrEmpty(payment.TransactionId))
        {
            message.Fail($"Not a PaymentSucceeded with outTradeNo and transactionId (type {envelope.Type}).");
            SettlementMetrics.Payments.WithLabels("failed").Inc();
            return null;
        }

        return payment;
    }

    /// <summary>Settles the entry's fate from its outcome; true when the error may have left the connection broken.</summary>
    private bool Record(ConsumedMessage message, PaymentSucceeded payment, PaymentOutcome outcome, ConcurrentQueue<SyncRequested> settled, ConcurrentQueue<long> duplicates)
    {
        switch (outcome)
        {
            case { Result: { Outcome: SettleOutcome.Settled } result }:
                var elapsed = time.GetUtcNow() - payment.ReceivedAt;
                SettlementMetrics.Latency.Observe(Math.Max(0, elapsed.TotalSeconds));
                SettlementMetrics.Payments.WithLabels("settled").Inc();
                logger.LogDebug("Settled {OrderId} ({OutTradeNo}) in {ElapsedMs} ms", result.OrderId, payment.OutTradeNo, elapsed.TotalMilliseconds);
                ChaosAfterCommit();
                message.Done();
                foreach (var item in result.Outbox)
                {
                    settled.Enqueue(item);
                }

                return false;

            case { Result: { } duplicate }:
                SettlementMetrics.Payments.WithLabels("duplicate").Inc();
                message.Done();
                duplicates.Enqueue(duplicate.OrderId);
                return false;

            case { Error: AttemptNeverPrepaidException ex }:
                message.Reject(ex.Message);
                SettlementMetrics.Payments.WithLabels("rejected").Inc();
                logger.LogError("Payment {OutTradeNo} names an attempt that was never prepaid (forged or corrupt entry): dead-lettered, not settled",
                    payment.OutTradeNo);
                return false;

            case { Error: { } ex } when DependencyUnavailableException.IsDatabaseUnreachable(ex):
                // Not the payment's fault: retried after the outage without counting the delivery.
                message.Postpone(ex.Message);
                SettlementMetrics.Payments.WithLabels("postponed").Inc();
                logger.LogWarning("Payment {OutTradeNo} postponed, MySQL unreachable: {Error}", payment.OutTradeNo, ex.Message);
                return true;

            default:
                var error = outcome.Error?.Message ?? "no outcome";
                message.Fail(error);
                SettlementMetrics.Payments.WithLabels("failed").Inc();
                logger.LogWarning("Payment {OutTradeNo} not settled (delivery {Deliveries}): {Error}", payment.OutTradeNo, message.Deliveries, error);
                return outcome.Error is not SettlementRejectedException;
        }
    }

    public ValueTask DisposeAsync() => _connections.DisposeAsync();

    private void ChaosAfterCommit()
    {
        var limit = _options.Faults.ExitAfterCommitCount;
        if (limit > 0 && Interlocked.Increment(ref _commits) >= limit)
        {
            Environment.FailFast($"Settlement:Faults:ExitAfterCommitCount={limit} reached (chaos hook)");
        }
    }

    /// <summary>
    /// Best effort: the entries are settled whatever happens here. The outbox rows were committed as
    /// published (SettlementStore), so a publish that fails marks them unpublished again for the outbox
    /// sweeper. A duplicate may be the redelivery of an entry whose commit went through but whose
    /// publish never ran (a crash between the two), so the still-pending rows of duplicate orders go out
    /// again: the syncer writes a row once however often it is asked.
    /// </summary>
    private async Task PublishAsync(List<SyncRequested> outbox, List<long> duplicateOrders, CancellationToken ct)
    {
        if (outbox.Count == 0 && duplicateOrders.Count == 0)
        {
            return;
        }

        try
        {
            // Orders settled in this batch are published below already (a second copy in the batch is a duplicate).
            duplicateOrders = [.. duplicateOrders.Except(outbox.Where(i => i.Entity == SyncEntities.Order).Select(i => i.Id))];
            if (duplicateOrders.Count > 0)
            {
                await using var connection = await dataSource.OpenConnectionAsync(ct);
                outbox.AddRange((await connection.QueryAsync<(string Entity, long EntityId)>(new CommandDefinition(
                    "SELECT entity, entity_id FROM sync_records WHERE order_id IN @Orders AND status = 'pending'",
                    new { Orders = duplicateOrders.Distinct().ToArray() }, cancellationToken: ct))).Select(r => new SyncRequested(r.Entity, r.EntityId)));
            }

            await Task.WhenAll(outbox.Select(item => publisher.PublishAsync(StreamNames.Sync, MessageTypes.SyncRequested, item.Key, item)));
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or MySqlException or TimeoutException)
        {
            logger.LogWarning(ex, "Publishing {Count} sync requests failed; the outbox sweeper re-publishes them", outbox.Count);
            await MarkUnpublishedAsync(outbox);
        }
    }

    /// <summary>Hands rows whose publish failed to the outbox sweeper (UnpublishedAfter); if MySQL fails too, it finds them after UnsyncedAfter.</summary>
    private async Task MarkUnpublishedAsync(List<SyncRequested> outbox)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None);
            foreach (var group in outbox.GroupBy(i => i.Entity))
            {
                await connection.ExecuteAsync(
                    "UPDATE sync_records SET published_at = NULL WHERE entity = @Entity AND entity_id IN @Ids AND status = 'pending'",
                    new { Entity = group.Key, Ids = group.Select(i => i.Id).ToArray() });
            }
        }
        catch (Exception ex) when (ex is MySqlException or TimeoutException or InvalidOperationException)
        {
            logger.LogWarning(ex, "Could not mark {Count} sync rows unpublished; the outbox sweeper re-publishes them after UnsyncedAfter", outbox.Count);
        }
    }
}
