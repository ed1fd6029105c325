using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Dmh.Chaos;

namespace Dmh.IntegrationTests.Chaos;

/// <summary>The chaos suite's TCP proxy on loopback, in front of an echo server.</summary>
public sealed class TcpFaultProxyTests : IAsyncLifetime
{
    private readonly TcpListener _echo = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private TcpFaultProxy _proxy = null!;
    private Task _echoing = Task.CompletedTask;

    public Task InitializeAsync()
    {
        _echo.Start();
        _echoing = EchoAsync(_stop.Token);
        _proxy = new TcpFaultProxy((IPEndPoint)_echo.LocalEndpoint).Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _stop.CancelAsync();
        _echo.Stop();
        await _echoing.ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    [Fact]
    public async Task Bytes_pass_both_ways_while_no_fault_is_set()
    {
        using var client = await ConnectAsync();

        Assert.Equal("hello", await RoundTripAsync(client, "hello", TimeSpan.FromSeconds(10)));
        Assert.Equal("again", await RoundTripAsync(client, "again", TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Reset_aborts_every_open_connection()
    {
        using var client = await ConnectAsync();
        Assert.Equal("up", await RoundTripAsync(client, "up", TimeSpan.FromSeconds(10)));

        Assert.Equal(1, _proxy.ResetAll());

        var buffer = new byte[16];
        var ended = await Record.ExceptionAsync(async () =>
        {
            var read = await client.Client.ReceiveAsync(buffer, SocketFlags.None, CancellationToken.None);
            if (read == 0)
            {
                throw new SocketException((int)SocketError.ConnectionReset);
            }
        });
        Assert.IsType<SocketException>(ended);
        // A new connection works: a reset is not an outage.
        using var next = await ConnectAsync();
        Assert.Equal("after", await RoundTripAsync(next, "after", TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Black_hole_holds_every_byte_until_it_is_cleared()
    {
        using var client = await ConnectAsync();
        _proxy.BlackHole = true;

        await client.Client.SendAsync(Encoding.ASCII.GetBytes("held"), SocketFlags.None, CancellationToken.None);
        using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var buffer = new byte[16];
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await client.Client.ReceiveAsync(buffer, SocketFlags.None, wait.Token));

        _proxy.Clear();
        Assert.Equal("held", await ReadAsync(client, 4, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Latency_is_added_before_each_chunk_is_passed_on()
    {
        using var client = await ConnectAsync();
        _proxy.Latency = TimeSpan.FromMilliseconds(300);

        var sent = Stopwatch.StartNew();
        Assert.Equal("slow", await RoundTripAsync(client, "slow", TimeSpan.FromSeconds(10)));

        // Both directions pass through the proxy: at least twice the latency (a lower bound, not a speed).
        Assert.True(sent.Elapsed >= TimeSpan.FromMilliseconds(590), $"answered after {sent.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task Bandwidth_cap_slows_a_large_transfer()
    {
        using var client = await ConnectAsync();
        _proxy.BytesPerSecond = 8 * 1024;

        var sent = Stopwatch.StartNew();
        var payload = new string('x', 8 * 1024);
        Assert.Equal(payload, await RoundTripAsync(client, payload, TimeSpan.FromSeconds(30)));

        // 8 KiB at 8 KiB/s, both directions at once (the echo starts as the first chunk arrives): at least
        // the 9 chunks after the first, 0.1 s each (a lower bound, not a speed).
        Assert.True(sent.Elapsed >= TimeSpan.FromMilliseconds(850), $"answered after {sent.Elapsed.TotalMilliseconds} ms");
    }

    private async Task<TcpClient> ConnectAsync()
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, _proxy.Port, CancellationToken.None);
        return client;
    }

    private static async Task<string> RoundTripAsync(TcpClient client, string text, TimeSpan timeout)
    {
        await client.Client.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None, CancellationToken.None);
        return await ReadAsync(client, text.Length, timeout);
    }

    private static async Task<string> ReadAsync(TcpClient client, int length, TimeSpan timeout)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(CancellationToken.None);
        cts.CancelAfter(timeout);
        var buffer = new byte[length];
        var read = 0;
        while (read < length)
        {
            var n = await client.Client.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cts.Token);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return Encoding.ASCII.GetString(buffer, 0, read);
    }

    private async Task EchoAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var socket = await _echo.AcceptSocketAsync(ct);
            _ = Task.Run(async () =>
            {
                using (socket)
                {
                    var buffer = new byte[4096];
                    try
                    {
                        int n;
                        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct)) > 0)
                        {
                            await socket.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, ct);
                        }
                    }
                    catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                    {
                    }
                }
            }, CancellationToken.None);
        }
    }
}
