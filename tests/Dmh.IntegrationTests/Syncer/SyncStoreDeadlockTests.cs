using Dapper;
using Dmh.Contracts;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.Syncer.Sync;

namespace Dmh.IntegrationTests.Syncer;

/// <summary>SyncStore against a real InnoDB deadlock: the status write it loses is repeated, not lost.</summary>
public sealed class SyncStoreDeadlockTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task A_status_write_chosen_as_deadlock_victim_is_repeated_and_lands()
    {
        await using (var seed = _db.OpenConnection())
        {
            await seed.ExecuteAsync(
                "INSERT INTO sync_records (entity, entity_id, order_id, status) VALUES (@entity, @id, @id, 'pending')",
                Enumerable.Range(1, 60).Select(id => new { entity = SyncEntities.Reward, id }));
        }

        var store = new SyncStore(_db.DataSource, TimeProvider.System);
        await using var other = _db.OpenConnection();
        await using var tx = await other.BeginTransactionAsync();
        // The other writer changes many rows first, so InnoDB rolls back the store's smaller transaction.
        await other.ExecuteAsync("UPDATE sync_records SET last_error = 'held' WHERE entity = @entity AND entity_id BETWEEN 2 AND 60",
            new { entity = SyncEntities.Reward }, tx);

        // The store locks row 1, then waits for row 2.
        var marking = store.MarkSyncedAsync(SyncEntities.Reward, [1, 2]);
        await WaitForLockWaitAsync(marking);

        // Now the other writer wants row 1: a deadlock, and the store is the victim.
        await other.ExecuteAsync("UPDATE sync_records SET last_error = 'held' WHERE entity = @entity AND entity_id = 1",
            new { entity = SyncEntities.Reward }, tx);
        await tx.CommitAsync();

        await marking.WaitAsync(TimeSpan.FromSeconds(30));
        await using var check = _db.OpenConnection();
        var statuses = await check.QueryAsync<string>(
            "SELECT status FROM sync_records WHERE entity = @entity AND entity_id IN (1, 2)", new { entity = SyncEntities.Reward });
        Assert.Equal(new[] { "synced", "synced" }, statuses.ToArray());
    }

    private async Task WaitForLockWaitAsync(Task marking)
    {
        await using var connection = _db.OpenConnection();
        for (var i = 0; i < 600; i++)
        {
            var waiting = await connection.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'");
            if (waiting > 0)
            {
                return;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException("The store's update never waited for the held row: " + marking.Status + " " + marking.Exception);
    }
}
