using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace Dmh.Syncer.Target;

/// <summary>The customer's database, as in the proposal's <c>ExternalSync</c> block, plus batching, retry and mapping.</summary>
public sealed partial class ExternalSyncOptions
{
    public const string SectionName = "ExternalSync";

    public bool Enabled { get; set; }

    public ExternalDatabaseOptions Database { get; set; } = new();

    /// <summary>Local development only: accept a password that is not <c>enc:v1:</c>.</summary>
    public bool AllowPlainPassword { get; set; }

    /// <summary>When non-empty, the target host must be one of these (case-insensitive).</summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Rows per target statement batch (split further by the dialect's parameter limit).</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 500;

    /// <summary>A row the target rejects this many times is <c>failed</c>.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Delay before a rejected or undelivered row is tried again (doubles per attempt, capped by <see cref="MaxRetryDelay"/>).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(30);

    public ResilienceSettings Resilience { get; set; } = new();

    public SweeperSettings Sweeper { get; set; } = new();

    public TableMapping Orders { get; set; } = new()
    {
        Table = "dmh_orders",
        KeyColumn = "dmh_order_id",
        Fields = new(StringComparer.Ordinal)
        {
            ["phone"] = "student_phone",
            ["form_data.name"] = "student_name",
            ["amount"] = "order_amount",
            ["created_at"] = "register_time",
        },
    };

    public TableMapping Rewards { get; set; } = new()
    {
        Table = "dmh_rewards",
        KeyColumn = "dmh_reward_id",
        Fields = new(StringComparer.Ordinal)
        {
            ["order_id"] = "dmh_order_id",
            ["participant.phone"] = "referrer_phone",
            ["amount"] = "reward_amount",
            ["settled_at"] = "settled_time",
        },
    };

    /// <summary>One row per reversal of a reward by a refund (the syncer stays INSERT-only: a refund adds rows, it never updates dmh_rewards).</summary>
    public TableMapping Reversals { get; set; } = new()
    {
        Table = "dmh_reward_reversals",
        KeyColumn = "dmh_reversal_id",
        Fields = new(StringComparer.Ordinal)
        {
            ["reward_id"] = "dmh_reward_id",
            ["order_id"] = "dmh_order_id",
            ["refund.out_refund_no"] = "out_refund_no",
            ["participant.phone"] = "referrer_phone",
            ["amount"] = "reversed_amount",
            ["created_at"] = "reversed_time",
        },
    };

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}(\\.[A-Za-z_][A-Za-z0-9_]{0,127})?$")]
    internal static partial Regex Identifier();

    /// <summary>Everything the attributes cannot say; null when valid.</summary>
    public string? Check()
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(Database, new ValidationContext(Database), results, validateAllProperties: true)
            || !Validator.TryValidateObject(Resilience, new ValidationContext(Resilience), results, validateAllProperties: true)
            || !Validator.TryValidateObject(Sweeper, new ValidationContext(Sweeper), results, validateAllProperties: true))
        {
            return string.Join("; ", results.Select(r => r.ErrorMessage));
        }

        foreach (var (name, mapping) in new[] { ("Orders", Orders), ("Rewards", Rewards), ("Reversals", Reversals) })
        {
            if (!Identifier().IsMatch(mapping.Table) || !Identifier().IsMatch(mapping.KeyColumn) || mapping.KeyColumn.Contains('.', StringComparison.Ordinal))
            {
                return $"ExternalSync:{name}: Table and KeyColumn must be plain identifiers (letters, digits, _).";
            }

            foreach (var (source, target) in mapping.Fields)
            {
                if (string.IsNullOrEmpty(target))
                {
                    continue;
                }

                if (!Identifier().IsMatch(target) || target.Contains('.', StringComparison.Ordinal) || string.Equals(target, mapping.KeyColumn, StringComparison.OrdinalIgnoreCase))
                {
                    return $"ExternalSync:{name}:Fields:{source}: target column '{target}' must be a plain identifier other than the key column.";
                }

                if (!FieldMapper.IsKnownSource(name switch { "Orders" => FieldMapper.OrderSources, "Rewards" => FieldMapper.RewardSources, _ => FieldMapper.ReversalSources }, source))
                {
                    return $"ExternalSync:{name}:Fields: unknown source '{source}'.";
                }
            }

            var columns = mapping.Fields.Values.Where(v => !string.IsNullOrEmpty(v)).ToList();
            if (columns.Distinct(StringComparer.OrdinalIgnoreCase).Count() != columns.Count)
            {
                return $"ExternalSync:{name}:Fields maps two sources to one column.";
            }
        }

        if (AllowedHosts.Count > 0 && !AllowedHosts.Contains(Database.Host, StringComparer.OrdinalIgnoreCase))
        {
            return $"ExternalSync:Database:Host '{Database.Host}' is not in ExternalSync:AllowedHosts.";
        }

        return null;
    }
}

