using System.ComponentModel.DataAnnotations;

namespace Dmh.Platform.Database;

public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    /// <summary>MySQL/MariaDB connection string of DMH's own database.</summary>
    [Required(ErrorMessage = "Database:ConnectionString is required (DMH's MySQL connection string).")]
    public string ConnectionString { get; set; } = "";

    /// <summary>Apply pending migrations at start-up (Ingress does; workers wait for readiness).</summary>
    public bool ApplyMigrations { get; set; }
}
