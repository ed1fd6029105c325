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
/// Settles a batch of <see cref="PaymentSucceeded"/> entries on up to MaxParallelism connections at
/// once. A payment that cannot be settled is failed (left pending, redelivered, dead-lettered after
/// N deliveries); one for an attempt that was never prepaid is rejected (dead-lettered at once);
/// while MySQL is unreachable payments are postponed (redelivered without counting). None stops the
/// loop. After the batch the sync outbox rows are published; a crash before that is covered by the
/// syncer's outbox sweeper (rows pending with published_at NULL).
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
        var settled = new ConcurrentQueue<SyncRequested>();
        var duplicates = new ConcurrentQueue<long>();
        var queue = new ConcurrentQueue<ConsumedMessage>(batch);
        var lanes = Math.Min(_options.MaxParallelism, batch.Count);
        await Task.WhenAll(Enumerable.Range(0, lanes).Select(_ => SettleLaneAsync(queue, settled, duplicates, ct)));
        // Once per batch rather than per payment: the XADDs are pipelined and published_at is set in two statements.
        await PublishAsync([.. settled], [.. duplicates], ct);
    }

    public async Task<ConsumedMessage> SettleAsync(PaymentSucceeded payment, CancellationToken ct)
    {
        var message = new ConsumedMessage(RedisValue.Null,
            new Envelope(MessageTypes.PaymentSucceeded, 1, payment.OutTradeNo, JsonSerializer.Serialize(payment, StreamPublisher.Json), time.GetUtcNow()),
            formatError: null, deliveries: 1);
        await HandleAsync([message], ct);
        return message;
    }

    /// <summary>
    /// One lane takes payments off the batch's queue until it is empty, each in its own transaction on
    /// the lane's connection: opening a pooled connection per payment would add a reset round trip to
    /// each. The connection is shelved for the next batch's lanes when the queue is done; after an
    /// error it is disposed instead, as it may be broken.
    /// </summary>
    private async Task SettleLaneAsync(ConcurrentQueue<ConsumedMessage> queue, ConcurrentQueue<SyncRequested> settled, ConcurrentQueue<long> duplicates, CancellationToken ct)
    {
        MySqlConnection? connection = null;
        try
        {
            while (!ct.IsCancellationRequested && queue.TryDequeue(out var message))
            {
                if (Read(message) is not { } payment)
                {
                    continue;
                }

                SettleResult result;
                try
                {
                    connection ??= await _connections.TakeAsync(ct);
                    result = await store.SettleAsync(connection, payment, ct);
                }
                catch (AttemptNeverPrepaidException ex)
                {
                    message.Reject(ex.Message);
                    SettlementMetrics.Payments.WithLabels("rejected").Inc();
                    logger.LogError("Payment {OutTradeNo} names an attempt that was never prepaid (forged or corrupt entry): dead-lettered, not settled",
                        payment.OutTradeNo);
                    continue;
                }
                catch (Exception ex) when (ex is SettlementRejectedException or MySqlException or InvalidOperationException or TimeoutException or IOException)
                {
                    if (DependencyUnavailableException.IsDatabaseUnreachable(ex))
                    {
                        // Not the payment's fault: retried after the outage without counting the delivery.
                        message.Postpone(ex.Message);
                        SettlementMetrics.Payments.WithLabels("postponed").Inc();
                        logger.LogWarning("Payment {OutTradeNo} postponed, MySQL unreachable: {Error}", payment.OutTradeNo, ex.Message);
                    }
                    else
                    {
                        message.Fail(ex.Message);
                        SettlementMetrics.Payments.WithLabels("failed").Inc();
                        logger.LogWarning("Payment {OutTradeNo} not settled (delivery {Deliveries}): {Error}", payment.OutTradeNo, message.Deliveries, ex.Message);
                    }

                    if (connection is not null)
                    {
                        await connection.DisposeAsync();
                        connection = null;
                    }

                    continue;
                }

                Record(message, payment, result, settled, duplicates);
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

    private void Record(ConsumedMessage message, PaymentSucceeded payment, SettleResult result, ConcurrentQueue<SyncRequested> settled, ConcurrentQueue<long> duplicates)
    {
        if (result.Outcome == SettleOutcome.Settled)
        {
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
        }
        else
        {
            SettlementMetrics.Payments.WithLabels("duplicate").Inc();
            message.Done();
            duplicates.Enqueue(result.OrderId);
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
    /// Best effort: the entries are settled whatever happens here; the outbox sweeper re-publishes
    /// what is left. Orders seen again as duplicates may be a retry after a crash between commit and
    /// publish, so their still-unpublished rows go out now rather than waiting for the sweeper.
    /// </summary>
    private async Task PublishAsync(List<SyncRequested> outbox, List<long> duplicateOrders, CancellationToken ct)
    {
        if (outbox.Count == 0 && duplicateOrders.Count == 0)
        {
            return;
        }

        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            if (duplicateOrders.Count > 0)
            {
                outbox.AddRange((await connection.QueryAsync<(string Entity, long EntityId)>(new CommandDefinition(
                    "SELECT entity, entity_id FROM sync_records WHERE order_id IN @Orders AND status = 'pending' AND published_at IS NULL",
                    new { Orders = duplicateOrders.Distinct().ToArray() }, cancellationToken: ct))).Select(r => new SyncRequested(r.Entity, r.EntityId)));
            }

            if (outbox.Count == 0)
            {
                return;
            }

            await Task.WhenAll(outbox.Select(item => publisher.PublishAsync(StreamNames.Sync, MessageTypes.SyncRequested, item.Key, item)));
            foreach (var group in outbox.GroupBy(i => i.Entity))
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE sync_records SET published_at = @Now WHERE entity = @Entity AND entity_id IN @Ids AND published_at IS NULL",
                    new { Now = time.GetUtcNow().UtcDateTime, Entity = group.Key, Ids = group.Select(i => i.Id).ToArray() },
                    cancellationToken: ct));
            }
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or MySqlException or TimeoutException)
        {
            logger.LogWarning(ex, "Publishing {Count} sync requests failed; the outbox sweeper re-publishes them", outbox.Count);
        }
    }
}