public sealed class ExternalDatabaseOptions
{
    /// <summary>oracle | sqlserver | mysql | postgresql.</summary>
    [RegularExpression("^(oracle|sqlserver|mysql|postgresql)$", ErrorMessage = "ExternalSync:Database:Type must be oracle, sqlserver, mysql or postgresql.")]
    public string Type { get; set; } = "mysql";

    public string Host { get; set; } = "127.0.0.1";

    [Range(1, 65535, ErrorMessage = "ExternalSync:Database:Port must be a TCP port.")]
    public int Port { get; set; } = 3308;

    public string User { get; set; } = "";

    /// <summary><c>enc:v1:…</c> made by <c>encrypt-secret</c>; plain text only with AllowPlainPassword.</summary>
    public string Password { get; set; } = "";

    /// <summary>Database (MySQL, PostgreSQL, SQL Server) or service name (Oracle).</summary>
    public string Database { get; set; } = "";

    /// <summary>
    /// VerifyFull (default): TLS, the server's certificate and host name checked; VerifyCA: the certificate
    /// only. Required (TLS, no check), Preferred (TLS if the server offers it) and None (plain) need
    /// <see cref="AllowInsecureConnection"/>. PostgreSQL's Require/Prefer/Disable are accepted as aliases.
    /// </summary>
    public string SslMode { get; set; } = "VerifyFull";

    /// <summary>MySQL/PostgreSQL: a PEM file with the CA that signed the server's certificate (default: the system's trust store).</summary>
    public string? SslCaFile { get; set; }

    /// <summary>Accept a connection whose server is not verified (SslMode Required, Preferred or None, or TrustServerCertificate); logged as a warning at start.</summary>
    public bool AllowInsecureConnection { get; set; }

    /// <summary>SQL Server: encrypt without checking the certificate (needs AllowInsecureConnection and SslMode Required or weaker).</summary>
    public bool TrustServerCertificate { get; set; }

    [Range(1, 3600)]
    public int CommandTimeoutSeconds { get; set; } = 30;

    [Range(1, 600)]
    public int ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>Oracle: the ADO.NET provider assembly (name or path), e.g. Oracle.ManagedDataAccess.</summary>
    public string OracleProviderAssembly { get; set; } = "Oracle.ManagedDataAccess";

    /// <summary>Oracle: the DbProviderFactory type in that assembly.</summary>
    public string OracleFactoryType { get; set; } = "Oracle.ManagedDataAccess.Client.OracleClientFactory";
}

public sealed class ResilienceSettings
{
    /// <summary>Retries of one statement on a transient error (exponential backoff with jitter).</summary>
    [Range(1, 20)]
    public int MaxRetries { get; set; } = 3;

    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Timeout of one attempt (open + statement).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The breaker opens when this share of calls fails within the sampling window.</summary>
    [Range(0.01, 1.0)]
    public double BreakerFailureRatio { get; set; } = 0.5;

    // Polly's own lower bounds: 0.5 s for both the sampling window and the break.
    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    [Range(2, 10_000)]
    public int BreakerMinimumThroughput { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(15);
}

public sealed class SweeperSettings
{
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A pending row never published (crash between commit and publish) is re-published after this.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan UnpublishedAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A pending row published but not synced (lost message) is re-published after this.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan UnsyncedAfter { get; set; } = TimeSpan.FromMinutes(5);

    [Range(1, 100_000)]
    public int MaxRowsPerSweep { get; set; } = 1000;
}

/// <summary>One target table: DMH source → target column, plus the DMH id column with a unique key.</summary>
public sealed class TableMapping
{
    public string Table { get; set; } = "";

    public string KeyColumn { get; set; } = "";

    /// <summary>Source path → target column. Set a default's target to "" to drop it.</summary>
    public Dictionary<string, string> Fields { get; set; } = new(StringComparer.Ordinal);
}
