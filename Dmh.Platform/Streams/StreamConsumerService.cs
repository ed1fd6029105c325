using Dmh.Contracts;
using Dmh.Platform.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prometheus;
using StackExchange.Redis;

namespace Dmh.Platform.Streams;

/// <summary>
/// A consumer-group loop over one stream, after JasperFx/wolverine's RedisStreamListener:
/// creates the group (MKSTREAM) before the loop, first drains this consumer's own pending entries
/// (a restart after a crash), then alternates XREADGROUP with periodic XAUTOCLAIM of entries idle
/// longer than <see cref="StreamConsumerOptions.ClaimIdle"/> (dead consumers, failed handling).
/// New entries are handled in batches; an entry taken over (or re-read after a restart) is handled on
/// its own, so a consumer killed in the middle of a batch costs each entry of the batch one delivery,
/// and after that only the entry it was handling when it died is charged (issue 22: a crash loop of
/// Settlement otherwise dead-lettered whole batches of good payments).
/// An entry delivered more than <see cref="StreamConsumerOptions.MaxDeliveries"/> times, rejected by
/// the handler, or found deleted from the stream while pending is copied to the dead-letter stream and
/// recorded through the host's <see cref="IDeadLetterStore"/>, then acked, so one poison entry never
/// blocks the rest and no entry vanishes unseen. While the handler's database is unreachable the loop
/// backs off and gives the deliveries back (issue 15, M4), so an outage does not dead-letter every
/// entry in flight.
/// The loop catches and backs off on every error: an unhandled exception would stop the host.
/// </summary>
public sealed class StreamConsumerService<THandler>(
    IConnectionMultiplexer redis,
    RedisKeys keys,
    IOptionsMonitor<StreamConsumerOptions> optionsMonitor,
    THandler handler,
    IDeadLetterStore deadLetters,
    TimeProvider time,
    ILogger<StreamConsumerService<THandler>> logger) : BackgroundService
    where THandler : IStreamHandler
{
    private static readonly Counter Messages = Metrics.CreateCounter(
        "dmh_stream_messages_total", "Stream entries handled, by outcome (acked, failed, postponed, dead_lettered).",
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
        var unavailablePause = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var unavailable = false;
                if (time.GetUtcNow() >= nextClaim)
                {
                    unavailable = await ClaimStaleAsync(db, stream, consumer);
                    await ObserveAsync(db, stream);
                    nextClaim = time.GetUtcNow() + _options.ClaimInterval;
                }

                if (!unavailable)
                {
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

                    unavailable = await HandleAsync(db, stream, consumer, entries, deliveries: null);
                }

                if (unavailable)
                {
                    // Nothing is read while the database is down; the postponed entries come back by XAUTOCLAIM.
                    unavailablePause = _options.NextUnavailableBackoff(unavailablePause);
                    logger.LogWarning("Consumer {Consumer}: database unreachable; backing off {Backoff}", consumer, unavailablePause);
                    await Task.Delay(unavailablePause, time, stoppingToken);
                }
                else
                {
                    unavailablePause = TimeSpan.Zero;
                }
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

    /// <summary>
    /// After a restart, entries delivered to this consumer name before the crash come first. Stops
    /// early when the database is unreachable: the rest come back by XAUTOCLAIM.
    /// </summary>
    private async Task DrainOwnPendingAsync(IDatabase db, RedisKey stream, string consumer)
    {
        RedisValue position = StreamPosition.Beginning;
        while (true)
        {
            // One at a time: each read of a pending entry counts a delivery (see ClaimStaleAsync).
            var entries = await db.StreamReadGroupAsync(stream, _options.Group, consumer, position, 1);
            if (entries.Length == 0)
            {
                return;
            }

            if (await HandleAsync(db, stream, consumer, entries, await DeliveryCountsAsync(db, stream, consumer, entries)))
            {
                return;
            }

            position = entries[^1].Id;
        }
    }

    /// <summary>
    /// Takes over entries idle longer than ClaimIdle, one claim and one handling per entry; true when
    /// the database was unreachable. Claiming a batch would count a delivery for every entry in it, so
    /// a consumer killed from outside while handling the batch would charge all of them, again on
    /// every restart, until good entries were dead-lettered. One at a time, a consumer that dies charges
    /// only the entry it was handling: an entry that kills its consumer is still dead-lettered after
    /// MaxDeliveries, the others are not.
    /// </summary>
    private async Task<bool> ClaimStaleAsync(IDatabase db, RedisKey stream, string consumer)
    {
        RedisValue start = "0-0";
        do
        {
            var result = await db.StreamAutoClaimAsync(stream, _options.Group, consumer,
                (long)_options.ClaimIdle.TotalMilliseconds, start, 1);
            // Redis 7 drops pending entries that are no longer in the stream from the group and only
            // reports their ids here: without a dead letter they would vanish unseen.
            foreach (var id in result.DeletedIds ?? [])
            {
                await DeadLetterDeletedAsync(db, consumer, id, deliveries: 0);
            }

            if (result.ClaimedEntries.Length > 0)
            {
                logger.LogInformation("Consumer {Consumer} took over stale entry {EntryId}", consumer, (string?)result.ClaimedEntries[0].Id);
                if (await HandleAsync(db, stream, consumer, result.ClaimedEntries,
                        await DeliveryCountsAsync(db, stream, consumer, result.ClaimedEntries)))
                {
                    return true;
                }
            }

            start = result.NextStartId;
        }
        while (start != "0-0" && !start.IsNull);

        return false;
    }

    private async Task<Dictionary<string, long>> DeliveryCountsAsync(IDatabase db, RedisKey stream, string consumer, StreamEntry[] entries)
    {
        var pending = await db.StreamPendingMessagesAsync(stream, _options.Group, entries.Length, consumer,
            entries[0].Id, entries[^1].Id);
        return pending.ToDictionary(p => (string)p.MessageId!, p => (long)p.DeliveryCount);
    }

    /// <summary>Hands the entries to the handler and settles each one's fate; true when the database was unreachable.</summary>
    private async Task<bool> HandleAsync(IDatabase db, RedisKey stream, string consumer, StreamEntry[] entries, Dictionary<string, long>? deliveries)
    {
        var batch = new List<(ConsumedMessage Message, NameValueEntry[] Values)>(entries.Length);
        var acks = new List<RedisValue>();
        foreach (var entry in entries)
        {
            var count = deliveries is not null && deliveries.TryGetValue((string)entry.Id!, out var c) ? c : 1;
            if (entry.IsNull || entry.Values is null || entry.Values.Length == 0)
            {
                // Deleted from the stream while pending (a length cap, XTRIM or XDEL): acknowledging it
                // silently would lose the work without a trace.
                await DeadLetterDeletedAsync(db, consumer, entry.Id, count);
                acks.Add(entry.Id);
                continue;
            }

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
                var error = formatError ?? _lastErrors.GetValueOrDefault((string)entry.Id!) ?? $"delivered {count} times";
                await DeadLetterAsync(db, consumer, entry.Id, entry.Values, envelope, count, error);
                acks.Add(entry.Id);
                continue;
            }

            batch.Add((message, entry.Values));
        }

        if (batch.Count > 0)
        {
            try
            {
                // In-flight work finishes on shutdown (graceful drain); the host's timeout bounds it.
                await handler.HandleAsync(batch.ConvertAll(b => b.Message), CancellationToken.None);
            }
            catch (Exception ex)
            {
                var unavailable = DependencyUnavailableException.IsDatabaseUnreachable(ex);
                logger.LogError(ex, "Handler {Handler} failed on a batch of {Count}", typeof(THandler).Name, batch.Count);
                foreach (var (m, _) in batch.Where(b => !b.Message.IsDone))
                {
                    if (unavailable)
                    {
                        m.Postpone(ex.Message);
                    }
                    else
                    {
                        m.Fail(ex.Message);
                    }
                }
            }
        }

        var postponed = new List<ConsumedMessage>();
        foreach (var (message, values) in batch)
        {
            switch (message.Outcome)
            {
                case MessageOutcome.Done:
                    acks.Add(message.Id);
                    break;

                case MessageOutcome.Rejected:
                    await DeadLetterAsync(db, consumer, message.Id, values, message.Envelope, message.Deliveries, message.Error ?? "rejected");
                    acks.Add(message.Id);
                    break;

                case MessageOutcome.Postponed:
                    postponed.Add(message);
                    break;

                default:
                    Messages.WithLabels(_options.Stream, _options.Group, "failed").Inc();
                    logger.LogWarning("Entry {EntryId} of {Stream} failed (delivery {Deliveries}): {Error}",
                        (string?)message.Id, _options.Stream, message.Deliveries, message.Error ?? "not handled");
                    _lastErrors[(string)message.Id!] = message.Error ?? "not handled";
                    break;
            }
        }

        if (postponed.Count > 0)
        {
            await GiveBackDeliveriesAsync(db, stream, consumer, postponed);
            Messages.WithLabels(_options.Stream, _options.Group, "postponed").Inc(postponed.Count);
            logger.LogWarning("{Count} entries of {Stream} postponed, not counted as deliveries: {Error}",
                postponed.Count, _options.Stream, postponed[0].Error);
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

        return postponed.Count > 0;
    }

    /// <summary>
    /// Sets each postponed entry's delivery counter back to what it was before this delivery
    /// (XCLAIM … RETRYCOUNT n JUSTID, which also leaves it pending with this consumer), so that
    /// deliveries during a database outage never count toward <see cref="StreamConsumerOptions.MaxDeliveries"/>.
    /// </summary>
    private async Task GiveBackDeliveriesAsync(IDatabase db, RedisKey stream, string consumer, List<ConsumedMessage> postponed)
    {
        foreach (var sameCount in postponed.GroupBy(m => Math.Max(0, m.Deliveries - 1)))
        {
            var args = new List<object> { stream, _options.Group, consumer, 0 };
            args.AddRange(sameCount.Select(m => (object)m.Id));
            args.AddRange(["RETRYCOUNT", sameCount.Key, "JUSTID"]);
            await db.ExecuteAsync("XCLAIM", args);
        }
    }

    private Task DeadLetterDeletedAsync(IDatabase db, string consumer, RedisValue entryId, long deliveries) =>
        DeadLetterAsync(db, consumer, entryId, [], null, deliveries,
            "Deleted from the stream before it was acknowledged (trimmed or XDEL): its content is lost. " +
            "Payments are found again by reconciliation, sync rows by the outbox sweeper.");

    private async Task DeadLetterAsync(IDatabase db, string consumer, RedisValue entryId, NameValueEntry[] values, Envelope? envelope, long deliveries, string error)
    {
        var fields = new List<NameValueEntry>
        {
            new("stream", _options.Stream),
            new("entryId", entryId),
            new("group", _options.Group),
            new("consumer", consumer),
            new("deliveries", deliveries),
            new("error", error),
        };
        fields.AddRange(values);
        // Nothing reads the dead-letter stream through a group, so a length cap loses no pending work there.
        await db.StreamAddAsync(keys.For(StreamNames.DeadLetters), fields.ToArray(), maxLength: StreamPublisher.DeadLetterMaxLength, useApproximateMaxLength: true);

        try
        {
            await deadLetters.RecordAsync(new DeadLetter(
                _options.Stream,
                entryId.ToString(),
                _options.Group,
                consumer,
                deliveries,
                envelope?.Type,
                envelope?.Key,
                envelope?.Payload ?? (values.Length > 0 ? string.Join(", ", values.Select(v => $"{v.Name}={v.Value}")) : null),
                error), CancellationToken.None);
        }
        catch (Exception ex)
        {
            // The dead-letter stream already holds it; the store is the operators' view.
            logger.LogError(ex, "Could not record dead letter {EntryId} in the dead-letter store", (string?)entryId);
        }

        Messages.WithLabels(_options.Stream, _options.Group, "dead_lettered").Inc();
        _lastErrors.Remove((string)entryId!);
        logger.LogError("Dead-lettered {EntryId} of {Stream} after {Deliveries} deliveries: {Error}",
            (string?)entryId, _options.Stream, deliveries, error);
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
