using Dapper;
using Dmh.IntegrationTests.Infrastructure;
using MySqlConnector;

namespace Dmh.IntegrationTests.Foundation;

/// <summary>
/// A starting mariadbd deletes every #sql* file in its tmpdir. Servers that share /tmp delete each other's
/// temporary tables whenever one of them starts (a test's own server, a restarted customer database),
/// and a query elsewhere then fails with "Error on delete of '/tmp/#sql-temptable-…'".
/// </summary>
public sealed class ServerTmpdirTests
{
    private static async Task<string> TmpdirAsync(string connectionString)
    {
        await using var connection = new MySqlConnection(connectionString);
        return (await connection.ExecuteScalarAsync<string>("SELECT @@tmpdir"))!.TrimEnd('/');
    }

    [Fact]
    public async Task Dmh_and_customer_databases_each_keep_temporary_tables_in_their_own_directory()
    {
        var dmh = await TmpdirAsync(TestEnvironment.MySql);
        var target = await TmpdirAsync(TestEnvironment.TargetMySql);
        Assert.NotEqual("/tmp", dmh);
        Assert.NotEqual("/tmp", target);
        Assert.NotEqual(dmh, target);
    }
}
