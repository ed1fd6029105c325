using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Dmh.Chaos;

/// <summary>
/// A TCP proxy on 127.0.0.1 between a service and one of its servers (Redis, MariaDB, the customer's
/// database) that injects network faults on demand: latency per chunk, a bandwidth cap, resets of every
/// open connection, and a black hole that holds every byte (and every new connection) until cleared.
/// </summary>
public sealed class TcpFaultProxy : IAsyncDisposable
{
    private const int ChunkSize = 16 * 1024;

    private readonly IPEndPoint _upstream;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, (Socket Client, Socket Server)> _connections = new();
    private long _nextId;
    private Task _accepting = Task.CompletedTask;
    private volatile bool _blackHole;

    public TcpFaultProxy(IPEndPoint upstream)
    {
        _upstream = upstream;
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Added before each chunk is passed on, in both directions.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Bytes per second in each direction of each connection; 0 for no cap.</summary>
    public int BytesPerSecond { get; set; }

    /// <summary>While set, nothing is passed on and new connections are held before reaching the server.</summary>
    public bool BlackHole
    {
        get => _blackHole;
        set => _blackHole = value;
    }

    public int OpenConnections => _connections.Count;

    public TcpFaultProxy Start()
    {
        _listener.Start(512);
        _accepting = AcceptAsync(_stop.Token);
        return this;
    }

    /// <summary>Every fault off.</summary>
    public void Clear()
    {
        Latency = TimeSpan.Zero;
        BytesPerSecond = 0;
        BlackHole = false;
    }

    /// <summary>Aborts every open connection with a TCP reset on both sides.</summary>
    public int ResetAll()
    {
        var count = 0;
        foreach (var (id, pair) in _connections)
        {
            if (_connections.TryRemove(id, out _))
            {
                Abort(pair.Client);
                Abort(pair.Server);
                count++;
            }
        }

        return count;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        ResetAll();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(ct);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client, ct), CancellationToken.None);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken ct)
    {
        client.NoDelay = true;
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var id = Interlocked.Increment(ref _nextId);
        try
        {
            while (_blackHole && !ct.IsCancellationRequested)
            {
                await Task.Delay(20, ct);
            }

            await server.ConnectAsync(_upstream, ct);
            _connections[id] = (client, server);
            await Task.WhenAny(PumpAsync(client, server, ct), PumpAsync(server, client, ct));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            // One side closed or failed: close both, as a real connection would end.
            _connections.TryRemove(id, out _);
            client.Dispose();
            server.Dispose();
        }
    }

    private async Task PumpAsync(Socket from, Socket to, CancellationToken ct)
    {
        var buffer = new byte[ChunkSize];
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, ct);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                while (_blackHole && !ct.IsCancellationRequested)
                {
                    await Task.Delay(20, ct);
                }

                if (Latency > TimeSpan.Zero)
                {
                    await Task.Delay(Latency, ct);
                }

                // Under a bandwidth cap the bytes go on in tenths of a second's worth, each followed by its time.
                var sent = 0;
                while (sent < read)
                {
                    var cap = BytesPerSecond;
                    var slice = cap > 0 ? Math.Min(read - sent, Math.Max(1, cap / 10)) : read - sent;
                    sent += await to.SendAsync(buffer.AsMemory(sent, slice), SocketFlags.None, ct);
                    if (cap > 0)
                    {
                        await Task.Delay(TimeSpan.FromSeconds((double)slice / cap), ct);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static void Abort(Socket socket)
    {
        try
        {
            // Linger 0: close sends RST instead of FIN, as a middlebox dropping the connection would.
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }
}
