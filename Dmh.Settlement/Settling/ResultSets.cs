using Dapper;
using MySqlConnector;

namespace Dmh.Settlement.Settling;

/// <summary>
/// The result sets of one multi-statement command, read through Dapper but closed without Dapper's
/// cancel. Dapper cancels the command when its grid reader is disposed before the last result set,
/// which is what happens when a statement after the first result set fails (a deadlock, a lock wait
/// timeout): MySqlConnector then sends KILL QUERY and, to clear it, waits on the same connection for a
/// <c>SLEEP(0)</c> synchronously and without any timeout. Under load that wait never ended: the batch's
/// transaction neither committed nor threw, the stream consumer stopped, and a thread-pool thread was
/// blocked for good (chaos <c>settlement-commit-crash</c>). The server ends a multi-statement command at
/// its first error, so closing the reader needs no cancel; the caller rolls back as for any error.
/// </summary>
public sealed class ResultSets : IAsyncDisposable
{
    private readonly SqlMapper.GridReader _grid;

    private ResultSets(SqlMapper.GridReader grid) => _grid = grid;

    public static async Task<ResultSets> QueryAsync(MySqlConnection connection, CommandDefinition command) =>
        new(await connection.QueryMultipleAsync(command));

    public Task<IEnumerable<T>> ReadAsync<T>() => _grid.ReadAsync<T>();

    public Task<T> ReadSingleAsync<T>() => _grid.ReadSingleAsync<T>();

    public async ValueTask DisposeAsync()
    {
        var command = _grid.Command;
        // Without its command, the grid reader only closes the data reader (no Cancel); the command is disposed here.
        _grid.Command = null!;
        await _grid.DisposeAsync();
        if (command is MySqlCommand mySqlCommand)
        {
            await mySqlCommand.DisposeAsync();
        }
        else
        {
            command?.Dispose();
        }
    }
}
