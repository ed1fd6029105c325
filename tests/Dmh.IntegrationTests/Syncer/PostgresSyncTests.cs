using Dapper;
using Dmh.Contracts;
using Dmh.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.Syncer;

/// <summary>The syncer against a real PostgreSQL customer database (127.0.0.1:5433).</summary>
public sealed class PostgresSyncTests : IAsyncLifetime
{
    private readonly string _prefix = TestKeys.NewRedisPrefix();
    private TestDatabase _db = null!;
    private TargetDatabase _target = null!;
    private ConnectionMultiplexer _redis = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _target = await TargetDatabase.CreateAsync(TargetKind.Postgres);
        _redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
    }

    public async Task DisposeAsync()
    {
        await _redis.GetDatabase().KeyDeleteAsync([_prefix + StreamNames.Sync, _prefix + StreamNames.DeadLetters, _prefix + "dmh:sync:target-health"]);
        await _redis.DisposeAsync();
        await _target.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Ten_thousand_orders_arrive_exactly_once_in_postgresql()
    {
        var orders = await SyncSeed.OrdersAsync(_db, 10_000);
        var rewards = await SyncSeed.RewardsAsync(_db, orders.Take(100).ToList());
        await using var syncer = new ServiceFactory<Dmh.Syncer.EntryPoint>(_db, _prefix, _target.SyncSettings());
        _ = syncer.Services;

        await SyncSeed.PublishAsync(_redis.GetDatabase(), _prefix, SyncEntities.Order, orders);
        await SyncSeed.PublishAsync(_redis.GetDatabase(), _prefix, SyncEntities.Reward, rewards);
        await SyncSeed.PublishAsync(_redis.GetDatabase(), _prefix, SyncEntities.Order, orders.Take(2_000));
        await SyncSeed.WaitUntilAsync(async () => (await SyncSeed.StatusCountsAsync(_db)).GetValueOrDefault(SyncStatus.Synced) == 10_100);

        Assert.Equal(10_000, await _target.ScalarAsync("SELECT COUNT(*) FROM dmh_orders"));
        Assert.Equal(10_000, await _target.ScalarAsync("SELECT COUNT(DISTINCT dmh_order_id) FROM dmh_orders"));
        Assert.Equal(100, await _target.ScalarAsync("SELECT COUNT(*) FROM dmh_rewards"));
        await using var target = _target.Open();
        await target.OpenAsync();
        var name = await target.ExecuteScalarAsync<string>("SELECT student_name FROM dmh_orders WHERE dmh_order_id = @id", new { id = orders[42] });
        Assert.Equal("学员42", name);
    }

    [Fact]
    public async Task A_row_postgresql_rejects_fails_alone()
    {
        var orders = await SyncSeed.OrdersAsync(_db, 50, i => i == 7 ? new string('x', 100) : "n" + i);
        await using var syncer = new ServiceFactory<Dmh.Syncer.EntryPoint>(_db, _prefix, _target.SyncSettings());
        _ = syncer.Services;

        await SyncSeed.PublishAsync(_redis.GetDatabase(), _prefix, SyncEntities.Order, orders);
        await SyncSeed.WaitUntilAsync(async () =>
        {
            var counts = await SyncSeed.StatusCountsAsync(_db);
            return counts.GetValueOrDefault(SyncStatus.Synced) == 49 && counts.GetValueOrDefault(SyncStatus.Failed) == 1;
        });
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        Assert.Contains("22001", await connection.ExecuteScalarAsync<string>("SELECT last_error FROM sync_records WHERE status = 'failed'"), StringComparison.Ordinal);
    }
}
