using Dapper;
using Dmh.IntegrationTests.Infrastructure;
using MySqlConnector;

namespace Dmh.IntegrationTests.Foundation;

/// <summary>The live-row duplicate guard on orders (campaign_id, phone): the proposal's key let duplicates in.</summary>
public sealed class DuplicateGuardTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Two_hundred_concurrent_inserts_of_one_phone_leave_one_live_row()
    {
        var start = new TaskCompletionSource();
        var attempts = Enumerable.Range(0, 200).Select(async _ =>
        {
            await using var connection = await _db.DataSource.OpenConnectionAsync();
            await start.Task;
            try
            {
                await connection.ExecuteAsync(
                    "INSERT INTO orders (campaign_id, phone, amount) VALUES (7, '13800138000', 99.00)");
                return true;
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
            {
                return false;
            }
        }).ToList();
        start.SetResult();
        var results = await Task.WhenAll(attempts);

        Assert.Equal(1, results.Count(inserted => inserted));
        await using var check = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await check.ExecuteScalarAsync<int>(
            "SELECT COUNT(*) FROM orders WHERE campaign_id = 7 AND phone = '13800138000' AND deleted_at IS NULL"));
    }

    [Fact]
    public async Task After_a_soft_delete_the_same_phone_can_register_again_and_history_stays()
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        const string insert = "INSERT INTO orders (campaign_id, phone, amount) VALUES (8, '13900139000', 10.00)";
        await connection.ExecuteAsync(insert);
        await Assert.ThrowsAsync<MySqlException>(() => connection.ExecuteAsync(insert));

        await connection.ExecuteAsync("UPDATE orders SET deleted_at = UTC_TIMESTAMP(3) WHERE campaign_id = 8");
        await connection.ExecuteAsync(insert);
        await connection.ExecuteAsync("UPDATE orders SET deleted_at = UTC_TIMESTAMP(3) WHERE campaign_id = 8 AND deleted_at IS NULL");
        await connection.ExecuteAsync(insert);

        Assert.Equal(3, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM orders WHERE campaign_id = 8"));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM orders WHERE campaign_id = 8 AND deleted_at IS NULL"));
        await Assert.ThrowsAsync<MySqlException>(() => connection.ExecuteAsync(insert));
    }

    [Fact]
    public async Task Other_campaigns_and_phones_are_independent()
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("INSERT INTO orders (campaign_id, phone, amount) VALUES (9, '13700137000', 1.00)");
        await connection.ExecuteAsync("INSERT INTO orders (campaign_id, phone, amount) VALUES (10, '13700137000', 1.00)");
        await connection.ExecuteAsync("INSERT INTO orders (campaign_id, phone, amount) VALUES (9, '13700137001', 1.00)");
        Assert.Equal(3, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM orders WHERE campaign_id IN (9, 10)"));
    }
}
