using System.Text.Json;
using Dmh.Contracts;
using Dmh.Platform.Hosting;
using Dmh.Platform.Streams;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Notices;

/// <summary>
/// The notifier's consumer (group <c>notifier</c> on <c>dmh:reward-changed</c>): the batch's notices that
/// no channel can carry are skipped together, each other one is claimed and sent, or left to the retry
/// sweep; the entries are acknowledged either way, since the notice row, not the stream, holds what is
/// left to do.
/// </summary>
public sealed class RewardNoticeHandler(RewardNotifier notifier) : IStreamHandler
{
    public async Task HandleAsync(IReadOnlyList<ConsumedMessage> batch, CancellationToken ct)
    {
        var changes = new List<(ConsumedMessage Message, long LedgerId)>(batch.Count);
        foreach (var message in batch)
        {
            if (message.Envelope is not { Type: MessageTypes.RewardChanged } envelope)
            {
                message.Reject(message.FormatError ?? $"Not a {MessageTypes.RewardChanged}: {message.Envelope?.Type}");
                continue;
            }

            RewardChanged? change;
            try
            {
                change = JsonSerializer.Deserialize<RewardChanged>(envelope.Payload, StreamPublisher.Json);
            }
            catch (JsonException ex)
            {
                message.Reject(ex.Message);
                continue;
            }

            if (change is null)
            {
                message.Reject("Empty payload.");
                continue;
            }

            changes.Add((message, change.LedgerId));
        }

        foreach (var ledgerId in await notifier.SkipUnreachableAsync([.. changes.Select(c => c.LedgerId).Distinct()], ct))
        {
            await notifier.NotifyAsync(ledgerId, ct);
        }

        foreach (var (message, _) in changes)
        {
            message.Done();
        }
    }
}

/// <summary>Retries notices that are due again, sends those whose event was lost, and fails claims of notifiers that stopped mid-send.</summary>
public sealed class NoticeRetryService(RewardNotifier notifier, IOptions<NoticeOptions> options, TimeProvider time, ILogger<NoticeRetryService> logger)
    : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicSweep.RunAsync(notifier.SweepAsync, options.Value.SweepInterval, time, logger, "Reward notice retry sweep", stoppingToken);
}
