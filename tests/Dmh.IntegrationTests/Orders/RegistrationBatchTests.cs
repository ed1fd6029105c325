using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Dmh.Ingress.Orders;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;

namespace Dmh.IntegrationTests.Orders;

/// <summary>
/// Issue 23: registrations that arrive while a batch is being written go together in the next one
/// (one transaction, one round trip), each with its own outcome; a batch that fails is written again
/// one by one. The single writer is held on a participant row this test locks, so what queues behind it
/// is known exactly.
/// </summary>
public sealed class RegistrationBatchTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _ingress = null!;
    private RegistrationBatches _batches = null!;
    private long _campaignId;
    private readonly ConcurrentQueue<string> _statements = new();
    private ActivityListener? _listener;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _ingress = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Registration:Writers"] = "1",
        });
        _ = _ingress.CreateClient();
        _batches = _ingress.Services.GetRequiredService<RegistrationBatches>();
        _campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "MySqlConnector",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                var statement = activity.TagObjects.FirstOrDefault(t => t.Key is "db.statement" or "db.query.text").Value?.ToString();
                if (activity.TagObjects.Any(t => t.Value?.ToString() == _db.Name) && statement?.Contains("INSERT INTO participants", StringComparison.Ordinal) == true)
                {
                    _statements.Enqueue(statement);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public async Task DisposeAsync()
    {
        _listener?.Dispose();
        await _ingress.DisposeAsync();
        await _db.DisposeAsync();
    }

    private NewOrder Order(string phone, string? referralCode = null, string formData = """{"name":"张三"}""") =>
        new(_campaignId, phone, formData, null, referralCode, 99.00m, null, false);

    /// <summary>
    /// Holds the one writer inside a registration of <paramref name="phone"/> (its participant insert waits
    /// for this test's uncommitted row), runs <paramref name="queue"/> while it waits, then lets it go.
    /// </summary>
    private async Task<Registration> WhileTheWriterWaitsAsync(string phone, Action queue)
    {
        await using var blocker = await _db.DataSource.OpenConnectionAsync();
        await using var tx = await blocker.BeginTransactionAsync();
        await blocker.ExecuteAsync("INSERT INTO participants (phone, referral_code) VALUES (@phone, 'BLOCKER1')", new { phone }, tx);
        var held = _batches.RegisterAsync(Order(phone), CancellationToken.None);
        await _db.WaitForLockWaitAsync(held, "START TRANSACTION", "INSERT INTO participants");
        Assert.False(held.IsCompleted);
        queue();
        await tx.RollbackAsync();
        return await held;
    }

    // The registrations in each round trip this test's database saw (statements carry parameter names, not phones).
    private List<int> RoundTrips() => [.. _statements.Where(s => !s.Contains("BLOCKER", StringComparison.Ordinal)).Select(s => s.Split("INSERT INTO participants").Length - 1)];

    [Fact]
    public async Task Registrations_queued_behind_a_busy_writer_go_in_one_round_trip_each_with_its_own_outcome()
    {
        var referrer = await _batches.RegisterAsync(Order("13900000001"), CancellationToken.None);
        Assert.True(referrer.Created);

        Task<Registration> first = null!, again = null!, other = null!;
        var held = await WhileTheWriterWaitsAsync("13900000002", () =>
        {
            first = _batches.RegisterAsync(Order("13900000003", referrer.Order.ReferralCode), CancellationToken.None);
            again = _batches.RegisterAsync(Order("13900000003", referrer.Order.ReferralCode), CancellationToken.None);
            other = _batches.RegisterAsync(Order("13900000004"), CancellationToken.None);
        });

        Assert.True(held.Created);
        Assert.True((await first).Created);
        Assert.False((await again).Created);
        Assert.Equal((await first).Order.Id, (await again).Order.Id);
        Assert.True((await other).Created);
        // The referrer and the held one alone, then the three queued behind it in one round trip.
        Assert.Equal([1, 1, 3], RoundTrips());

        await using var connection = await _db.DataSource.OpenConnectionAsync();
        var referrerId = await connection.ExecuteScalarAsync<long>("SELECT id FROM participants WHERE phone = '13900000001'");
        var orders = (await connection.QueryAsync<(string Phone, long ReferrerId, long ReferredBy)>("""
            SELECT o.phone, o.referrer_id, p.referred_by FROM orders o JOIN participants p ON p.id = o.participant_id
            WHERE o.campaign_id = @_campaignId ORDER BY o.phone
            """, new { _campaignId })).ToList();
        Assert.Equal(
            [("13900000001", 0L, 0L), ("13900000002", 0L, 0L), ("13900000003", referrerId, referrerId), ("13900000004", 0L, 0L)],
            orders);
    }

    [Fact]
    public async Task A_batch_that_fails_is_written_again_one_by_one_and_only_the_bad_registration_fails()
    {
        Task<Registration> before = null!, bad = null!, after = null!;
        await WhileTheWriterWaitsAsync("13900000010", () =>
        {
            before = _batches.RegisterAsync(Order("13900000011"), CancellationToken.None);
            // Past the endpoint's checks nothing should be this malformed; the table's JSON check rejects it.
            bad = _batches.RegisterAsync(Order("13900000012", formData: "not json"), CancellationToken.None);
            after = _batches.RegisterAsync(Order("13900000013"), CancellationToken.None);
        });

        Assert.True((await before).Created);
        Assert.True((await after).Created);
        await Assert.ThrowsAsync<MySqlException>(() => bad);
        // The held one, the failed batch of three, then each of the three alone.
        Assert.Equal([1, 3, 1, 1, 1], RoundTrips());

        await using var connection = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(
            ["13900000010", "13900000011", "13900000013"],
            await connection.QueryAsync<string>("SELECT phone FROM orders WHERE campaign_id = @_campaignId ORDER BY phone", new { _campaignId }));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM participants WHERE phone = '13900000012'"));
    }
}
