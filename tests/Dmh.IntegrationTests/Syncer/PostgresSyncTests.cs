using Dapper;
using Dmh.Contracts;
using Dmh.IntegrationTests.Infrastructure;

namespace Dmh.IntegrationTests.Syncer;

/// <summary>The syncer against a real PostgreSQL customer database (127.0.0.1:5433).</summary>
public sealed class PostgresSyncTests() : SyncTestBase(TargetKind.Postgres)
{
    [Fact]
    public async Task Ten_thousand_orders_arrive_exactly_once_in_postgresql()
    {
        var orders = await SyncSeed.OrdersAsync(Db, 10_000);
        var rewards = await SyncSeed.RewardsAsync(Db, orders.Take(100).ToList());
        await using var syncer = new ServiceFactory<Dmh.Syncer.EntryPoint>(Db, Prefix, Target.SyncSettings());
        _ = syncer.Services;

        await SyncSeed.PublishAsync(Redis.GetDatabase(), Prefix, SyncEntities.Order, orders);
        await SyncSeed.PublishAsync(Redis.GetDatabase(), Prefix, SyncEntities.Reward, rewards);
        await SyncSeed.PublishAsync(Redis.GetDatabase(), Prefix, SyncEntities.Order, orders.Take(2_000));
        await SyncSeed.WaitUntilAsync(async () => (await SyncSeed.StatusCountsAsync(Db)).GetValueOrDefault(SyncStatus.Synced) == 10_100);

        Assert.Equal(10_000, await Target.ScalarAsync("SELECT COUNT(*) FROM dmh_orders"));
        Assert.Equal(10_000, await Target.ScalarAsync("SELECT COUNT(DISTINCT dmh_order_id) FROM dmh_orders"));
        Assert.Equal(100, await Target.ScalarAsync("SELECT COUNT(*) FROM dmh_rewards"));
        await using var target = Target.Open();
        await target.OpenAsync();
        var name = await target.ExecuteScalarAsync<string>("SELECT student_name FROM dmh_orders WHERE dmh_order_id = @id", new { id = orders[42] });
        Assert.Equal("学员42", name);
    }

    [Fact]
    public async Task A_row_postgresql_rejects_fails_alone()
    {
        var orders = await SyncSeed.OrdersAsync(Db, 50, i => i == 7 ? new string('x', 100) : "n" + i);
        await using var syncer = new ServiceFactory<Dmh.Syncer.EntryPoint>(Db, Prefix, Target.SyncSettings());
        _ = syncer.Services;

        await SyncSeed.PublishAsync(Redis.GetDatabase(), Prefix, SyncEntities.Order, orders);
        await SyncSeed.WaitUntilAsync(async () =>
        {
            var counts = await SyncSeed.StatusCountsAsync(Db);
            return counts.GetValueOrDefault(SyncStatus.Synced) == 49 && counts.GetValueOrDefault(SyncStatus.Failed) == 1;
        });
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        Assert.Contains("22001", await connection.ExecuteScalarAsync<string>("SELECT last_error FROM sync_records WHERE status = 'failed'"), StringComparison.Ordinal);
    }
}
