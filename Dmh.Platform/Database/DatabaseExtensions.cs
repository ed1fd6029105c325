using Dmh.Platform.Streams;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Platform.Database;

public static class DatabaseExtensions
{
    /// <summary>Registers DMH's MySQL data source (pooled) and the migrator, options validated at start.</summary>
    public static IHostApplicationBuilder AddDmhDatabase(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>()
            .BindConfiguration(DatabaseOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => IsValidConnectionString(o.ConnectionString), "Database:ConnectionString is not a valid MySQL connection string.")
            .ValidateOnStart();
        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            return new MySqlDataSourceBuilder(Normalize(options.ConnectionString)).Build();
        });
        builder.Services.AddSingleton<Migrator>();
        return builder;
    }

    /// <summary>The dead_letters table as the stream consumers' <see cref="IDeadLetterStore"/> (a worker host's choice).</summary>
    public static IHostApplicationBuilder AddDeadLetterTable(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<IDeadLetterStore, DeadLetterTable>();
        return builder;
    }

    /// <summary>Settings every DMH connection needs whatever the configured string says.</summary>
    public static string Normalize(string connectionString)
    {
        var csb = new MySqlConnectionStringBuilder(connectionString)
        {
            // DATETIME columns hold UTC; read them back as UTC.
            DateTimeKind = MySqlDateTimeKind.Utc,
            AllowUserVariables = true,
            UseAffectedRows = true,
        };
        return csb.ConnectionString;
    }

    private static bool IsValidConnectionString(string value)
    {
        try
        {
            var csb = new MySqlConnectionStringBuilder(value);
            return !string.IsNullOrEmpty(csb.Server) && !string.IsNullOrEmpty(csb.Database);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
