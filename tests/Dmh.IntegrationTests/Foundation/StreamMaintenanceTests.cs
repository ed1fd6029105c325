using Dmh.Contracts;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.Platform.Redis;
using Dmh.Platform.Streams;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.Foundation;

/// <summary>The stream trim and consumer pruning job (issue 15, M4), against a real Redis.</summary>
public sealed class StreamMaintenanceTests : IAsyncLifetime
{
    private const string Stream = "test:stream";
    private const string Group = "testers";
    private ConnectionMultiplexer _redis = null!;
    private readonly string _prefix = TestKeys.NewRedisPrefix();

    private IDatabase Db => _redis.GetDatabase();

    private RedisKey Key => _prefix + Stream;

    public async Task InitializeAsync() => _redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);

    public async Task DisposeAsync()
    {
        await Db.KeyDeleteAsync(Key);
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Entries_pending_in_a_group_survive_the_trim_and_acknowledged_ones_go()
    {
        await Db.StreamCreateConsumerGroupAsync(Key, Group, StreamPosition.Beginning, createStream: true);
        var ids = await PublishAsync(5);
        await Db.StreamReadGroupAsync(Key, Group, "c1", StreamPosition.NewMessages, 5);
        await Db.StreamAcknowledgeAsync(Key, Group, [ids[0], ids[1], ids[3]]);

        var result = await RunAsync();

        Assert.Equal(2, result.Trimmed);
        // ids[2] is the oldest pending entry: it and everything after it stay, acknowledged or not.
        Assert.Equal(ids[2..], (await Db.StreamRangeAsync(Key)).Select(e => e.Id).ToArray());
        var pending = await Db.StreamPendingMessagesAsync(Key, Group, 10, RedisValue.Null);
        Assert.Equal([ids[2], ids[4]], pending.Select(p => p.MessageId).ToArray());
        Assert.Equal(2, (await Db.StreamReadGroupAsync(Key, Group, "c1", StreamPosition.Beginning, 10)).Count(e => !e.IsNull && e.Values.Length > 0));
    }

    [Fact]
    public async Task The_trim_keeps_every_entry_a_slower_group_has_not_read()
    {
        await Db.StreamCreateConsumerGroupAsync(Key, Group, StreamPosition.Beginning, createStream: true);
        await Db.StreamCreateConsumerGroupAsync(Key, "slow", StreamPosition.Beginning);
        var ids = await PublishAsync(4);
        await Db.StreamReadGroupAsync(Key, Group, "c1", StreamPosition.NewMessages, 4);
        await Db.StreamAcknowledgeAsync(Key, Group, ids);
        await Db.StreamReadGroupAsync(Key, "slow", "s1", StreamPosition.NewMessages, 2);
        await Db.StreamAcknowledgeAsync(Key, "slow", [ids[0], ids[1]]);

        Assert.Equal(1, (await RunAsync()).Trimmed);
        // "slow" has read up to ids[1]: the trim stops at its last-delivered id.
        Assert.Equal(ids[1..], (await Db.StreamRangeAsync(Key)).Select(e => e.Id).ToArray());
        Assert.Equal(2, (await Db.StreamReadGroupAsync(Key, "slow", "s1", StreamPosition.NewMessages, 10)).Length);
    }

    [Fact]
    public async Task A_stream_without_groups_is_not_trimmed()
    {
        await PublishAsync(3);

        Assert.Equal(0, (await RunAsync()).Trimmed);
        Assert.Equal(3, await Db.StreamLengthAsync(Key));
    }

    [Fact]
    public async Task Idle_consumers_without_pending_entries_are_removed_and_the_others_kept()
    {
        await Db.StreamCreateConsumerGroupAsync(Key, Group, StreamPosition.Beginning, createStream: true);
        var ids = await PublishAsync(4);
        await Db.StreamReadGroupAsync(Key, Group, "dead-idle", StreamPosition.NewMessages, 1);
        await Db.StreamReadGroupAsync(Key, Group, "dead-with-work", StreamPosition.NewMessages, 1);
        await Db.StreamReadGroupAsync(Key, Group, "me", StreamPosition.NewMessages, 1);
        await Db.StreamAcknowledgeAsync(Key, Group, [ids[0], ids[2]]);
        await Task.Delay(300);
        await Db.StreamReadGroupAsync(Key, Group, "alive", StreamPosition.NewMessages, 1);
        await Db.StreamAcknowledgeAsync(Key, Group, ids[3]);

        var result = await RunAsync(deadConsumerIdle: TimeSpan.FromMilliseconds(200), ownConsumer: "me");

        Assert.Equal(["dead-idle"], result.RemovedConsumers);
        var left = (await Db.StreamConsumerInfoAsync(Key, Group)).Select(c => (string)c.Name!).Order().ToArray();
        Assert.Equal(["alive", "dead-with-work", "me"], left);
        Assert.Equal(1, (await Db.StreamPendingAsync(Key, Group)).PendingMessageCount);
    }

    private async Task<RedisValue[]> PublishAsync(int count)
    {
        var ids = new RedisValue[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = await Db.StreamAddAsync(Key, StreamPublisher.ToFields(new Envelope("Test", 1, $"k{i}", "{}", DateTimeOffset.UtcNow)));
        }

        return ids;
    }

    private Task<StreamMaintenanceResult> RunAsync(TimeSpan? deadConsumerIdle = null, string ownConsumer = "me")
    {
        var keys = new RedisKeys(Options.Create(new RedisOptions { Configuration = TestEnvironment.Redis, KeyPrefix = _prefix }));
        var maintenance = new StreamMaintenance(_redis, keys, NullLogger<StreamMaintenance>.Instance);
        return maintenance.RunAsync(new StreamConsumerOptions
        {
            Stream = Stream,
            Group = Group,
            DeadConsumerIdle = deadConsumerIdle ?? TimeSpan.FromHours(1),
        }, ownConsumer);
    }
}
