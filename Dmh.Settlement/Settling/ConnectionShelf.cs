using System.Collections.Concurrent;

namespace Dmh.Settlement.Settling;

/// <summary>
/// Keeps the settlement lanes' open connections from one batch to the next. Each open from the
/// pool costs a round trip (the pool resets the session, or pings it) and at 500 payments/s a batch
/// holds a few payments per lane, so opening per batch added nearly one round trip per payment. A
/// connection comes back only after its lane finished normally (every settlement ends with COMMIT);
/// one left longer than <paramref name="reuseWithin"/> goes back to the pool instead, whose reset
/// also proves it still works after a quiet spell.
/// </summary>
public sealed class ConnectionShelf<T>(Func<CancellationToken, Task<T>> open, TimeSpan reuseWithin, TimeProvider time) : IAsyncDisposable
    where T : class, IAsyncDisposable
{
    private readonly ConcurrentBag<(T Connection, long ShelvedAt)> _shelf = [];

    /// <summary>A connection shelved within the reuse window, else a newly opened one.</summary>
    public async Task<T> TakeAsync(CancellationToken ct)
    {
        while (_shelf.TryTake(out var held))
        {
            if (time.GetElapsedTime(held.ShelvedAt) <= reuseWithin)
            {
                return held.Connection;
            }

            await held.Connection.DisposeAsync();
        }

        return await open(ct);
    }

    /// <summary>Only for a connection that is healthy and outside any transaction.</summary>
    public void Shelve(T connection) => _shelf.Add((connection, time.GetTimestamp()));

    public async ValueTask DisposeAsync()
    {
        while (_shelf.TryTake(out var held))
        {
            await held.Connection.DisposeAsync();
        }
    }
}
