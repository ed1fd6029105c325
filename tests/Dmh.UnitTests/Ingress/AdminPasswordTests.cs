using Dmh.Ingress.Admins;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.UnitTests.Ingress;

public sealed class AdminPasswordTests
{
    [Theory]
    [InlineData(5)]
    [InlineData(11)]
    public void Unknown_usernames_are_checked_against_a_hash_of_the_configured_cost(int workFactor)
    {
        // No connection is opened: only hashing is exercised.
        using var dataSource = new MySqlDataSource("Server=127.0.0.1");
        var store = new AdminStore(dataSource, Options.Create(new AdminOptions { BcryptWorkFactor = workFactor }));

        Assert.Equal(Cost(store.Hash("a real password")), Cost(store.UnknownUserHash));
        Assert.Equal(workFactor, Cost(store.UnknownUserHash));
    }

    // A BCrypt hash reads "$2a$11$…": the cost is the third field.
    private static int Cost(string hash) => int.Parse(hash.Split('$')[2], System.Globalization.CultureInfo.InvariantCulture);
}
