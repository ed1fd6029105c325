using System.Data.Common;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Dmh.Syncer.Target;

/// <summary>One statement for the target: SQL text, its parameters in order, and how many rows it inserts.</summary>
public sealed record TargetStatement(string Sql, IReadOnlyList<KeyValuePair<string, object?>> Parameters, int RowCount);

/// <summary>
/// What differs between the customer's databases: quoting, parameter style, statement limits, the
/// idempotent INSERT (a row whose DMH id is already there is skipped, never updated, never an error)
/// and which errors are worth retrying.
/// </summary>
public abstract class SqlDialect
{
    public abstract string Name { get; }

    /// <summary>Bind parameters one statement may carry.</summary>
    public abstract int MaxParameters { get; }

    /// <summary>Rows one statement may carry.</summary>
    public abstract int MaxRowsPerStatement { get; }

    /// <summary>Cheapest query that proves a usable session.</summary>
    public virtual string ProbeSql => "SELECT 1";

    public static SqlDialect For(string type) => type switch
    {
        "mysql" => new MySqlDialect(),
        "postgresql" => new PostgreSqlDialect(),
        "sqlserver" => new SqlServerDialect(),
        "oracle" => new OracleDialect(),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown target database type."),
    };

    public abstract string QuoteIdentifier(string name);

    /// <summary>The placeholder in SQL text for parameter number <paramref name="index"/>.</summary>
    protected abstract string Placeholder(int index);

    /// <summary>DbParameter.ParameterName for parameter number <paramref name="index"/>.</summary>
    public abstract string ParameterName(int index);

    public string QuoteTable(string table) => string.Join('.', table.Split('.').Select(QuoteIdentifier));

    public int RowsPerStatement(int columnCount) => Math.Max(1, Math.Min(MaxRowsPerStatement, MaxParameters / columnCount));

    /// <summary>
    /// Idempotent multi-row INSERTs for <paramref name="rows"/> (each aligned with <paramref name="columns"/>,
    /// the DMH id first), split so no statement exceeds the dialect's limits.
    /// </summary>
    public IReadOnlyList<TargetStatement> BuildInserts(string table, IReadOnlyList<string> columns, IReadOnlyList<object?[]> rows)
    {
        var perStatement = RowsPerStatement(columns.Count);
        var statements = new List<TargetStatement>((rows.Count + perStatement - 1) / perStatement);
        for (var start = 0; start < rows.Count; start += perStatement)
        {
            var count = Math.Min(perStatement, rows.Count - start);
            var parameters = new List<KeyValuePair<string, object?>>(count * columns.Count);
            var placeholders = new string[count][];
            for (var r = 0; r < count; r++)
            {
                var row = rows[start + r];
                placeholders[r] = new string[columns.Count];
                for (var c = 0; c < columns.Count; c++)
                {
                    var index = parameters.Count;
                    placeholders[r][c] = Placeholder(index);
                    parameters.Add(new(ParameterName(index), row[c]));
                }
            }

            statements.Add(new TargetStatement(BuildInsert(QuoteTable(table), columns.Select(QuoteIdentifier).ToArray(), placeholders), parameters, count));
        }

        return statements;
    }

    /// <param name="table">Quoted table.</param>
    /// <param name="columns">Quoted columns, the DMH id first.</param>
    /// <param name="rows">Placeholders per row.</param>
    protected abstract string BuildInsert(string table, string[] columns, string[][] rows);

    /// <summary>Worth retrying: the server or network, not the row (a constraint or a value the target refuses).</summary>
    public virtual bool IsTransient(Exception ex) => ex switch
    {
        TimeoutException or SocketException or IOException => true,
        DbException db when db.IsTransient => true,
        _ when ex.InnerException is not null => IsTransient(ex.InnerException),
        _ => false,
    };

    protected static string Join(IEnumerable<string> parts) => string.Join(", ", parts);
}

public sealed class MySqlDialect : SqlDialect
{
    public override string Name => "mysql";

