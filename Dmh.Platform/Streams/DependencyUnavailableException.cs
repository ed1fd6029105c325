using System.Net.Sockets;
using MySqlConnector;

namespace Dmh.Platform.Streams;

/// <summary>
/// Thrown by a stream handler when a dependency it needs (the database) cannot be reached: the
/// consumer backs off and redelivers the batch later without counting the delivery, so an outage
/// does not dead-letter every entry in flight.
/// </summary>
public sealed class DependencyUnavailableException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>
    /// True when <paramref name="ex"/> says MySQL cannot be reached (connection refused or lost, server
    /// shutting down, pool exhausted), as opposed to an error about the statement or the data.
    /// </summary>
    public static bool IsDatabaseUnreachable(Exception ex)
    {
        for (var e = (Exception?)ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case DependencyUnavailableException:
                case SocketException:
                case IOException:
                case MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.ConnectionCountError or MySqlErrorCode.ServerShutdown }:
                    return true;
            }
        }

        return false;
    }
}
