using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Dapper;
using Dmh.Contracts;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Dmh.IntegrationTests.Syncer;

/// <summary>The syncer against a real MariaDB customer database (127.0.0.1:3308).</summary>
public sealed class MariaDbSyncTests(ITestOutputHelper output) : SyncTestBase(TargetKind.MySql)
{
    [Fact]
    public async Task Ten_thousand_orders_and_their_rewards_arrive_exactly_once_even_when_requested_twice()
    {
        var orders = await SyncSeed.OrdersAsync(Db, 10_000);
        var rewards = await SyncSeed.RewardsAsync(Db, orders.Take(500).ToList());
        await using var syncer = new ServiceFactory<Dmh.Syncer.EntryPoint>(Db, Prefix, Target.SyncSettings());
        _ = syncer.Services;

        var clock = Stopwatch.StartNew();
        await SyncSeed.PublishAsync(Redis.GetDatabase(), Prefix, SyncEntities.Order, orders);
        await SyncSeed.PublishAsync(Redis.GetDatabase(), Prefix, SyncEntities.Reward, rewards);
        // A second request for every 10th order: re-published, redelivered or swept, it must not duplicate.
        await SyncSeed.PublishAsync(Redis.GetDatabase(), Prefix, SyncEntities.Order, orders.Where((_, i) => i % 10 == 0));
        await SyncSeed.WaitUntilAsync(async () => (await SyncSeed.StatusCountsAsync(Db)).GetValueOrDefault(SyncStatus.Synced) == 10_500);
        clock.Stop();

        Assert.Equal(10_000, await Target.ScalarAsync("SELECT COUNT(*) FROM dmh_orders"));
        Assert.Equal(10_000, await Target.ScalarAsync("SELECT COUNT(DISTINCT dmh_order_id) FROM dmh_orders"));
        Assert.Equal(500, await Target.ScalarAsync("SELECT COUNT(*) FROM dmh_rewards"));
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        Assert.Equal(10_000, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM orders WHERE sync_status = 'synced'"));

        await using var target = Target.Open();
        await target.OpenAsync();
        var sample = await target.QuerySingleAsync<(string Phone, string Name, decimal Amount)>(
            "SELECT student_phone, student_name, order_amount FROM dmh_orders WHERE dmh_order_id = @id", new { id = orders[7] });
        Assert.Equal(("13000000007", "学员7", 99.00m), sample);

        var delays = (await connection.QueryAsync<double>(
            "SELECT TIMESTAMPDIFF(MICROSECOND, committed_at, synced_at) / 1000.0 FROM sync_records WHERE entity = 'order' ORDER BY 1")).ToList();
        output.WriteLine($"MariaDB target: 10,500 rows in {clock.Elapsed.TotalSeconds:F2} s = {10_500 / clock.Elapsed.TotalSeconds:F0} rows/s; "
            + $"sync delay (committed → synced) p50 {delays[delays.Count / 2]:F0} ms, p99 {delays[(int)(delays.Count * 0.99)]:F0} ms, max {delays[^1]:F0} ms");
    }

    [Fact]
    public async Task Rows_written_while_the_target_is_down_arrive_once_it_is_back()
    {
        await using var proxy = new TcpProxy(Target.Host, Target.Port);
        proxy.Start();
        var orders = await SyncSeed.OrdersAsync(Db, 3_000);
        await using var syncer = new ServiceFactory<Dmh.Syncer.EntryPoint>(Db, Prefix, Target.SyncSettings(proxy.Port));
        _ = syncer.Services;

        await SyncSeed.PublishAsync(Redis.GetDatabase(), Prefix, SyncEntities.Order, orders.Take(1_000));
        await SyncSeed.WaitUntilAsync(async () => (await SyncSeed.StatusCountsAsync(Db)).GetValueOrDefault(SyncStatus.Synced) == 1_000);

        proxy.Stop();
        await SyncSeed.PublishAsync(Redis.GetDatabase(), Prefix, SyncEntities.Order, orders.Skip(1_000));
        // Down for several retry delays, breaker openings and sweeps: rows wait, none gives up.
        await SyncSeed.WaitUntilAsync(async () =>
        {
            await using var c = await Db.DataSource.OpenConnectionAsync();
            return await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM sync_records WHERE status = 'pending' AND last_error IS NOT NULL") == 2_000;
        });
        await Task.Delay(TimeSpan.FromSeconds(3));
        var during = await SyncSeed.StatusCountsAsync(Db);
        Assert.Equal(0, during.GetValueOrDefault(SyncStatus.Failed));
        Assert.Equal(2_000, during.GetValueOrDefault(SyncStatus.Pending));

        proxy.Start();
        await SyncSeed.WaitUntilAsync(async () => (await SyncSeed.StatusCountsAsync(Db)).GetValueOrDefault(SyncStatus.Synced) == 3_000);
        Assert.Equal(3_000, await Target.ScalarAsync("SELECT COUNT(*) FROM dmh_orders"));
        Assert.Equal(3_000, await Target.ScalarAsync("SELECT COUNT(DISTINCT dmh_order_id) FROM dmh_orders"));
    }

    [Fact]
    public async Task A_row_the_target_rejects_fails_with_its_error_while_the_others_go_through_and_a_manual_retry_works_after_the_fix()
    {
        var tooLong = new string('长', 80);
        var orders = await SyncSeed.OrdersAsync(Db, 300, i => i == 123 ? tooLong : "学员" + i);
        var bad = orders[123];
        await using var syncer = new ServiceFactory<Dmh.Syncer.EntryPoint>(Db, Prefix, Target.SyncSettings());
        _ = syncer.Services;

        await SyncSeed.PublishAsync(Redis.GetDatabase(), Prefix, SyncEntities.Order, orders);
        await SyncSeed.WaitUntilAsync(async () =>
        {
            var counts = await SyncSeed.StatusCountsAsync(Db);
            return counts.GetValueOrDefault(SyncStatus.Synced) == 299 && counts.GetValueOrDefault(SyncStatus.Failed) == 1;
        });

        await using var connection = await Db.DataSource.OpenConnectionAsync();
        var failed = await connection.QuerySingleAsync<(long Id, int Attempts, string Error)>(
            "SELECT entity_id, attempts, last_error FROM sync_records WHERE status = 'failed'");
        Assert.Equal(bad, failed.Id);
        Assert.Equal(3, failed.Attempts);
        Assert.Contains("student_name", failed.Error, StringComparison.Ordinal);
        Assert.Equal("failed", await connection.ExecuteScalarAsync<string>("SELECT sync_status FROM orders WHERE id = @bad", new { bad }));
        Assert.Equal(299, await Target.ScalarAsync("SELECT COUNT(*) FROM dmh_orders"));

        await using var ingress = new ServiceFactory<Dmh.Ingress.EntryPoint>(Db, Prefix);
        var client = ingress.CreateClient();
        var token = ingress.Services.GetRequiredService<TokenService>().IssueAdmin(1, "admin", AdminRoles.Admin).Token;
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        var status = await client.GetStringAsync($"/api/v1/sync/status/{bad}");
        Assert.Contains("\"status\":\"failed\"", status, StringComparison.Ordinal);
        var failedPage = await client.GetStringAsync("/api/v1/sync/failed?page=1&pageSize=10");
        Assert.Contains("\"total\":1", failedPage, StringComparison.Ordinal);
        Assert.Contains("student_name", await client.GetStringAsync("/api/v1/sync/summary"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/sync/status/999999999")).StatusCode);

        await using (var target = Target.Open())
        {
            await target.OpenAsync();
            await target.ExecuteAsync("ALTER TABLE dmh_orders MODIFY student_name VARCHAR(200) NULL");
        }

        var retry = await client.PostAsync($"/api/v1/sync/retry/{bad}", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Contains("\"requeued\":1", await retry.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await SyncSeed.WaitUntilAsync(async () => (await SyncSeed.StatusCountsAsync(Db)).GetValueOrDefault(SyncStatus.Synced) == 300);
        Assert.Equal(300, await Target.ScalarAsync("SELECT COUNT(*) FROM dmh_orders"));
        Assert.Equal("synced", await connection.ExecuteScalarAsync<string>("SELECT sync_status FROM orders WHERE id = @bad", new { bad }));

        var summary = await client.GetStringAsync("/api/v1/sync/summary");
        Assert.Contains("\"synced\":300", summary, StringComparison.Ordinal);
        Assert.Contains("\"type\":\"mysql\"", summary, StringComparison.Ordinal);
        Assert.DoesNotContain("student_name", summary, StringComparison.Ordinal); // synced rows carry no error
    }

    [Fact]
    public async Task A_row_committed_but_never_published_is_swept_and_synced()
    {
        var orders = await SyncSeed.OrdersAsync(Db, 20);
        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        {
            // As if settlement crashed between its commit and its XADD.
            await connection.ExecuteAsync("UPDATE sync_records SET published_at = NULL, committed_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE");
        }

        await using var syncer = new ServiceFactory<Dmh.Syncer.EntryPoint>(Db, Prefix, Target.SyncSettings());
        _ = syncer.Services;

        await SyncSeed.WaitUntilAsync(async () => (await SyncSeed.StatusCountsAsync(Db)).GetValueOrDefault(SyncStatus.Synced) == 20);
        Assert.Equal(20, await Target.ScalarAsync("SELECT COUNT(*) FROM dmh_orders"));
    }
}
