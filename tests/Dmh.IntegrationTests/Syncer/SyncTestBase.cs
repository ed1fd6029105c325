using Dmh.Contracts;
using Dmh.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.Syncer;

/// <summary>A syncer test: its own DMH database, customer database of <paramref name="kind"/> and Redis key prefix per test.</summary>
public abstract class SyncTestBase(TargetKind kind) : IAsyncLifetime
{
    protected string Prefix { get; } = TestKeys.NewRedisPrefix();

    protected TestDatabase Db { get; private set; } = null!;

    protected TargetDatabase Target { get; private set; } = null!;

    protected ConnectionMultiplexer Redis { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync();
        Target = await TargetDatabase.CreateAsync(kind);
        Redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
    }

    public async Task DisposeAsync()
    {
        await Redis.GetDatabase().KeyDeleteAsync([Prefix + StreamNames.Sync, Prefix + StreamNames.DeadLetters, Prefix + SyncTargetHealth.Key]);
        await Redis.DisposeAsync();
        await Target.DisposeAsync();
        await Db.DisposeAsync();
    }
}
