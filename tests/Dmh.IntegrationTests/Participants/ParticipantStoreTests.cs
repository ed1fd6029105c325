using Dapper;
using Dmh.Ingress.Participants;
using Dmh.IntegrationTests.Infrastructure;

namespace Dmh.IntegrationTests.Participants;

public sealed class ParticipantStoreTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Two_hundred_concurrent_upserts_of_one_phone_give_one_participant()
    {
        var store = new ParticipantStore(_db.DataSource);
        var start = new TaskCompletionSource();
        var tasks = Enumerable.Range(0, 200).Select(async _ =>
        {
            await start.Task;
            return await store.UpsertAsync("13900139000", null, CancellationToken.None);
        }).ToList();
        start.SetResult();
        var results = await Task.WhenAll(tasks);

        Assert.Single(results.Select(r => r.Id).Distinct());
        Assert.Single(results.Select(r => r.ReferralCode).Distinct());
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM participants WHERE phone = '13900139000'"));
    }

    [Fact]
    public async Task Openid_is_attached_when_free_and_left_off_when_taken()
    {
        var store = new ParticipantStore(_db.DataSource);
        var first = await store.UpsertAsync("13700137001", "openid-1", CancellationToken.None);
        Assert.Equal("openid-1", first.Openid);
        var second = await store.UpsertAsync("13700137002", "openid-1", CancellationToken.None);
        Assert.Null(second.Openid);
        Assert.Equal(first.Id, (await store.FindByReferralCodeAsync(first.ReferralCode, CancellationToken.None))?.Id);
        Assert.Null(await store.FindByReferralCodeAsync("no such code!", CancellationToken.None));
    }
}
