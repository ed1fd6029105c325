using System.Collections.Concurrent;
using Dapper;
using Dmh.Contracts;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.Platform.Database;
using Dmh.Platform.Redis;
using Dmh.Platform.Streams;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MySqlConnector;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.Foundation;

/// <summary>The consumer-group loop every worker uses, against a real Redis and MariaDB.</summary>
public sealed class StreamConsumerTests : IAsyncLifetime
{
    private const string Stream = "test:stream";
    private const string Group = "testers";
    private TestDatabase _db = null!;
    private ConnectionMultiplexer _redis = null!;
    private readonly string _prefix = TestKeys.NewRedisPrefix();

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
    }

    public async Task DisposeAsync()
    {
        await _redis.GetDatabase().KeyDeleteAsync([_prefix + Stream, _prefix + StreamNames.DeadLetters]);
        await _redis.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task A_poison_entry_is_dead_lettered_after_max_deliveries_while_others_flow()
    {
        var handler = new RecordingHandler(poisonKey: "poison");
        for (var i = 0; i < 10; i++)
        {
            await PublishAsync($"good-{i}");
        }

        await PublishAsync("poison");
        await PublishAsync("good-after");

        using var host = await StartAsync(handler, "c1", claimIdle: "00:00:00.200");
        await WaitUntilAsync(async () =>
        {
            await using var connection = await _db.DataSource.OpenConnectionAsync();
            return await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM dead_letters") == 1;
        });

        Assert.Equal(11, handler.Handled.Count);
        Assert.All(handler.Handled.Values, count => Assert.Equal(1, count));
        Assert.Equal(3, handler.PoisonAttempts);
        await using var check = await _db.DataSource.OpenConnectionAsync();
        var dead = await check.QuerySingleAsync<(string MessageKey, int Deliveries, string Error)>(
            "SELECT message_key, deliveries, error FROM dead_letters");
        Assert.Equal("poison", dead.MessageKey);
        Assert.Equal("boom", dead.Error);
        Assert.Equal(1, await _redis.GetDatabase().StreamLengthAsync(_prefix + StreamNames.DeadLetters));
        await WaitUntilAsync(async () => (await _redis.GetDatabase().StreamPendingAsync(_prefix + Stream, Group)).PendingMessageCount == 0);
        await host.StopAsync();
    }

    [Fact]
    public async Task A_restarted_consumer_first_handles_its_own_pending_entries()
    {
        var db = _redis.GetDatabase();
        await db.StreamCreateConsumerGroupAsync(_prefix + Stream, Group, StreamPosition.Beginning, createStream: true);
        await PublishAsync("a");
        await PublishAsync("b");
        // Delivered to "c1" which then "crashed" before acknowledging.
        Assert.Equal(2, (await db.StreamReadGroupAsync(_prefix + Stream, Group, "c1", StreamPosition.NewMessages, 10)).Length);

        var handler = new RecordingHandler();
        using var host = await StartAsync(handler, "c1", claimIdle: "01:00:00");
        await WaitUntilAsync(() => Task.FromResult(handler.Handled.Count == 2));
        await WaitUntilAsync(async () => (await db.StreamPendingAsync(_prefix + Stream, Group)).PendingMessageCount == 0);
        await host.StopAsync();
    }

    [Fact]
    public async Task Entries_of_a_dead_consumer_are_taken_over_after_the_idle_time()
    {
        var db = _redis.GetDatabase();
        await db.StreamCreateConsumerGroupAsync(_prefix + Stream, Group, StreamPosition.Beginning, createStream: true);
        await PublishAsync("x");
        await db.StreamReadGroupAsync(_prefix + Stream, Group, "dead-consumer", StreamPosition.NewMessages, 10);

        var handler = new RecordingHandler();
        using var host = await StartAsync(handler, "survivor", claimIdle: "00:00:00.100");
        await WaitUntilAsync(() => Task.FromResult(handler.Handled.ContainsKey("x")));
        await WaitUntilAsync(async () => (await db.StreamPendingAsync(_prefix + Stream, Group)).PendingMessageCount == 0);
        await host.StopAsync();
    }

    [Fact]
    public async Task A_trickle_of_entries_is_handed_over_as_one_batch_within_the_batch_window()
    {
        var handler = new RecordingHandler();
        using var host = await StartAsync(handler, "c1", claimIdle: "01:00:00", batchWindow: "00:00:01.500");
        for (var i = 0; i < 5; i++)
        {
            await PublishAsync($"t-{i}");
            await Task.Delay(50);
        }

        await WaitUntilAsync(() => Task.FromResult(handler.Handled.Count == 5));
        Assert.Equal(new[] { 5 }, handler.BatchSizes.ToArray());
        await host.StopAsync();
    }

    [Fact]
    public async Task Without_a_batch_window_each_read_is_handed_over_at_once()
    {
        var handler = new RecordingHandler();
        using var host = await StartAsync(handler, "c1", claimIdle: "01:00:00");
        for (var i = 0; i < 3; i++)
        {
            await PublishAsync($"n-{i}");
            await WaitUntilAsync(() => Task.FromResult(handler.Handled.Count == i + 1));
        }

        Assert.Equal(new[] { 1, 1, 1 }, handler.BatchSizes.ToArray());
        await host.StopAsync();
    }

    [Fact]
    public async Task A_pending_entry_deleted_from_the_stream_is_dead_lettered_not_acknowledged_silently()
    {
        var db = _redis.GetDatabase();
        await db.StreamCreateConsumerGroupAsync(_prefix + Stream, Group, StreamPosition.Beginning, createStream: true);
        var lost = await PublishAsync("lost");
        await PublishAsync("kept");
        // Delivered to "c1", which then crashed; meanwhile the entry was deleted (as a length cap did).
        Assert.Equal(2, (await db.StreamReadGroupAsync(_prefix + Stream, Group, "c1", StreamPosition.NewMessages, 10)).Length);
        await db.StreamDeleteAsync(_prefix + Stream, [lost]);

        var handler = new RecordingHandler();
        using var host = await StartAsync(handler, "c1", claimIdle: "01:00:00");
        var letter = await WaitForDeadLetterAsync();
        Assert.Equal((string)lost!, letter.EntryId);
        Assert.Contains("Deleted from the stream", letter.Error, StringComparison.Ordinal);
        await WaitUntilAsync(() => Task.FromResult(handler.Handled.ContainsKey("kept")));
        Assert.False(handler.Handled.ContainsKey("lost"));
        await WaitUntilAsync(async () => (await db.StreamPendingAsync(_prefix + Stream, Group)).PendingMessageCount == 0);
        Assert.Equal(1, await db.StreamLengthAsync(_prefix + StreamNames.DeadLetters));
        await host.StopAsync();
    }

    [Fact]
    public async Task A_deleted_entry_that_XAUTOCLAIM_reports_is_dead_lettered()
    {
        var db = _redis.GetDatabase();
        await db.StreamCreateConsumerGroupAsync(_prefix + Stream, Group, StreamPosition.Beginning, createStream: true);
        var lost = await PublishAsync("lost");
        await db.StreamReadGroupAsync(_prefix + Stream, Group, "dead-consumer", StreamPosition.NewMessages, 10);
        await db.StreamDeleteAsync(_prefix + Stream, [lost]);

        using var host = await StartAsync(new RecordingHandler(), "survivor", claimIdle: "00:00:00.100");
        var letter = await WaitForDeadLetterAsync();
        Assert.Equal((string)lost!, letter.EntryId);
        Assert.Contains("Deleted from the stream", letter.Error, StringComparison.Ordinal);
        Assert.Equal(0, (await db.StreamPendingAsync(_prefix + Stream, Group)).PendingMessageCount);
        await host.StopAsync();
    }

    [Fact]
    public async Task Deliveries_while_the_database_is_unreachable_do_not_count_toward_dead_lettering()
    {
        var handler = new RecordingHandler { DatabaseDown = true };
        await PublishAsync("in-flight");

        // MaxDeliveries is 3: twice as many tries during the outage must not dead-letter it.
        using var host = await StartAsync(handler, "c1", claimIdle: "00:00:00.100");
        await WaitUntilAsync(() => Task.FromResult(handler.OutageAttempts >= 6));
        var pending = await _redis.GetDatabase().StreamPendingMessagesAsync(_prefix + Stream, Group, 10, RedisValue.Null);
        Assert.True(Assert.Single(pending).DeliveryCount <= 1, $"delivery count {pending[0].DeliveryCount}");
        Assert.Equal(0, await DeadLetterCountAsync());

        handler.DatabaseDown = false;
        await WaitUntilAsync(() => Task.FromResult(handler.Handled.ContainsKey("in-flight")));
        await WaitUntilAsync(async () => (await _redis.GetDatabase().StreamPendingAsync(_prefix + Stream, Group)).PendingMessageCount == 0);
        Assert.Equal(0, await DeadLetterCountAsync());
        await host.StopAsync();
    }

    [Fact]
    public async Task An_entry_the_handler_rejects_is_dead_lettered_at_once()
    {
        var handler = new RecordingHandler(rejectKey: "forged");
        await PublishAsync("forged");
        await PublishAsync("fine");

        using var host = await StartAsync(handler, "c1", claimIdle: "01:00:00");
        var letter = await WaitForDeadLetterAsync();
        Assert.Equal("never prepaid", letter.Error);
        Assert.Equal(1, letter.Deliveries);
        await WaitUntilAsync(() => Task.FromResult(handler.Handled.ContainsKey("fine")));
        await WaitUntilAsync(async () => (await _redis.GetDatabase().StreamPendingAsync(_prefix + Stream, Group)).PendingMessageCount == 0);
        await host.StopAsync();
    }

    [Fact]
    public async Task Entries_of_consumers_killed_mid_batch_again_and_again_are_not_dead_lettered()
    {
        // Settlement in a crash loop (issue 22): each consumer is killed (here: hangs for good, as a
        // SIGKILLed process does nothing more) after handling two entries, before it acknowledges.
        for (var i = 0; i < 20; i++)
        {
            await PublishAsync($"e-{i}");
        }

        var hosts = new List<IHost>();
        var doomed = new List<DoomedHandler>();
        try
        {
            for (var k = 1; k <= 5; k++)
            {
                var handler = new DoomedHandler(handleBeforeDying: 2);
                doomed.Add(handler);
                hosts.Add(await StartAsync(handler, $"doomed-{k}", claimIdle: "00:00:00.100"));
                await handler.Died.WaitAsync(TimeSpan.FromSeconds(30));
            }

            var survivor = new RecordingHandler();
            hosts.Add(await StartAsync(survivor, "survivor", claimIdle: "00:00:00.100"));
            var db = _redis.GetDatabase();
            await WaitUntilAsync(async () => (await db.StreamPendingAsync(_prefix + Stream, Group)).PendingMessageCount == 0);

            // MaxDeliveries is 3: before the fix every take-over claimed the whole batch, so the fifth
            // consumer's death left all 20 entries at 6 deliveries and the survivor dead-lettered them.
            Assert.Equal(0, await DeadLetterCountAsync());
            var handled = doomed.SelectMany(d => d.Done).Concat(survivor.Handled.Keys).ToHashSet();
            Assert.Equal(Enumerable.Range(0, 20).Select(i => $"e-{i}").ToHashSet(), handled);
        }
        finally
        {
            await StopAllAsync(hosts, doomed);
        }
    }

    [Fact]
    public async Task An_entry_that_kills_every_consumer_handed_it_is_dead_lettered_while_the_others_flow()
    {
        for (var i = 0; i < 5; i++)
        {
            await PublishAsync($"before-{i}");
        }

        await PublishAsync("killer");
        for (var i = 0; i < 5; i++)
        {
            await PublishAsync($"after-{i}");
        }

        var hosts = new List<IHost>();
        var doomed = new List<DoomedHandler>();
        try
        {
            // Delivered in a batch (1), then alone to two more consumers (2, 3): each dies on it.
            for (var k = 1; k <= 3; k++)
            {
                var handler = new DoomedHandler(killerKey: "killer");
                doomed.Add(handler);
                hosts.Add(await StartAsync(handler, $"doomed-{k}", claimIdle: "00:00:00.100"));
                await handler.Died.WaitAsync(TimeSpan.FromSeconds(30));
            }

            var survivor = new RecordingHandler();
            hosts.Add(await StartAsync(survivor, "survivor", claimIdle: "00:00:00.100"));
            var letter = await WaitForDeadLetterAsync();
            Assert.Equal(4, letter.Deliveries);
            Assert.False(survivor.Handled.ContainsKey("killer"));
            var db = _redis.GetDatabase();
            await WaitUntilAsync(async () => (await db.StreamPendingAsync(_prefix + Stream, Group)).PendingMessageCount == 0);
            Assert.Equal(1, await DeadLetterCountAsync());
            var handled = doomed.SelectMany(d => d.Done).Concat(survivor.Handled.Keys).ToHashSet();
            Assert.Equal(10, handled.Count(k => k != "killer"));
        }
        finally
        {
            await StopAllAsync(hosts, doomed);
        }
    }

    private static async Task StopAllAsync(List<IHost> hosts, List<DoomedHandler> doomed)
    {
        foreach (var handler in doomed)
        {
            handler.Release();
        }

        foreach (var host in hosts)
        {
            await host.StopAsync(TimeSpan.FromSeconds(5));
            host.Dispose();
        }
    }

    private async Task<(string EntryId, string Error, int Deliveries)> WaitForDeadLetterAsync()
    {
        await WaitUntilAsync(async () => await DeadLetterCountAsync() == 1);
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return await connection.QuerySingleAsync<(string, string, int)>("SELECT entry_id, error, deliveries FROM dead_letters");
    }

    private async Task<long> DeadLetterCountAsync()
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM dead_letters");
    }

    private Task<RedisValue> PublishAsync(string key) =>
        _redis.GetDatabase().StreamAddAsync(_prefix + Stream, StreamPublisher.ToFields(
            new Envelope("Test", 1, key, "{}", DateTimeOffset.UtcNow)));

    private async Task<IHost> StartAsync<THandler>(THandler handler, string consumer, string claimIdle, string batchWindow = "00:00:00")
        where THandler : class, IStreamHandler
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = _db.ConnectionString,
            ["Redis:Configuration"] = TestEnvironment.Redis,
            ["Redis:KeyPrefix"] = _prefix,
            ["Test:Consumer:ConsumerName"] = consumer,
            ["Test:Consumer:ClaimIdle"] = claimIdle,
            ["Test:Consumer:ClaimInterval"] = "00:00:00.050",
            ["Test:Consumer:PollInterval"] = "00:00:00.005",
            ["Test:Consumer:MaxDeliveries"] = "3",
            ["Test:Consumer:BatchWindow"] = batchWindow,
            ["Test:Consumer:ErrorBackoff"] = "00:00:00.020",
            ["Test:Consumer:MaxUnavailableBackoff"] = "00:00:00.100",
        });
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddDmhDatabase();
        builder.AddDmhRedis();
        builder.Services.AddSingleton(handler);
        builder.AddStreamConsumer<THandler>("Test:Consumer", Stream, Group);
        builder.AddDeadLetterTable();
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 30 s");
            await Task.Delay(25);
        }
    }

    /// <summary>Stands in for a consumer that is killed: handles some entries, then hangs until released, acknowledging nothing of that batch.</summary>
    private sealed class DoomedHandler(int handleBeforeDying = int.MaxValue, string? killerKey = null) : IStreamHandler
    {
        private readonly TaskCompletionSource _died = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _handled;

        public Task Died => _died.Task;

        /// <summary>Entries it handled in batches that it finished (the ones acknowledged).</summary>
        public ConcurrentBag<string> Done { get; } = [];

        public void Release() => _released.TrySetException(new InvalidOperationException("the test is over"));

        public async Task HandleAsync(IReadOnlyList<ConsumedMessage> batch, CancellationToken ct)
        {
            foreach (var message in batch)
            {
                if (_handled == handleBeforeDying || message.Envelope!.Key == killerKey)
                {
                    _died.TrySetResult();
                    await _released.Task;
                }

                _handled++;
                message.Done();
            }

            foreach (var message in batch)
            {
                Done.Add(message.Envelope!.Key);
            }
        }
    }

    private sealed class RecordingHandler(string? poisonKey = null, string? rejectKey = null) : IStreamHandler
    {
        private int _poisonAttempts;
        private int _outageAttempts;

        public ConcurrentDictionary<string, int> Handled { get; } = new();

        public int PoisonAttempts => _poisonAttempts;

        public int OutageAttempts => _outageAttempts;

        /// <summary>While true, every batch fails as a handler does when MySQL is down (a closed port).</summary>
        public volatile bool DatabaseDown;

        public ConcurrentQueue<int> BatchSizes { get; } = new();

        public async Task HandleAsync(IReadOnlyList<ConsumedMessage> batch, CancellationToken ct)
        {
            if (DatabaseDown)
            {
                Interlocked.Increment(ref _outageAttempts);
                await using var connection = new MySqlConnection("Server=127.0.0.1;Port=1;User ID=nobody;Database=none;Connect Timeout=5");
                await connection.OpenAsync(ct);
            }

            BatchSizes.Enqueue(batch.Count);
            foreach (var message in batch)
            {
                var key = message.Envelope!.Key;
                if (key == poisonKey)
                {
                    Interlocked.Increment(ref _poisonAttempts);
                    message.Fail("boom");
                    continue;
                }

                if (key == rejectKey)
                {
                    message.Reject("never prepaid");
                    continue;
                }

                Handled.AddOrUpdate(key, 1, (_, n) => n + 1);
                message.Done();
            }
        }
    }
}
