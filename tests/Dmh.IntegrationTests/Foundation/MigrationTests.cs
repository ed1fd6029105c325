using Dapper;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.Platform.Database;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dmh.IntegrationTests.Foundation;

public sealed class MigrationTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Every_migration_is_recorded_and_a_second_run_applies_nothing()
    {
        var migrator = new Migrator(_db.DataSource, NullLogger<Migrator>.Instance);
        Assert.Equal(0, await migrator.MigrateAsync());

        await using var connection = await _db.DataSource.OpenConnectionAsync();
        var versions = (await connection.QueryAsync<string>("SELECT version FROM schema_migrations ORDER BY version")).ToList();
        Assert.Equal(Migrator.LoadMigrations().Select(m => m.Version), versions);
    }

    [Fact]
    public async Task Concurrent_migrators_on_an_empty_database_apply_each_script_once()
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        var tables = (await connection.QueryAsync<string>("SHOW TABLES")).ToList();
        foreach (var table in tables)
        {
            await connection.ExecuteAsync($"DROP TABLE `{table}`");
        }

        var runs = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            new Migrator(_db.DataSource, NullLogger<Migrator>.Instance).MigrateAsync()));

        Assert.Equal(Migrator.LoadMigrations().Count, runs.Sum());
        foreach (var table in new[] { "campaigns", "orders", "rewards", "user_balances", "participants", "payments", "sync_records", "dead_letters", "admin_users" })
        {
            Assert.Contains(table, await connection.QueryAsync<string>("SHOW TABLES"));
        }
    }
}
