using System.Text.Json;
using Dmh.Contracts;
using Dmh.Platform.Streams;

namespace Dmh.Settlement.Tracking;

/// <summary>
/// Rolls a batch of <see cref="TrackBatch"/> entries up in one transaction (<see cref="TrackRollupStore"/>).
/// Malformed entries are rejected (dead-lettered); the rest are done together or not at all, and a
/// batch key counted before is skipped, so redelivery and replays count once.
/// </summary>
public sealed class TrackRollupHandler(TrackRollupStore store, ILogger<TrackRollupHandler> logger) : IStreamHandler
{
    public async Task HandleAsync(IReadOnlyList<ConsumedMessage> batch, CancellationToken ct)
    {
        var good = new List<(ConsumedMessage Message, TrackBatch Batch)>(batch.Count);
        foreach (var message in batch)
        {
            if (Parse(message) is { } parsed)
            {
                good.Add((message, parsed));
            }
        }

        if (good.Count > 0)
        {
            var counted = await store.ApplyAsync([.. good.Select(g => g.Batch)], ct);
            logger.LogDebug("Tracking: {Counted} of {Count} batches counted", counted, good.Count);
        }

        foreach (var (message, _) in good)
        {
            message.Done();
        }
    }

    private static TrackBatch? Parse(ConsumedMessage message)
    {
        if (message.Envelope is not { Type: MessageTypes.TrackBatch } envelope)
        {
            message.Reject(message.FormatError ?? $"not a {MessageTypes.TrackBatch}: {message.Envelope?.Type}");
            return null;
        }

        try
        {
            var batch = JsonSerializer.Deserialize<TrackBatch>(envelope.Payload, StreamPublisher.Json);
            if (batch is null || string.IsNullOrEmpty(batch.BatchId) || string.IsNullOrEmpty(batch.VisitorId) || batch.CampaignId <= 0
                || batch.Events is null || batch.Channel is null || batch.Referrer is null
                || batch.Channel.Length > TrackRollupStore.MaxChannelLength || batch.Referrer.Length > TrackRollupStore.MaxReferrerLength
                || batch.VisitorId.Length > TrackRollupStore.MaxIdLength || batch.BatchId.Length > TrackRollupStore.MaxIdLength)
            {
                message.Reject("tracking batch lacks a field or has one too long");
                return null;
            }

            return batch;
        }
        catch (JsonException ex)
        {
            message.Reject("tracking batch is not valid JSON: " + ex.Message);
            return null;
        }
    }
}
