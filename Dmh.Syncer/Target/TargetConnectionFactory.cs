using System.Data.Common;
using System.Reflection;
using Dmh.Platform.Security;
using Microsoft.Data.SqlClient;
using MySqlConnector;
using Npgsql;

namespace Dmh.Syncer.Target;

/// <summary>Opens connections to the customer's database: encrypted where the server supports it, password decrypted here only.</summary>
public sealed class TargetConnectionFactory
{
    public const string OracleMissing =
        "The Oracle target needs Oracle's ADO.NET provider, which is not part of this build: build Dmh.Syncer with -p:WithOracle=true "
        + "where Oracle.ManagedDataAccess.Core can be restored, or set ExternalSync:Database:OracleProviderAssembly to the path of Oracle.ManagedDataAccess.dll.";

    private readonly ExternalDatabaseOptions _db;
    private readonly string _connectionString;
    private readonly DbProviderFactory _factory;

    public TargetConnectionFactory(ExternalSyncOptions options, string dataKey)
    {
        _db = options.Database;
        Dialect = SqlDialect.For(_db.Type);
        var password = ResolvePassword(options, dataKey);
        (_factory, _connectionString) = _db.Type switch
        {
            "mysql" => ((DbProviderFactory)MySqlConnectorFactory.Instance, MySql(password)),
            "postgresql" => (NpgsqlFactory.Instance, Postgres(password)),
            "sqlserver" => (SqlClientFactory.Instance, SqlServer(password)),
            "oracle" => Oracle(password),
            _ => throw new InvalidOperationException($"Unknown ExternalSync:Database:Type '{_db.Type}'."),
        };
    }

    public SqlDialect Dialect { get; }

    public string TargetType => _db.Type;

    public int CommandTimeoutSeconds => _db.CommandTimeoutSeconds;

    public DbConnection Create()
    {
        var connection = _factory.CreateConnection() ?? throw new InvalidOperationException($"{_db.Type} provider made no connection.");
        connection.ConnectionString = _connectionString;
        return connection;
    }

    /// <summary>Null when the settings can open a target; else why not (checked at start).</summary>
    public static string? Check(ExternalSyncOptions options, string dataKey)
    {
        if (!options.Enabled)
        {
            return null;
        }

        try
        {
            _ = new TargetConnectionFactory(options, dataKey);
            return null;
        }
        catch (InvalidOperationException ex)
        {
            return ex.Message;
        }
    }

    private static string ResolvePassword(ExternalSyncOptions options, string dataKey)
    {
        var value = options.Database.Password;
        if (SecretProtector.IsProtected(value))
        {
            try
            {
                return new SecretProtector(dataKey).Unprotect(value);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                throw new InvalidOperationException("ExternalSync:Database:Password cannot be decrypted with Security:DataKey (made with another key?).");
            }
        }

        if (value.Length > 0 && !options.AllowPlainPassword)
        {
            throw new InvalidOperationException(
                "ExternalSync:Database:Password must be encrypted (enc:v1:…, made by 'dotnet Dmh.Syncer.dll encrypt-secret' or './dmh encrypt-secret'); "
                + "plain passwords are accepted only with ExternalSync:AllowPlainPassword=true.");
        }

        return value;
    }

    private string MySql(string password)
    {
        var csb = new MySqlConnectionStringBuilder
        {
            Server = _db.Host,
            Port = (uint)_db.Port,
            UserID = _db.User,
            Password = password,
            Database = _db.Database,
            ConnectionTimeout = (uint)_db.ConnectTimeoutSeconds,
            DefaultCommandTimeout = (uint)_db.CommandTimeoutSeconds,
            DateTimeKind = MySqlDateTimeKind.Utc,
            SslMode = Enum.TryParse<MySqlSslMode>(_db.SslMode, ignoreCase: true, out var mode)
                ? mode
                : throw new InvalidOperationException($"ExternalSync:Database:SslMode '{_db.SslMode}' is not a MySQL SslMode (None, Preferred, Required, VerifyCA, VerifyFull)."),
        };
        return csb.ConnectionString;
    }

    private string Postgres(string password)
    {
        var mode = _db.SslMode.ToLowerInvariant() switch
        {
            "none" or "disable" => SslMode.Disable,
            "preferred" or "prefer" => SslMode.Prefer,
            "required" or "require" => SslMode.Require,
            "verifyca" => SslMode.VerifyCA,
            "verifyfull" => SslMode.VerifyFull,
            _ => throw new InvalidOperationException($"ExternalSync:Database:SslMode '{_db.SslMode}' is not a PostgreSQL SslMode (Disable, Prefer, Require, VerifyCA, VerifyFull)."),
        };
        var csb = new NpgsqlConnectionStringBuilder
        {
            Host = _db.Host,
            Port = _db.Port,
            Username = _db.User,
            Password = password,
            Database = _db.Database,
            Timeout = _db.ConnectTimeoutSeconds,
            CommandTimeout = _db.CommandTimeoutSeconds,
            SslMode = mode,
        };
        return csb.ConnectionString;
    }

    private string SqlServer(string password)
    {
        var csb = new SqlConnectionStringBuilder
        {
            DataSource = $"{_db.Host},{_db.Port}",
            UserID = _db.User,
            Password = password,
            InitialCatalog = _db.Database,
            ConnectTimeout = _db.ConnectTimeoutSeconds,
            CommandTimeout = _db.CommandTimeoutSeconds,
            Encrypt = string.Equals(_db.SslMode, "Disable", StringComparison.OrdinalIgnoreCase) ? SqlConnectionEncryptOption.Optional : SqlConnectionEncryptOption.Mandatory,
            TrustServerCertificate = _db.TrustServerCertificate,
        };
        return csb.ConnectionString;
    }

    private (DbProviderFactory, string) Oracle(string password)
    {
        var factory = ResolveOracleFactory(_db) ?? throw new InvalidOperationException(OracleMissing);
        var protocol = _db.SslMode.StartsWith("Verify", StringComparison.OrdinalIgnoreCase) || _db.SslMode.StartsWith("Require", StringComparison.OrdinalIgnoreCase)
            ? "TCPS"
            : "TCP";
        var csb = factory.CreateConnectionStringBuilder() ?? new DbConnectionStringBuilder();
        csb["Data Source"] = $"(DESCRIPTION=(ADDRESS=(PROTOCOL={protocol})(HOST={_db.Host})(PORT={_db.Port}))(CONNECT_DATA=(SERVICE_NAME={_db.Database})))";
        csb["User Id"] = _db.User;
        csb["Password"] = password;
        csb["Connection Timeout"] = _db.ConnectTimeoutSeconds;
        return (factory, csb.ConnectionString);
    }

    /// <summary>Registered factory first, else the configured assembly (name or path).</summary>
    internal static DbProviderFactory? ResolveOracleFactory(ExternalDatabaseOptions db)
    {
        if (DbProviderFactories.TryGetFactory("Oracle.ManagedDataAccess.Client", out var registered))
        {
            return registered;
        }

        try
        {
            var assembly = File.Exists(db.OracleProviderAssembly)
                ? Assembly.LoadFrom(db.OracleProviderAssembly)
                : Assembly.Load(db.OracleProviderAssembly);
            var type = assembly.GetType(db.OracleFactoryType, throwOnError: false);
            return type?.GetField("Instance", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as DbProviderFactory;
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException or ArgumentException)
        {
            return null;
        }
    }
}
