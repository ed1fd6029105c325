using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dmh.IntegrationTests.Syncer;

/// <summary>Issue 23: the admin sync summary reads counters kept by triggers instead of counting every sync_records row.</summary>
public sealed class SyncSummaryCountTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Summary_counts_stay_exact_under_concurrent_writers_and_across_a_restart()
    {
        // Writers on many connections (so the counters' slots are shared), as Settlement, the syncer
        // and admin retries would: inserts, status changes both ways, other updates, a rolled-back
        // transaction and deletes.
        await Task.WhenAll(Enumerable.Range(0, 12).Select(async w =>
        {
            await using var connection = await _db.DataSource.OpenConnectionAsync();
            for (var i = 0; i < 60; i++)
            {
                var id = (w * 1000) + i;
                await connection.ExecuteAsync(
                    "INSERT INTO sync_records (entity, entity_id, order_id) VALUES ('order', @id, @id), ('reward', @id, @id)", new { id });
                var status = (i % 4) switch { 0 => "synced", 1 => "failed", 2 => "synced", _ => "pending" };
                await connection.ExecuteAsync(
                    "UPDATE sync_records SET status = @status, attempts = attempts + 1 WHERE entity IN ('order', 'reward') AND entity_id = @id", new { id, status });
                if (i % 8 == 1)
                {
                    await connection.ExecuteAsync("UPDATE sync_records SET status = 'pending' WHERE entity IN ('order', 'reward') AND entity_id = @id AND status = 'failed'", new { id });
                }

                if (i % 10 == 5)
                {
                    await using var tx = await connection.BeginTransactionAsync();
                    await connection.ExecuteAsync("UPDATE sync_records SET status = 'failed' WHERE entity IN ('order', 'reward') AND entity_id = @id", new { id }, tx);
                    await tx.RollbackAsync();
                }

                if (i % 15 == 7)
                {
                    await connection.ExecuteAsync("DELETE FROM sync_records WHERE entity = 'reward' AND entity_id = @id", new { id });
                }
            }
        }));

        var expected = await CountedAsync();
        Assert.Equal(expected, await SummaryAsync());
        // Another Ingress (a restart) reads the same counters.
        Assert.Equal(expected, await SummaryAsync());
    }

    private async Task<(long Pending, long Synced, long Failed)> CountedAsync()
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        var counts = (await connection.QueryAsync<(string Status, long Count)>("SELECT status, COUNT(*) FROM sync_records GROUP BY status"))
            .ToDictionary(r => r.Status, r => r.Count);
        Assert.True(counts.Values.Sum() > 1000);
        return (counts.GetValueOrDefault("pending"), counts.GetValueOrDefault("synced"), counts.GetValueOrDefault("failed"));
    }

    private async Task<(long Pending, long Synced, long Failed)> SummaryAsync()
    {
        await using var ingress = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix());
        var client = ingress.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            ingress.Services.GetRequiredService<TokenService>().IssueAdmin(1, "admin", AdminRoles.Admin).Token);
        var counts = (await client.GetFromJsonAsync<JsonElement>("/api/v1/sync/summary")).GetProperty("counts");
        return (counts.GetProperty("pending").GetInt64(), counts.GetProperty("synced").GetInt64(), counts.GetProperty("failed").GetInt64());
    }
}