    public override int MaxParameters => 65_535;

    public override int MaxRowsPerStatement => 10_000;

    public override string QuoteIdentifier(string name) => "`" + name.Replace("`", "``", StringComparison.Ordinal) + "`";

    protected override string Placeholder(int index) => "@p" + index.ToString(CultureInfo.InvariantCulture);

    public override string ParameterName(int index) => Placeholder(index);

    // Not INSERT IGNORE: it would also turn a too-long value into a silent truncation. The no-op
    // assignment skips a row whose DMH id exists without changing it.
    protected override string BuildInsert(string table, string[] columns, string[][] rows) =>
        $"INSERT INTO {table} ({Join(columns)}) VALUES {Join(rows.Select(r => "(" + Join(r) + ")"))} ON DUPLICATE KEY UPDATE {columns[0]} = {columns[0]}";

    public override bool IsTransient(Exception ex) => ex switch
    {
        MySqlConnector.MySqlException my => my.IsTransient || my.ErrorCode is MySqlConnector.MySqlErrorCode.UnableToConnectToHost
            or MySqlConnector.MySqlErrorCode.LockDeadlock or MySqlConnector.MySqlErrorCode.LockWaitTimeout
            or MySqlConnector.MySqlErrorCode.ConnectionCountError or MySqlConnector.MySqlErrorCode.TooManyUserConnections
            or MySqlConnector.MySqlErrorCode.CommandTimeoutExpired or MySqlConnector.MySqlErrorCode.QueryInterrupted
            || (int)my.ErrorCode is 1040 or 1053 or 2002 or 2003 or 2006 or 2013,
        _ => base.IsTransient(ex),
    };
}

public sealed class PostgreSqlDialect : SqlDialect
{
    public override string Name => "postgresql";

    public override int MaxParameters => 65_535;

    public override int MaxRowsPerStatement => 10_000;

    public override string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    protected override string Placeholder(int index) => "@p" + index.ToString(CultureInfo.InvariantCulture);

    public override string ParameterName(int index) => Placeholder(index);

    protected override string BuildInsert(string table, string[] columns, string[][] rows) =>
        $"INSERT INTO {table} ({Join(columns)}) VALUES {Join(rows.Select(r => "(" + Join(r) + ")"))} ON CONFLICT ({columns[0]}) DO NOTHING";

    public override bool IsTransient(Exception ex) => ex switch
    {
        // Class 08 connection, 40 rollback (serialization/deadlock), 53 resources, 57P operator intervention.
        Npgsql.PostgresException pg => pg.IsTransient || pg.SqlState.StartsWith("08", StringComparison.Ordinal)
            || pg.SqlState.StartsWith("40", StringComparison.Ordinal) || pg.SqlState.StartsWith("53", StringComparison.Ordinal)
            || pg.SqlState.StartsWith("57P", StringComparison.Ordinal),
        Npgsql.NpgsqlException npg => npg.IsTransient || npg.InnerException is not null && base.IsTransient(npg.InnerException),
        _ => base.IsTransient(ex),
    };
}

public sealed class SqlServerDialect : SqlDialect
{
    // Connection, throttling, deadlock and failover numbers from Microsoft's transient-fault guidance
    // (SqlConfigurableRetryFactory's defaults).
    private static readonly HashSet<int> TransientNumbers =
        [-2, 20, 53, 64, 121, 233, 1205, 1222, 4060, 4221, 10053, 10054, 10060, 10928, 10929, 40143, 40197, 40501, 40540, 40613, 42108, 42109, 49918, 49919, 49920];

    public override string Name => "sqlserver";

    // 2100 is the server's hard limit and sp_executesql's statement text takes one of them.
    public override int MaxParameters => 2_099;

    public override int MaxRowsPerStatement => 1_000;

    public override string QuoteIdentifier(string name) => "[" + name.Replace("]", "]]", StringComparison.Ordinal) + "]";

