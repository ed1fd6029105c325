using Dmh.Settlement.Settling;
using Microsoft.Extensions.Time.Testing;

namespace Dmh.UnitTests.Settlement;

public sealed class ConnectionShelfTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly List<FakeConnection> _opened = [];

    private ConnectionShelf<FakeConnection> NewShelf() => new(_ =>
    {
        var connection = new FakeConnection();
        _opened.Add(connection);
        return Task.FromResult(connection);
    }, TimeSpan.FromSeconds(5), _time);

    [Fact]
    public async Task A_shelved_connection_is_taken_again_within_the_window_instead_of_opening_one()
    {
        await using var shelf = NewShelf();
        var first = await shelf.TakeAsync(default);
        shelf.Shelve(first);
        _time.Advance(TimeSpan.FromSeconds(4));

        Assert.Same(first, await shelf.TakeAsync(default));
        Assert.Single(_opened);
        Assert.False(first.Disposed);
    }

    [Fact]
    public async Task A_connection_shelved_too_long_goes_back_to_the_pool_and_a_fresh_one_is_opened()
    {
        await using var shelf = NewShelf();
        var first = await shelf.TakeAsync(default);
        shelf.Shelve(first);
        _time.Advance(TimeSpan.FromSeconds(6));

        var second = await shelf.TakeAsync(default);

        Assert.NotSame(first, second);
        Assert.True(first.Disposed);
        Assert.Equal(2, _opened.Count);
    }

    [Fact]
    public async Task Lanes_of_one_batch_get_distinct_connections_and_disposing_the_shelf_closes_what_it_holds()
    {
        var shelf = NewShelf();
        var a = await shelf.TakeAsync(default);
        var b = await shelf.TakeAsync(default);
        Assert.NotSame(a, b);
        shelf.Shelve(a);
        shelf.Shelve(b);

        await shelf.DisposeAsync();

        Assert.True(a.Disposed && b.Disposed);
    }

    public sealed class FakeConnection : IAsyncDisposable
    {
        public bool Disposed { get; private set; }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
