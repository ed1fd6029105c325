using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Dmh.Platform.Redis;
using Microsoft.Extensions.Options;
using MySqlConnector;
using StackExchange.Redis;

namespace Dmh.Ingress.Campaigns;

public sealed class CampaignCacheOptions
{
    public const string SectionName = "CampaignCache";

    /// <summary>
    /// How long a cached campaign is used without asking MySQL. Changes made through the API reach every
    /// Ingress at once (Redis pub/sub); this only bounds staleness when a message is lost or a row is
    /// edited by hand. Zero turns the cache off.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Campaigns as registration reads them, kept in process (issue 23: the campaign was one of a
/// registration's round trips). <see cref="CampaignStore"/> calls <see cref="InvalidateAsync"/> on
/// every write; the id goes to every Ingress over a Redis channel, and each drops its copy.
/// </summary>
public sealed class CampaignCache(
    MySqlDataSource dataSource, IConnectionMultiplexer redis, RedisKeys keys, TimeProvider time,
    IOptions<CampaignCacheOptions> options, ILogger<CampaignCache> logger) : IHostedService
{
    public const string ChannelName = "dmh:campaigns:changed";

    private readonly ConcurrentDictionary<long, Entry> _entries = new();
    private readonly TimeSpan _lifetime = options.Value.Lifetime;
    private readonly RedisChannel _channel = RedisChannel.Literal(keys.For(ChannelName).ToString());

    // Bumped by every invalidation: a load that started before one is not stored (it may hold the old row).
    private long _generation;

    private sealed record Entry(CampaignRow Row, DateTimeOffset Expires);

    /// <summary>The campaign (not soft-deleted), from the cache while fresh, else from MySQL.</summary>
    public async Task<CampaignRow?> FindAsync(long id, CancellationToken ct)
    {
        if (_entries.TryGetValue(id, out var entry) && entry.Expires > time.GetUtcNow())
        {
            return entry.Row;
        }

        var generation = Interlocked.Read(ref _generation);
        var row = await CampaignStore.FindAsync(dataSource, id, ct);
        if (row is not null && _lifetime > TimeSpan.Zero && Interlocked.Read(ref _generation) == generation)
        {
            _entries[id] = new Entry(row, time.GetUtcNow() + _lifetime);
        }

        return row;
    }

    /// <summary>Drops the campaign here and tells every other Ingress to drop it. A lost message is bounded by the lifetime.</summary>
    public async Task InvalidateAsync(long id)
    {
        Drop(id);
        try
        {
            await redis.GetSubscriber().PublishAsync(_channel, id.ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning(ex, "Could not announce the change of campaign {CampaignId}; other instances see it within {Lifetime}", id, _lifetime);
        }
    }

    private void Drop(long id)
    {
        Interlocked.Increment(ref _generation);
        _entries.TryRemove(id, out _);
    }

    private void DropAll(object? sender, ConnectionFailedEventArgs e)
    {
        // Messages sent while the subscription was down are lost: start over.
        Interlocked.Increment(ref _generation);
        _entries.Clear();
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        redis.ConnectionRestored += DropAll;
        redis.ConnectionFailed += DropAll;
        try
        {
            await redis.GetSubscriber().SubscribeAsync(_channel, (_, message) =>
            {
                if (long.TryParse((string?)message, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    Drop(id);
                }
            });
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Ingress starts without Redis (it reports not ready meanwhile): cached campaigns then
            // live only their lifetime.
            logger.LogWarning(ex, "Could not subscribe to campaign changes; cached campaigns expire after {Lifetime}", _lifetime);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        redis.ConnectionRestored -= DropAll;
        redis.ConnectionFailed -= DropAll;
        try
        {
            await redis.GetSubscriber().UnsubscribeAsync(_channel);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Shutting down.
        }
    }
}