    protected override string Placeholder(int index) => "@p" + index.ToString(CultureInfo.InvariantCulture);

    public override string ParameterName(int index) => Placeholder(index);

    // HOLDLOCK + UPDLOCK: a concurrent syncer inserting the same DMH id waits instead of racing past
    // the NOT EXISTS (the unique key would still stop it, but as an error).
    protected override string BuildInsert(string table, string[] columns, string[][] rows)
    {
        var sql = new StringBuilder();
        sql.Append("INSERT INTO ").Append(table).Append(" (").Append(Join(columns)).Append(") SELECT ")
            .Append(Join(columns.Select(c => "s." + c))).Append(" FROM (VALUES ")
            .Append(Join(rows.Select(r => "(" + Join(r) + ")"))).Append(") AS s (").Append(Join(columns))
            .Append(") WHERE NOT EXISTS (SELECT 1 FROM ").Append(table).Append(" AS d WITH (UPDLOCK, HOLDLOCK) WHERE d.")
            .Append(columns[0]).Append(" = s.").Append(columns[0]).Append(')');
        return sql.ToString();
    }

    public override bool IsTransient(Exception ex) => ex switch
    {
        Microsoft.Data.SqlClient.SqlException sql => sql.Errors.Cast<Microsoft.Data.SqlClient.SqlError>().Any(e => TransientNumbers.Contains(e.Number))
            || TransientNumbers.Contains(sql.Number),
        _ => base.IsTransient(ex),
    };
}

public sealed class OracleDialect : SqlDialect
{
    // Network, listener, instance and deadlock errors (ORA-00060, 03113/03114/03135, 12150-12571 TNS, 25408 failover).
    private static readonly HashSet<int> TransientNumbers =
        [60, 1012, 1033, 1034, 1089, 1090, 3113, 3114, 3135, 12150, 12153, 12170, 12500, 12514, 12516, 12519, 12520, 12521, 12528, 12537, 12541, 12543, 12545, 12547, 12560, 12571, 25408];

    public override string Name => "oracle";

    public override int MaxParameters => 65_535;

    // INSERT ALL / UNION ALL sources beyond 1000 rows hit ORA-00913-style parser limits on older servers.
    public override int MaxRowsPerStatement => 1_000;

    public override string ProbeSql => "SELECT 1 FROM DUAL";

    // Unquoted Oracle names are stored upper-case, so quoting the upper-cased name matches a table created without quotes.
    public override string QuoteIdentifier(string name) => "\"" + name.ToUpperInvariant().Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    protected override string Placeholder(int index) => ":p" + index.ToString(CultureInfo.InvariantCulture);

    public override string ParameterName(int index) => "p" + index.ToString(CultureInfo.InvariantCulture);

    protected override string BuildInsert(string table, string[] columns, string[][] rows)
    {
        var sql = new StringBuilder();
        sql.Append("MERGE INTO ").Append(table).Append(" d USING (");
        for (var r = 0; r < rows.Length; r++)
        {
            if (r > 0)
            {
                sql.Append(" UNION ALL ");
            }

            sql.Append("SELECT ");
            sql.Append(Join(rows[r].Select((p, c) => r == 0 ? p + " " + columns[c] : p)));
            sql.Append(" FROM DUAL");
        }

        sql.Append(") s ON (d.").Append(columns[0]).Append(" = s.").Append(columns[0]).Append(") WHEN NOT MATCHED THEN INSERT (")
            .Append(Join(columns)).Append(") VALUES (").Append(Join(columns.Select(c => "s." + c))).Append(')');
        return sql.ToString();
    }

    public override bool IsTransient(Exception ex)
    {
        // The provider is loaded at run time, so its exception is read by shape: OracleException.Number.
        if (ex is DbException && ex.GetType().Name == "OracleException"
            && ex.GetType().GetProperty("Number")?.GetValue(ex) is int number)
        {
            return TransientNumbers.Contains(number) || base.IsTransient(ex);
        }

        return base.IsTransient(ex);
    }
}
