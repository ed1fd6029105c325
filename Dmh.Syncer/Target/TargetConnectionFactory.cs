using System.Data.Common;
using System.Reflection;
using Dmh.Platform.Security;
using Microsoft.Data.SqlClient;
using MySqlConnector;
using Npgsql;

namespace Dmh.Syncer.Target;

/// <summary>How the connection to the customer's database is protected (<c>ExternalSync:Database:SslMode</c>).</summary>
public enum TargetTlsMode
{
    None,
    Preferred,
    Required,
    VerifyCA,
    VerifyFull,
}

/// <summary>
/// Opens connections to the customer's database: TLS with the server's certificate verified unless the
/// configuration explicitly allows less (issue 15 M11); password decrypted here only.
/// </summary>
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
        Tls = ResolveTls(_db);
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

    public TargetTlsMode Tls { get; }

    /// <summary>The connection is encrypted and the server's certificate checked.</summary>
    public bool Verified => (Tls is TargetTlsMode.VerifyCA or TargetTlsMode.VerifyFull) && !_db.TrustServerCertificate;

    /// <summary>One line for the start-up log: the target and how its connection is protected.</summary>
    public void LogTransport(ILogger logger)
    {
        if (Verified)
        {
            logger.LogInformation("Customer database {Type} at {Host}:{Port} ({Database}): TLS {SslMode}, the server's certificate is verified",
                _db.Type, _db.Host, _db.Port, _db.Database, Tls);
            return;
        }

        var what = Tls switch
        {
            TargetTlsMode.None => "NOT encrypted",
            TargetTlsMode.Preferred => "encrypted only if the server offers it, and the server's certificate is NOT verified",
            _ => "encrypted, but the server's certificate is NOT verified",
        };
        logger.LogWarning("Customer database {Type} at {Host}:{Port} ({Database}): SslMode {SslMode}{Trust}, the connection is {What} (ExternalSync:Database:AllowInsecureConnection)",
            _db.Type, _db.Host, _db.Port, _db.Database, Tls, _db.TrustServerCertificate ? " with TrustServerCertificate" : "", what);
    }

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

    /// <summary>The TLS mode, refusing unverified modes without the explicit opt-out and combinations that contradict each other.</summary>
    private static TargetTlsMode ResolveTls(ExternalDatabaseOptions db)
    {
        var mode = db.SslMode.ToLowerInvariant() switch
        {
            "none" or "disable" => TargetTlsMode.None,
            "preferred" or "prefer" => TargetTlsMode.Preferred,
            "required" or "require" => TargetTlsMode.Required,
            "verifyca" => TargetTlsMode.VerifyCA,
            "verifyfull" => TargetTlsMode.VerifyFull,
            _ => throw new InvalidOperationException(
                $"ExternalSync:Database:SslMode '{db.SslMode}' is not one of VerifyFull, VerifyCA, Required, Preferred, None."),
        };

        var verifying = mode is TargetTlsMode.VerifyCA or TargetTlsMode.VerifyFull;
        if (db.TrustServerCertificate && (verifying || db.Type != "sqlserver"))
        {
            throw new InvalidOperationException(
                "ExternalSync:Database:TrustServerCertificate turns the certificate check off: it is for SQL Server with SslMode Required (or weaker) only.");
        }

        if ((!verifying || db.TrustServerCertificate) && !db.AllowInsecureConnection)
        {
            throw new InvalidOperationException(
                $"ExternalSync:Database:SslMode {mode}{(db.TrustServerCertificate ? " with TrustServerCertificate" : "")} does not verify the server's certificate: "
                + "use VerifyFull (the default) or VerifyCA, or set ExternalSync:Database:AllowInsecureConnection=true to accept it.");
        }

        if (mode == TargetTlsMode.Preferred && db.Type == "oracle")
        {
            throw new InvalidOperationException("ExternalSync:Database:SslMode Preferred does not exist for Oracle (TCPS or TCP): use VerifyFull, VerifyCA, Required or None.");
        }

        if (!string.IsNullOrEmpty(db.SslCaFile))
        {
            if (db.Type is not ("mysql" or "postgresql"))
            {
                throw new InvalidOperationException("ExternalSync:Database:SslCaFile is for MySQL and PostgreSQL; SQL Server uses the system's trust store and Oracle its wallet.");
            }

            if (!File.Exists(db.SslCaFile))
            {
                throw new InvalidOperationException($"ExternalSync:Database:SslCaFile '{db.SslCaFile}' does not exist.");
            }
        }

        return mode;
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
            SslMode = Tls switch
            {
                TargetTlsMode.None => MySqlSslMode.None,
                TargetTlsMode.Preferred => MySqlSslMode.Preferred,
                TargetTlsMode.Required => MySqlSslMode.Required,
                TargetTlsMode.VerifyCA => MySqlSslMode.VerifyCA,
                _ => MySqlSslMode.VerifyFull,
            },
        };
        if (!string.IsNullOrEmpty(_db.SslCaFile))
        {
            csb.SslCa = _db.SslCaFile;
        }

        return csb.ConnectionString;
    }

    private string Postgres(string password)
    {
        var csb = new NpgsqlConnectionStringBuilder
        {
            Host = _db.Host,
            Port = _db.Port,
            Username = _db.User,
            Password = password,
            Database = _db.Database,
            Timeout = _db.ConnectTimeoutSeconds,
            CommandTimeout = _db.CommandTimeoutSeconds,
            SslMode = Tls switch
            {
                TargetTlsMode.None => SslMode.Disable,
                TargetTlsMode.Preferred => SslMode.Prefer,
                TargetTlsMode.Required => SslMode.Require,
                TargetTlsMode.VerifyCA => SslMode.VerifyCA,
                _ => SslMode.VerifyFull,
            },
        };
        if (!string.IsNullOrEmpty(_db.SslCaFile))
        {
            csb.RootCertificate = _db.SslCaFile;
        }

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
            // SqlClient always checks the host name of a certificate it verifies, so VerifyCA is VerifyFull here.
            Encrypt = Tls is TargetTlsMode.None or TargetTlsMode.Preferred ? SqlConnectionEncryptOption.Optional : SqlConnectionEncryptOption.Mandatory,
            TrustServerCertificate = !Verified,
        };
        return csb.ConnectionString;
    }

    private (DbProviderFactory, string) Oracle(string password)
    {
        var factory = ResolveOracleFactory(_db) ?? throw new InvalidOperationException(OracleMissing);
        var csb = factory.CreateConnectionStringBuilder() ?? new DbConnectionStringBuilder();
        csb["Data Source"] = OracleDescriptor(_db, Tls);
        csb["User Id"] = _db.User;
        csb["Password"] = password;
        csb["Connection Timeout"] = _db.ConnectTimeoutSeconds;
        return (factory, csb.ConnectionString);
    }

    /// <summary>
    /// The connect descriptor: TCPS unless SslMode is None. The provider checks the certificate chain
    /// against its wallet or trust store on every TCPS connection; VerifyFull also matches the server's
    /// distinguished name to the host.
    /// </summary>
    internal static string OracleDescriptor(ExternalDatabaseOptions db, TargetTlsMode tls)
    {
        var protocol = tls == TargetTlsMode.None ? "TCP" : "TCPS";
        var security = tls == TargetTlsMode.VerifyFull ? "(SECURITY=(SSL_SERVER_DN_MATCH=TRUE))" : "";
        return $"(DESCRIPTION=(ADDRESS=(PROTOCOL={protocol})(HOST={db.Host})(PORT={db.Port}))(CONNECT_DATA=(SERVICE_NAME={db.Database})){security})";
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
