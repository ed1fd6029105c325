using System.Globalization;
using Dmh.Platform.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prometheus;
using StackExchange.Redis;

namespace Dmh.Platform.Streams;

/// <summary>What one <see cref="StreamMaintenance.RunAsync"/> did.</summary>
public sealed record StreamMaintenanceResult(long Trimmed, IReadOnlyList<string> RemovedConsumers);

/// <summary>
/// Keeps a consumed stream small without losing work (issue 15, M4): trims it with
/// <c>XTRIM MINID</c> at the oldest entry some group still needs (its oldest pending entry, else its
/// last-delivered id), and removes consumers of the group that are idle and own no pending entry.
/// Both are idempotent and only ever remove less than they could if groups move on meanwhile, so
/// several instances may run them at once.
/// </summary>
public sealed class StreamMaintenance(IConnectionMultiplexer redis, RedisKeys keys, ILogger<StreamMaintenance> logger)
{
    private static readonly Counter Trimmed = Metrics.CreateCounter(
        "dmh_stream_trimmed_total", "Entries trimmed from a stream below what every group acknowledged.", "stream");
    private static readonly Counter Removed = Metrics.CreateCounter(
        "dmh_stream_consumers_removed_total", "Idle consumers without pending entries removed from a group.", "stream", "group");

    // Checked and deleted in one step: a consumer that reads an entry between a separate check and
    // XGROUP DELCONSUMER would lose that entry from the group (DELCONSUMER drops its pending list).
    private const string RemoveIfIdleScript = """
        for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
          local info = {}
          for i = 1, #consumer, 2 do
            info[consumer[i]] = consumer[i + 1]
          end
          if info['name'] == ARGV[2] then
            if info['pending'] == 0 and info['idle'] >= tonumber(ARGV[3]) then
              redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
              return 1
            end
            return 0
          end
        end
        return 0
        """;

    /// <summary>Trims <paramref name="options"/>' stream and prunes its group, sparing <paramref name="ownConsumer"/>.</summary>
    public async Task<StreamMaintenanceResult> RunAsync(StreamConsumerOptions options, string ownConsumer)
    {
        var db = redis.GetDatabase();
        var stream = keys.For(options.Stream);
        if (!await db.KeyExistsAsync(stream))
        {
            return new StreamMaintenanceResult(0, []);
        }

        var groups = await db.StreamGroupInfoAsync(stream);
        var trimmed = await TrimAsync(db, stream, groups);
        if (trimmed > 0)
        {
            Trimmed.WithLabels(options.Stream).Inc(trimmed);
            logger.LogInformation("Trimmed {Count} acknowledged entries from {Stream}", trimmed, options.Stream);
        }

        var removed = new List<string>();
        var consumers = groups.Any(g => g.Name == options.Group) ? await db.StreamConsumerInfoAsync(stream, options.Group) : [];
        foreach (var consumer in consumers)
        {
            if (consumer.Name == ownConsumer || consumer.PendingMessageCount > 0
                || consumer.IdleTimeInMilliseconds < (long)options.DeadConsumerIdle.TotalMilliseconds)
            {
                continue;
            }

            if ((long)await db.ScriptEvaluateAsync(RemoveIfIdleScript, [stream],
                    [options.Group, consumer.Name, (long)options.DeadConsumerIdle.TotalMilliseconds]) == 1)
            {
                removed.Add(consumer.Name);
                Removed.WithLabels(options.Stream, options.Group).Inc();
                logger.LogInformation("Removed idle consumer {Consumer} (no pending entries) from {Stream}/{Group}", consumer.Name, options.Stream, options.Group);
            }
        }

        return new StreamMaintenanceResult(trimmed, removed);
    }

    /// <summary>
    /// XTRIM MINID at the lowest id any group still needs. A group's state is read before the trim and
    /// only moves forward, so the trim never reaches an entry that is pending or undelivered. A stream
    /// without groups is left alone: a group created later starts from its beginning.
    /// </summary>
    private static async Task<long> TrimAsync(IDatabase db, RedisKey stream, StreamGroupInfo[] groups)
    {
        if (groups.Length == 0)
        {
            return 0;
        }

        StreamId? keep = null;
        foreach (var group in groups)
        {
            var needed = StreamId.Parse(group.LastDeliveredId);
            if (group.PendingMessageCount > 0
                && (await db.StreamPendingAsync(stream, group.Name)).LowestPendingMessageId is { IsNull: false } lowest)
            {
                needed = StreamId.Parse(lowest!);
            }

            keep = keep is null || needed < keep ? needed : keep;
        }

        return keep is { } minId && minId > StreamId.Zero
            ? await db.StreamTrimByMinIdAsync(stream, minId.ToString())
            : 0;
    }

    private readonly record struct StreamId(ulong Milliseconds, ulong Sequence) : IComparable<StreamId>
    {
        public static readonly StreamId Zero = new(0, 0);

        public static StreamId Parse(string? id)
        {
            if (string.IsNullOrEmpty(id))
            {
                return Zero;
            }

            var dash = id.IndexOf('-', StringComparison.Ordinal);
            return dash < 0
                ? new StreamId(ulong.Parse(id, CultureInfo.InvariantCulture), 0)
                : new StreamId(ulong.Parse(id.AsSpan(0, dash), CultureInfo.InvariantCulture), ulong.Parse(id.AsSpan(dash + 1), CultureInfo.InvariantCulture));
        }

        public int CompareTo(StreamId other) =>
            Milliseconds != other.Milliseconds ? Milliseconds.CompareTo(other.Milliseconds) : Sequence.CompareTo(other.Sequence);

        public static bool operator <(StreamId a, StreamId b) => a.CompareTo(b) < 0;

        public static bool operator >(StreamId a, StreamId b) => a.CompareTo(b) > 0;

        public static bool operator <=(StreamId a, StreamId b) => a.CompareTo(b) <= 0;

        public static bool operator >=(StreamId a, StreamId b) => a.CompareTo(b) >= 0;

        public override string ToString() => $"{Milliseconds}-{Sequence}";
    }
}

/// <summary>Runs <see cref="StreamMaintenance"/> for <typeparamref name="THandler"/>'s stream every <see cref="StreamConsumerOptions.TrimInterval"/>.</summary>
public sealed class StreamMaintenanceService<THandler>(
    StreamMaintenance maintenance,
    IOptionsMonitor<StreamConsumerOptions> optionsMonitor,
    TimeProvider time,
    ILogger<StreamMaintenanceService<THandler>> logger) : BackgroundService
    where THandler : IStreamHandler
{
    private readonly StreamConsumerOptions _options = optionsMonitor.Get(typeof(THandler).FullName);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.TrimInterval, time, stoppingToken);
                await maintenance.RunAsync(_options, _options.ResolveConsumerName());
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                logger.LogWarning(ex, "Maintenance of {Stream} failed; next in {Interval}", _options.Stream, _options.TrimInterval);
            }
        }
    }
}
