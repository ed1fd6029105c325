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
            // Fresh statistics, so the store's UPDATE walks the unique index as it does on a real table.
            await seed.ExecuteAsync("ANALYZE TABLE sync_records");
        }

        var store = new SyncStore(_db.DataSource, TimeProvider.System);
        await using var other = _db.OpenConnection();
        await using var tx = await other.BeginTransactionAsync();
        // The other writer changes many rows first, so InnoDB rolls back the store's smaller transaction.
        // Through the unique index: a table scan would lock row 1 as well (REPEATABLE READ keeps the
        // locks of every row it reads), and the store would wait before locking anything.
        await other.ExecuteAsync("UPDATE sync_records FORCE INDEX (uk_sync_records_entity) SET last_error = 'held' WHERE entity = @entity AND entity_id BETWEEN 2 AND 60",
            new { entity = SyncEntities.Reward }, tx);

        // The store locks row 1, then waits for row 2.
        var marking = store.MarkSyncedAsync(SyncEntities.Reward, [1, 2]);
        await _db.WaitForLockWaitAsync(marking, "UPDATE sync_records SET status");

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
}
