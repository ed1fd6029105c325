using Dmh.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.Settlement;

/// <summary>A settlement test: its own database and Redis key prefix per test, seeded and driven through <see cref="Kit"/>.</summary>
public abstract class SettlementTestBase : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private ConnectionMultiplexer _redis = null!;

    protected SettlementKit Kit { get; private set; } = null!;

    protected TestDatabase Db => _db;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        Kit = new SettlementKit(_db, _redis, TestKeys.NewRedisPrefix());
    }

    public async Task DisposeAsync()
    {
        await Kit.DeleteKeysAsync();
        await _redis.DisposeAsync();
        await _db.DisposeAsync();
    }
}
