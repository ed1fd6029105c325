using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace Dmh.Platform.Database;

/// <summary>
/// Applies the versioned SQL scripts embedded in this assembly (Database/Migrations/V####__name.sql)
/// in order, once each, recording them in <c>schema_migrations</c>. Safe to run from several
/// processes at once: a MySQL named lock serialises them.
/// </summary>
public sealed partial class Migrator(MySqlDataSource dataSource, ILogger<Migrator> logger)
{
    private const string LockName = "dmh_schema_migrations";

    public static IReadOnlyList<Migration> LoadMigrations()
    {
        var assembly = typeof(Migrator).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("Migrations.V", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n => Migration.FromResource(assembly, n))
            .OrderBy(m => m.Version, StringComparer.Ordinal)
            .ToList();
    }

    public async Task<int> MigrateAsync(CancellationToken ct = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var locked = await connection.ExecuteScalarAsync<int?>("SELECT GET_LOCK(@LockName, 120)", new { LockName });
        if (locked != 1)
        {
            throw new InvalidOperationException("Timed out waiting for the schema migration lock.");
        }

        try
        {
            await connection.ExecuteAsync("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    VARCHAR(64) PRIMARY KEY,
                    name       VARCHAR(200) NOT NULL,
                    checksum   CHAR(64)     NOT NULL,
                    applied_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
                """);
            var applied = (await connection.QueryAsync<(string Version, string Checksum)>(
                "SELECT version, checksum FROM schema_migrations")).ToDictionary(r => r.Version, r => r.Checksum);

            var count = 0;
            foreach (var migration in LoadMigrations())
            {
                if (applied.TryGetValue(migration.Version, out var checksum))
                {
                    if (!string.Equals(checksum, migration.Checksum, StringComparison.OrdinalIgnoreCase))
                    {
                        // An applied script must never change: add a new version instead.
                        throw new InvalidOperationException($"Migration {migration.Version} ({migration.Name}) changed after it was applied.");
                    }

                    continue;
                }

                foreach (var statement in migration.Statements)
                {
                    await connection.ExecuteAsync(new CommandDefinition(statement, cancellationToken: ct, commandTimeout: 300));
                }

                await connection.ExecuteAsync(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (@Version, @Name, @Checksum)",
                    new { migration.Version, migration.Name, migration.Checksum });
                logger.LogInformation("Applied migration {Version} {Name}", migration.Version, migration.Name);
                count++;
            }

            return count;
        }
        finally
        {
            await connection.ExecuteAsync("SELECT RELEASE_LOCK(@LockName)", new { LockName });
        }
    }

    public sealed partial record Migration(string Version, string Name, string Checksum, IReadOnlyList<string> Statements)
    {
        public static Migration FromResource(Assembly assembly, string resourceName)
        {
            using var stream = assembly.GetManifestResourceStream(resourceName)
                ?? throw new InvalidOperationException($"Missing resource {resourceName}.");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var sql = reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
            var file = resourceName["Migrations.".Length..^".sql".Length];
            var parts = file.Split("__", 2);
            var checksum = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));
            return new Migration(parts[0], parts.Length > 1 ? parts[1] : file, checksum, Split(sql));
        }

        /// <summary>Splits a script on semicolons that end a line; comment-only lines are dropped.</summary>
        public static IReadOnlyList<string> Split(string sql)
        {
            var withoutComments = string.Join('\n', sql.Split('\n').Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal)));
            return StatementEnd().Split(withoutComments)
                .Select(s => s.Trim())
                .Where(s => s.Length > 0)
                .ToList();
        }

        [GeneratedRegex(@";[ \t]*(\n|$)")]
        private static partial Regex StatementEnd();
    }
}
