using Dapper;
using Dmh.Contracts;
using Dmh.Platform.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Prometheus;
using StackExchange.Redis;

namespace Dmh.Platform.Streams;

/// <summary>
/// A consumer-group loop over one stream, after JasperFx/wolverine's RedisStreamListener:
/// creates the group (MKSTREAM) before the loop, first drains this consumer's own pending entries
/// (a restart after a crash), then alternates XREADGROUP with periodic XAUTOCLAIM of entries idle
/// longer than <see cref="StreamConsumerOptions.ClaimIdle"/> (dead consumers, failed handling).
/// An entry delivered more than <see cref="StreamConsumerOptions.MaxDeliveries"/> times is copied to
/// the dead-letter stream and table, then acked, so one poison entry never blocks the rest.
/// The loop catches and backs off on every error: an unhandled exception would stop the host.
/// </summary>
public sealed class StreamConsumerService<THandler>(
    IConnectionMultiplexer redis,
    RedisKeys keys,
    IOptionsMonitor<StreamConsumerOptions> optionsMonitor,
    THandler handler,
    MySqlDataSource dataSource,
    TimeProvider time,
    ILogger<StreamConsumerService<THandler>> logger) : BackgroundService
    where THandler : IStreamHandler
{
    private static readonly Counter Messages = Metrics.CreateCounter(
        "dmh_stream_messages_total", "Stream entries handled, by outcome (acked, failed, dead_lettered).",
        "stream", "group", "outcome");
    private static readonly Gauge Pending = Metrics.CreateGauge(
        "dmh_stream_pending", "Entries delivered to the group and not yet acknowledged.", "stream", "group");
    private static readonly Gauge Lag = Metrics.CreateGauge(
        "dmh_stream_lag", "Entries in the stream not yet delivered to the group.", "stream", "group");

    private readonly StreamConsumerOptions _options = optionsMonitor.Get(typeof(THandler).FullName);

    // Last error per failed entry, so a dead letter says why; lost on restart, which only costs the text.
    private readonly Dictionary<string, string> _lastErrors = [];

    public string ConsumerName => _options.ResolveConsumerName();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var stream = keys.For(_options.Stream);
        var consumer = ConsumerName;
        var db = redis.GetDatabase();
        logger.LogInformation("Consumer {Consumer} starting on {Stream}/{Group}", consumer, (string?)stream, _options.Group);

        await RetryUntilAsync(() => EnsureGroupAsync(db, stream), stoppingToken);
        await RetryUntilAsync(() => DrainOwnPendingAsync(db, stream, consumer), stoppingToken);

        var nextClaim = time.GetUtcNow() + _options.ClaimInterval;
        var idlePause = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (time.GetUtcNow() >= nextClaim)
                {
                    await ClaimStaleAsync(db, stream, consumer);
                    await ObserveAsync(db, stream);
                    nextClaim = time.GetUtcNow() + _options.ClaimInterval;
                }

                var entries = await db.StreamReadGroupAsync(stream, _options.Group, consumer, StreamPosition.NewMessages, _options.BatchSize);
                if (entries.Length == 0)
                {
                    idlePause = _options.NextIdlePause(idlePause);
                    await Task.Delay(idlePause, time, stoppingToken);
                    continue;
                }

                idlePause = TimeSpan.Zero;

                if (_options.BatchWindow > TimeSpan.Zero && entries.Length < _options.BatchSize)
                {
                    entries = await FillBatchAsync(db, stream, consumer, entries, stoppingToken);
                }

                await HandleAsync(db, stream, consumer, entries, deliveries: null);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Consumer {Consumer} loop failed; backing off {Backoff}", consumer, _options.ErrorBackoff);
                await DelayQuietlyAsync(_options.ErrorBackoff, stoppingToken);
            }
        }

        logger.LogInformation("Consumer {Consumer} stopped", consumer);
    }

    /// <summary>Reads more new entries until the batch is full or <see cref="StreamConsumerOptions.BatchWindow"/> has passed.</summary>
    private async Task<StreamEntry[]> FillBatchAsync(IDatabase db, RedisKey stream, string consumer, StreamEntry[] first, CancellationToken ct)
    {
        var batch = new List<StreamEntry>(first);
        var deadline = time.GetUtcNow() + _options.BatchWindow;
        while (batch.Count < _options.BatchSize)
        {
            var left = deadline - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                break;
            }

            var more = await db.StreamReadGroupAsync(stream, _options.Group, consumer, StreamPosition.NewMessages, _options.BatchSize - batch.Count);
            if (more.Length == 0)
            {
                await Task.Delay(left < _options.PollInterval ? left : _options.PollInterval, time, ct);
                continue;
            }

            batch.AddRange(more);
        }

        return [.. batch];
    }

    private async Task EnsureGroupAsync(IDatabase db, RedisKey stream)
    {
        try
        {
            // From "0": entries published before the group existed are still settled.
            await db.StreamCreateConsumerGroupAsync(stream, _options.Group, StreamPosition.Beginning, createStream: true);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // The group exists already: the normal case after the first start.
        }
    }

    /// <summary>After a restart, entries delivered to this consumer name before the crash come first.</summary>
    private async Task DrainOwnPendingAsync(IDatabase db, RedisKey stream, string consumer)
    {
        RedisValue position = StreamPosition.Beginning;
        while (true)
        {
            var entries = await db.StreamReadGroupAsync(stream, _options.Group, consumer, position, _options.BatchSize);
            if (entries.Length == 0)
            {
                return;
            }

            await HandleAsync(db, stream, consumer, entries, await DeliveryCountsAsync(db, stream, consumer, entries));
            position = entries[^1].Id;
        }
    }

    private async Task ClaimStaleAsync(IDatabase db, RedisKey stream, string consumer)
    {
        RedisValue start = "0-0";
        do
        {
            var result = await db.StreamAutoClaimAsync(stream, _options.Group, consumer,
                (long)_options.ClaimIdle.TotalMilliseconds, start, _options.BatchSize);
            if (result.ClaimedEntries.Length > 0)
            {
                logger.LogInformation("Consumer {Consumer} took over {Count} stale entries", consumer, result.ClaimedEntries.Length);
                await HandleAsync(db, stream, consumer, result.ClaimedEntries,
                    await DeliveryCountsAsync(db, stream, consumer, result.ClaimedEntries));
            }

            start = result.NextStartId;
        }
        while (start != "0-0" && !start.IsNull);
    }

    private async Task<Dictionary<string, long>> DeliveryCountsAsync(IDatabase db, RedisKey stream, string consumer, StreamEntry[] entries)
    {
        var pending = await db.StreamPendingMessagesAsync(stream, _options.Group, entries.Length, consumer,
            entries[0].Id, entries[^1].Id);
        return pending.ToDictionary(p => (string)p.MessageId!, p => (long)p.DeliveryCount);
    }

    private async Task HandleAsync(IDatabase db, RedisKey stream, string consumer, StreamEntry[] entries, Dictionary<string, long>? deliveries)
    {
        var batch = new List<ConsumedMessage>(entries.Length);
        var acks = new List<RedisValue>();
        foreach (var entry in entries)
        {
            if (entry.IsNull || entry.Values is null || entry.Values.Length == 0)
            {
                // Trimmed from the stream while pending: nothing left to handle.
                acks.Add(entry.Id);
                continue;
            }

            var count = deliveries is not null && deliveries.TryGetValue((string)entry.Id!, out var c) ? c : 1;
            Envelope? envelope = null;
            string? formatError = null;
            try
            {
                envelope = StreamPublisher.FromFields(entry.Values);
            }
            catch (FormatException ex)
            {
                formatError = ex.Message;
            }

            var message = new ConsumedMessage(entry.Id, envelope, formatError, count);
            if (count > _options.MaxDeliveries)
            {
                await DeadLetterAsync(db, stream, consumer, entry, message);
                acks.Add(entry.Id);
                continue;
            }

            batch.Add(message);
        }

        if (batch.Count > 0)
        {
            try
            {
                // In-flight work finishes on shutdown (graceful drain); the host's timeout bounds it.
                await handler.HandleAsync(batch, CancellationToken.None);
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Handler {Handler} failed on a batch of {Count}", typeof(THandler).Name, batch.Count);
                foreach (var m in batch.Where(m => !m.IsDone))
                {
                    m.Fail(ex.Message);
                }
            }
        }

        foreach (var message in batch)
        {
            if (message.IsDone)
            {
                acks.Add(message.Id);
            }
            else
            {
                Messages.WithLabels(_options.Stream, _options.Group, "failed").Inc();
                logger.LogWarning("Entry {EntryId} of {Stream} failed (delivery {Deliveries}): {Error}",
                    (string?)message.Id, _options.Stream, message.Deliveries, message.Error ?? "not handled");
                _lastErrors[(string)message.Id!] = message.Error ?? "not handled";
            }
        }

        if (acks.Count > 0)
        {
            await db.StreamAcknowledgeAsync(stream, _options.Group, acks.ToArray());
            Messages.WithLabels(_options.Stream, _options.Group, "acked").Inc(acks.Count);
            foreach (var id in acks)
            {
                _lastErrors.Remove((string)id!);
            }
        }
    }

    private async Task DeadLetterAsync(IDatabase db, RedisKey stream, string consumer, StreamEntry entry, ConsumedMessage message)
    {
        var error = message.FormatError ?? _lastErrors.GetValueOrDefault((string)entry.Id!) ?? $"delivered {message.Deliveries} times";
        var fields = new List<NameValueEntry>
        {
            new("stream", _options.Stream),
            new("entryId", entry.Id),
            new("group", _options.Group),
            new("consumer", consumer),
            new("deliveries", message.Deliveries),
            new("error", error),
        };
        fields.AddRange(entry.Values);
        await db.StreamAddAsync(keys.For(StreamNames.DeadLetters), fields.ToArray(), maxLength: StreamPublisher.MaxLength, useApproximateMaxLength: true);

        try
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            await connection.ExecuteAsync("""
                INSERT IGNORE INTO dead_letters (stream, entry_id, group_name, consumer, deliveries, message_type, message_key, payload, error)
                VALUES (@Stream, @EntryId, @Group, @Consumer, @Deliveries, @Type, @Key, @Payload, @Error)
                """,
                new
                {
                    _options.Stream,
                    EntryId = (string?)entry.Id,
                    _options.Group,
                    Consumer = consumer,
                    message.Deliveries,
                    message.Envelope?.Type,
                    message.Envelope?.Key,
                    Payload = message.Envelope?.Payload ?? string.Join(", ", entry.Values.Select(v => $"{v.Name}={v.Value}")),
                    Error = error,
                });
        }
        catch (MySqlException ex)
        {
            // The dead-letter stream already holds it; the table is the operators' view.
            logger.LogError(ex, "Could not record dead letter {EntryId} in MySQL", (string?)entry.Id);
        }

        Messages.WithLabels(_options.Stream, _options.Group, "dead_lettered").Inc();
        _lastErrors.Remove((string)entry.Id!);
        logger.LogError("Dead-lettered {EntryId} of {Stream} after {Deliveries} deliveries: {Error}",
            (string?)entry.Id, _options.Stream, message.Deliveries, error);
    }

    private async Task ObserveAsync(IDatabase db, RedisKey stream)
    {
        var pending = await db.StreamPendingAsync(stream, _options.Group);
        Pending.WithLabels(_options.Stream, _options.Group).Set(pending.PendingMessageCount);
        foreach (var group in await db.StreamGroupInfoAsync(stream))
        {
            if (group.Name == _options.Group && group.Lag is { } lag)
            {
                Lag.WithLabels(_options.Stream, _options.Group).Set(lag);
            }
        }
    }

    private async Task RetryUntilAsync(Func<Task> step, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await step();
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or RedisTimeoutException)
            {
                logger.LogError(ex, "Consumer set-up failed; retrying in {Backoff}", _options.ErrorBackoff);
                await DelayQuietlyAsync(_options.ErrorBackoff, ct);
            }
        }
    }

    private async Task DelayQuietlyAsync(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, time, ct);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
