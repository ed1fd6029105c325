using Dapper;
using Dmh.Platform.Database;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;

namespace Dmh.IntegrationTests.Infrastructure;

/// <summary>
/// A fresh DMH database for one test class: cloned from a template that is migrated once per set of
/// migrations (CI budget: migrate once, clone per class), dropped on dispose.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private static readonly SemaphoreSlim TemplateGate = new(1, 1);
    private static string? _template;

    private TestDatabase(string name)
    {
        Name = name;
        ConnectionString = DatabaseExtensions.Normalize(new MySqlConnectionStringBuilder(TestEnvironment.MySql) { Database = name }.ConnectionString);
        DataSource = new MySqlDataSourceBuilder(ConnectionString).Build();
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public MySqlDataSource DataSource { get; }

    public static async Task<TestDatabase> CreateAsync()
    {
        var template = await EnsureTemplateAsync();
        var name = "dmh_t_" + Guid.NewGuid().ToString("N")[..16];
        await using var server = await OpenServerAsync();
        await server.ExecuteAsync($"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
        var tables = (await server.QueryAsync<string>(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = @template AND table_type = 'BASE TABLE'",
            new { template })).ToList();
        foreach (var table in tables)
        {
            await server.ExecuteAsync($"CREATE TABLE `{name}`.`{table}` LIKE `{template}`.`{table}`");
            var columns = (await server.QueryAsync<string>("""
                SELECT column_name FROM information_schema.columns
                WHERE table_schema = @template AND table_name = @table AND extra NOT LIKE '%GENERATED%'
                ORDER BY ordinal_position
                """, new { template, table })).Select(c => $"`{c}`");
            var list = string.Join(", ", columns);
            await server.ExecuteAsync($"INSERT INTO `{name}`.`{table}` ({list}) SELECT {list} FROM `{template}`.`{table}`");
        }

        // Stored procedures (settlement's dmh_stop_if) are not tables: recreate them from their definitions.
        var procedures = (await server.QueryAsync<string>(
            "SELECT routine_name FROM information_schema.routines WHERE routine_schema = @template AND routine_type = 'PROCEDURE'",
            new { template })).ToList();
        await server.ExecuteAsync($"USE `{name}`");
        foreach (var procedure in procedures)
        {
            var definition = await server.QuerySingleAsync($"SHOW CREATE PROCEDURE `{template}`.`{procedure}`");
            await server.ExecuteAsync((string)((IDictionary<string, object>)definition)["Create Procedure"]);
        }

        // Triggers (the sync_status_counts counters) are not copied by CREATE TABLE … LIKE either; made
        // after the rows are copied, so the copy itself is not counted twice.
        var triggers = (await server.QueryAsync<string>(
            "SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = @template", new { template })).ToList();
        foreach (var trigger in triggers)
        {
            var definition = await server.QuerySingleAsync($"SHOW CREATE TRIGGER `{template}`.`{trigger}`");
            await server.ExecuteAsync((string)((IDictionary<string, object>)definition)["SQL Original Statement"]);
        }

        return new TestDatabase(name);
    }

    public MySqlConnection OpenConnection()
    {
        var connection = DataSource.CreateConnection();
        connection.Open();
        return connection;
    }

    /// <summary>
    /// Until a transaction of this database waits for a row lock (other test classes run beside it), or
    /// <paramref name="work"/> ends first, which fails the test with what the server was doing. MariaDB
    /// lists a transaction in innodb_trx only once it has changed a row and not always even then, so a
    /// statement starting with one of <paramref name="statementPrefixes"/> that has been running for 300 ms
    /// counts as waiting too (without a held lock it takes milliseconds).
    /// </summary>
    public async Task WaitForLockWaitAsync(Task work, params string[] statementPrefixes)
    {
        var statementPrefix = string.Join("' or '", statementPrefixes);
        var args = new DynamicParameters();
        for (var i = 0; i < statementPrefixes.Length; i++)
        {
            args.Add($"p{i}", statementPrefixes[i]);
        }

        var anyPrefix = string.Join(" OR ", statementPrefixes.Select((_, i) => $"info LIKE CONCAT(@p{i}, '%')"));
        await using var connection = OpenConnection();
        for (var i = 0; i < 600 && !work.IsCompleted; i++)
        {
            // InnoDB lists a statement of a multi-statement batch as LOCK WAIT late or not at all, so a
            // statement of the batch running for a while counts too.
            var waiting = await connection.ExecuteScalarAsync<long>($"""
                SELECT (SELECT COUNT(*) FROM information_schema.innodb_trx t
                        JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id
                        WHERE t.trx_state = 'LOCK WAIT' AND p.db = DATABASE())
                     + (SELECT COUNT(*) FROM information_schema.processlist
                        WHERE db = DATABASE() AND time_ms > 300 AND ({anyPrefix}))
                """, args);
            if (waiting > 0)
            {
                return;
            }

            await Task.Delay(25);
        }

        var processes = await connection.QueryAsync<(long Id, string? Command, string? State, string? Info)>(
            "SELECT id, command, state, info FROM information_schema.processlist WHERE db = DATABASE()");
        var transactions = await connection.QueryAsync<(long Thread, string State, string? Query)>(
            "SELECT trx_mysql_thread_id, trx_state, trx_query FROM information_schema.innodb_trx");
        throw new TimeoutException($"'{statementPrefix}…' never waited for a held row ({work.Status} {work.Exception})"
            + "\nprocesses: " + string.Join(" | ", processes) + "\ntransactions: " + string.Join(" | ", transactions));
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        try
        {
            await using var server = await OpenServerAsync();
            await server.ExecuteAsync($"DROP DATABASE IF EXISTS `{Name}`");
        }
        catch (MySqlException)
        {
            // Left behind only if the server went away; the next ./dmh test does not depend on it.
        }
    }

    private static async Task<string> EnsureTemplateAsync()
    {
        if (_template is not null)
        {
            return _template;
        }

        await TemplateGate.WaitAsync();
        try
        {
            if (_template is not null)
            {
                return _template;
            }

            var migrations = Migrator.LoadMigrations();
            var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes(string.Join(",", migrations.Select(m => m.Checksum)))))[..12].ToLowerInvariant();
            var name = "dmh_tpl_" + hash;
            await using var server = await OpenServerAsync();
            // Several test assemblies may build the template at once.
            await server.ExecuteScalarAsync<int>("SELECT GET_LOCK('dmh_test_template', 300)");
            try
            {
                var applied = await server.ExecuteScalarAsync<long?>(
                    $"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = @name AND table_name = 'schema_migrations'", new { name });
                var complete = applied > 0 && await server.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM `{name}`.schema_migrations") == migrations.Count;
                if (!complete)
                {
                    await server.ExecuteAsync($"DROP DATABASE IF EXISTS `{name}`");
                    await server.ExecuteAsync($"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
                    var cs = DatabaseExtensions.Normalize(new MySqlConnectionStringBuilder(TestEnvironment.MySql) { Database = name }.ConnectionString);
                    await using var source = new MySqlDataSourceBuilder(cs).Build();
                    await new Migrator(source, NullLogger<Migrator>.Instance).MigrateAsync();
                }
            }
            finally
            {
                await server.ExecuteScalarAsync<int>("SELECT RELEASE_LOCK('dmh_test_template')");
            }

            _template = name;
            return name;
        }
        finally
        {
            TemplateGate.Release();
        }
    }

    private static async Task<MySqlConnection> OpenServerAsync()
    {
        var connection = new MySqlConnection(TestEnvironment.MySql);
        await connection.OpenAsync();
        return connection;
    }
}
