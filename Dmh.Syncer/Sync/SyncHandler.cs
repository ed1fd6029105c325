using System.Text.Json;
using Dmh.Contracts;
using Dmh.Platform.Streams;
using Dmh.Syncer.Target;
using Microsoft.Extensions.Options;
using Prometheus;

namespace Dmh.Syncer.Sync;

/// <summary>
/// Consumes <see cref="SyncRequested"/> in batches: reads the rows from MySQL, maps them, writes them
/// to the customer's database idempotently, and records the outcome in sync_records. Every entry
/// whose outcome is recorded is acknowledged, whatever the outcome: rows to try again are re-queued
/// by <see cref="OutboxSweeper"/> from sync_records, not by redelivery.
/// </summary>
public sealed class SyncHandler(
    SyncStore store,
    TargetWriter writer,
    IOptions<ExternalSyncOptions> options,
    TimeProvider time,
    ILogger<SyncHandler> logger) : IStreamHandler
{
    private static readonly Counter Rows = Metrics.CreateCounter("dmh_sync_rows_total", "Rows handed to the target, by table and outcome (synced, rejected, failed, deferred).", "table", "outcome");
    private static readonly Histogram BatchSize = Metrics.CreateHistogram("dmh_sync_batch_size", "Rows per target batch.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 2, 14) });
    private static readonly Histogram Delay = Metrics.CreateHistogram("dmh_sync_delay_seconds", "From the settlement commit (sync_records.committed_at) to the row in the target.",
        new HistogramConfiguration { LabelNames = ["table"], Buckets = Histogram.ExponentialBuckets(0.005, 2, 16) });

    private readonly ExternalSyncOptions _options = options.Value;
    private readonly FieldMapper _orders = new(options.Value.Orders);
    private readonly FieldMapper _rewards = new(options.Value.Rewards);
    private readonly FieldMapper _reversals = new(options.Value.Reversals);

    public async Task HandleAsync(IReadOnlyList<ConsumedMessage> batch, CancellationToken ct)
    {
        var requests = new List<(ConsumedMessage Message, SyncRequested Request)>();
        foreach (var message in batch)
        {
            var request = Parse(message);
            if (request is null)
            {
                // Malformed: stays pending and is dead-lettered after the configured deliveries.
                message.Fail(message.FormatError ?? "not a SyncRequested {entity: order|reward|reversal, id}");
                continue;
            }

            requests.Add((message, request));
        }

        foreach (var group in requests.GroupBy(r => r.Request.Entity))
        {
            var ids = group.Select(r => r.Request.Id).Distinct().ToList();
            foreach (var chunk in ids.Chunk(_options.BatchSize))
            {
                await SyncAsync(group.Key, chunk, ct);
            }

            foreach (var (message, _) in group)
            {
                message.Done();
            }
        }
    }

    private async Task SyncAsync(string entity, IReadOnlyList<long> ids, CancellationToken ct)
    {
        var mapper = entity switch { SyncEntities.Order => _orders, SyncEntities.Reward => _rewards, _ => _reversals };
        var table = mapper.Mapping.Table;
        var records = await store.LoadRecordsAsync(entity, ids);
        // Synced rows are done; failed rows wait for an operator's retry (which makes them pending again).
        var todo = ids.Where(id => !records.TryGetValue(id, out var r) || r.Status == SyncStatus.Pending).ToList();
        if (todo.Count == 0)
        {
            return;
        }

        var source = await store.LoadSourceAsync(entity, todo);
        await store.MarkMissingAsync(entity, todo.Where(id => !source.ContainsKey(id)).ToList());
        todo = todo.Where(source.ContainsKey).ToList();
        await store.EnsureRecordsAsync(entity, todo.Where(id => !records.ContainsKey(id))
            .Select(id => (id, entity == SyncEntities.Order ? id : Convert.ToInt64(source[id]["order_id"], System.Globalization.CultureInfo.InvariantCulture))));
        if (todo.Count == 0)
        {
            return;
        }

        var rows = todo.Select(id => (id, mapper.Map(id, source[id]))).ToList();
        BatchSize.Observe(rows.Count);
        var result = await writer.WriteAsync(mapper, rows, ct);

        await store.MarkSyncedAsync(entity, result.Written);
        Rows.WithLabels(table, "synced").Inc(result.Written.Count);
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var id in result.Written)
        {
            if (records.TryGetValue(id, out var r))
            {
                Delay.WithLabels(table).Observe(Math.Max(0, (now - DateTime.SpecifyKind(r.CommittedAt, DateTimeKind.Utc)).TotalSeconds));
            }
        }

        if (result.Rejected.Count > 0)
        {
            await store.MarkRejectedAsync(entity, result.Rejected, _options.MaxAttempts, RetryDelay);
            Rows.WithLabels(table, "rejected").Inc(result.Rejected.Count);
            foreach (var (id, error) in result.Rejected)
            {
                logger.LogWarning("Target {Table} refused {Entity} {Id}: {Error}", table, entity, id, error);
            }
        }

        if (result.Deferred.Count > 0)
        {
            await store.MarkDeferredAsync(entity, result.Deferred, result.DeferredError ?? "target unavailable", now + _options.RetryDelay);
            Rows.WithLabels(table, "deferred").Inc(result.Deferred.Count);
            logger.LogWarning("Target {Table} unavailable; {Count} {Entity} rows deferred: {Error}", table, result.Deferred.Count, entity, result.DeferredError);
        }
    }

    private TimeSpan RetryDelay(int attempts)
    {
        var factor = Math.Pow(2, Math.Min(attempts - 1, 20));
        var delay = TimeSpan.FromMilliseconds(_options.RetryDelay.TotalMilliseconds * factor);
        return delay < _options.MaxRetryDelay ? delay : _options.MaxRetryDelay;
    }

    private static SyncRequested? Parse(ConsumedMessage message)
    {
        if (message.Envelope is not { Type: MessageTypes.SyncRequested } envelope)
        {
            return null;
        }

        try
        {
            var request = JsonSerializer.Deserialize<SyncRequested>(envelope.Payload, StreamPublisher.Json);
            return request is { Entity: SyncEntities.Order or SyncEntities.Reward or SyncEntities.Reversal, Id: > 0 } ? request : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
