using Dmh.Syncer.Target;
using Microsoft.Data.SqlClient;
using MySqlConnector;
using Npgsql;

namespace Dmh.UnitTests.Syncer;

/// <summary>Issue 15 M11: connections to the customer's database verify the server unless configured otherwise.</summary>
public sealed class TargetTlsTests
{
    private static readonly string Key = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());

    private static ExternalSyncOptions Options(string type, string? sslMode = null, bool allowInsecure = false, bool trust = false, string? caFile = null)
    {
        var options = new ExternalSyncOptions
        {
            Enabled = true,
            AllowPlainPassword = true,
            Database = { Type = type, Host = "db.example.com", Port = 4000, User = "u", Password = "p", Database = "d", AllowInsecureConnection = allowInsecure, TrustServerCertificate = trust, SslCaFile = caFile },
        };
        if (sslMode is not null)
        {
            options.Database.SslMode = sslMode;
        }

        return options;
    }

    private static string ConnectionString(ExternalSyncOptions options)
    {
        using var connection = new TargetConnectionFactory(options, Key).Create();
        return connection.ConnectionString;
    }

    [Fact]
    public void By_default_every_dialect_verifies_the_server_certificate()
    {
        Assert.Equal(MySqlSslMode.VerifyFull, new MySqlConnectionStringBuilder(ConnectionString(Options("mysql"))).SslMode);
        Assert.Equal(SslMode.VerifyFull, new NpgsqlConnectionStringBuilder(ConnectionString(Options("postgresql"))).SslMode);

        var sqlServer = new SqlConnectionStringBuilder(ConnectionString(Options("sqlserver")));
        Assert.Equal(SqlConnectionEncryptOption.Mandatory, sqlServer.Encrypt);
        Assert.False(sqlServer.TrustServerCertificate);

        var oracle = Options("oracle").Database;
        var descriptor = TargetConnectionFactory.OracleDescriptor(oracle, TargetTlsMode.VerifyFull);
        Assert.Contains("(PROTOCOL=TCPS)", descriptor, StringComparison.Ordinal);
        Assert.Contains("(SSL_SERVER_DN_MATCH=TRUE)", descriptor, StringComparison.Ordinal);

        foreach (var type in new[] { "mysql", "postgresql", "sqlserver" })
        {
            var factory = new TargetConnectionFactory(Options(type), Key);
            Assert.Equal(TargetTlsMode.VerifyFull, factory.Tls);
            Assert.True(factory.Verified);
        }
    }

    [Fact]
    public void The_explicit_opt_out_connects_plain()
    {
        Assert.Equal(MySqlSslMode.None, new MySqlConnectionStringBuilder(ConnectionString(Options("mysql", "None", allowInsecure: true))).SslMode);
        Assert.Equal(SslMode.Disable, new NpgsqlConnectionStringBuilder(ConnectionString(Options("postgresql", "Disable", allowInsecure: true))).SslMode);

        var sqlServer = new SqlConnectionStringBuilder(ConnectionString(Options("sqlserver", "None", allowInsecure: true)));
        Assert.Equal(SqlConnectionEncryptOption.Optional, sqlServer.Encrypt);
        Assert.True(sqlServer.TrustServerCertificate);

        Assert.Contains("(PROTOCOL=TCP)", TargetConnectionFactory.OracleDescriptor(Options("oracle").Database, TargetTlsMode.None), StringComparison.Ordinal);
        Assert.False(new TargetConnectionFactory(Options("mysql", "None", allowInsecure: true), Key).Verified);
    }

    [Fact]
    public void Required_encrypts_without_the_certificate_check_and_a_ca_file_is_passed_on()
    {
        Assert.Equal(MySqlSslMode.Required, new MySqlConnectionStringBuilder(ConnectionString(Options("mysql", "Required", allowInsecure: true))).SslMode);
        var sqlServer = new SqlConnectionStringBuilder(ConnectionString(Options("sqlserver", "Required", allowInsecure: true)));
        Assert.Equal(SqlConnectionEncryptOption.Mandatory, sqlServer.Encrypt);
        Assert.True(sqlServer.TrustServerCertificate);

        var ca = Path.GetTempFileName();
        try
        {
            Assert.Equal(ca, new MySqlConnectionStringBuilder(ConnectionString(Options("mysql", caFile: ca))).SslCa);
            var postgres = new NpgsqlConnectionStringBuilder(ConnectionString(Options("postgresql", "VerifyCA", caFile: ca)));
            Assert.Equal(SslMode.VerifyCA, postgres.SslMode);
            Assert.Equal(ca, postgres.RootCertificate);
        }
        finally
        {
            File.Delete(ca);
        }
    }

    [Theory]
    [InlineData("mysql", "None")]
    [InlineData("mysql", "Preferred")]
    [InlineData("mysql", "Required")]
    [InlineData("postgresql", "Prefer")]
    [InlineData("postgresql", "Require")]
    [InlineData("sqlserver", "Disable")]
    [InlineData("sqlserver", "Required")]
    [InlineData("oracle", "None")]
    public void An_unverified_mode_without_the_opt_out_is_refused(string type, string mode)
    {
        Assert.Contains("AllowInsecureConnection", TargetConnectionFactory.Check(Options(type, mode), Key), StringComparison.Ordinal);
    }

    [Fact]
    public void Contradicting_or_unknown_settings_are_refused()
    {
        Assert.Contains("TrustServerCertificate", TargetConnectionFactory.Check(Options("sqlserver", trust: true), Key), StringComparison.Ordinal);
        Assert.Contains("AllowInsecureConnection", TargetConnectionFactory.Check(Options("sqlserver", "Required", trust: true), Key), StringComparison.Ordinal);
        Assert.Null(TargetConnectionFactory.Check(Options("sqlserver", "Required", allowInsecure: true, trust: true), Key));
        Assert.Contains("TrustServerCertificate", TargetConnectionFactory.Check(Options("mysql", "Required", allowInsecure: true, trust: true), Key), StringComparison.Ordinal);
        Assert.Contains("Oracle", TargetConnectionFactory.Check(Options("oracle", "Preferred", allowInsecure: true), Key), StringComparison.Ordinal);
        Assert.Contains("SslCaFile", TargetConnectionFactory.Check(Options("sqlserver", caFile: "/etc/hostname"), Key), StringComparison.Ordinal);
        Assert.Contains("does not exist", TargetConnectionFactory.Check(Options("mysql", caFile: "/nonexistent/ca.pem"), Key), StringComparison.Ordinal);
        Assert.Contains("is not one of", TargetConnectionFactory.Check(Options("mysql", "Sometimes"), Key), StringComparison.Ordinal);
    }
}
