using System.ComponentModel.DataAnnotations;

namespace Dmh.Syncer.Target;

/// <summary>The customer's database, as in the proposal's <c>ExternalSync</c> block.</summary>
public sealed class ExternalSyncOptions
{
    public const string SectionName = "ExternalSync";

    public bool Enabled { get; set; }

    public ExternalDatabaseOptions Database { get; set; } = new();
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

    public string Password { get; set; } = "";

    public string Database { get; set; } = "";
}
