using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Dmh.Contracts;
using Dmh.Ingress.Payments;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.Platform.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.Foundation;

/// <summary>
/// A Redis of its own, started as ./dmh starts it (redis/users.acl, AOF with appendfsync always), killed
/// and started again: what Ingress acknowledged to WeChat must still be there (issue 22, found by
/// ./dmh chaos redis-kill). Redis replays a script's writes from the AOF as MULTI/EXEC and, before
/// 7.2.12/8.x (redis/redis#14545), checks that EXEC against the default user's permissions: with the
/// default user allowed nothing, every published payment was silently dropped on restart.
/// </summary>
public sealed class RedisAofRestartTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dmh-redis-aof-").FullName;
    private readonly int _port = FreePort();
    private readonly string _password = "t-" + Guid.NewGuid().ToString("N");
    private Process? _redis;

    public Task InitializeAsync()
    {
        var render = new ProcessStartInfo("sh", [Path.Combine(TestEnvironment.RepoRoot, "redis", "render-acl.sh"), Path.Combine(TestEnvironment.RepoRoot, "redis", "users.acl")])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var name in new[] { "ADMIN", "INGRESS", "SETTLEMENT", "SYNCER" })
        {
            render.Environment[$"REDIS_{name}_PASSWORD"] = _password;
        }

        using var renderer = Process.Start(render)!;
        File.WriteAllText(Path.Combine(_dir, "users.acl"), renderer.StandardOutput.ReadToEnd());
        renderer.WaitForExit();
        Assert.Equal(0, renderer.ExitCode);
        _redis = StartRedis();
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        KillRedis();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_payment_Ingress_published_survives_Redis_being_killed_and_started_again()
    {
        await using (var ingress = await ConnectAsync("dmh-ingress"))
        {
            var keys = new RedisKeys(Options.Create(new RedisOptions { Configuration = "unused" }));
            var publisher = new PaymentPublisher(ingress, keys, TimeProvider.System);
            var now = DateTimeOffset.UtcNow;
            Assert.True(await publisher.PublishOnceAsync(new PaymentSucceeded("D42A1", "4200000042", 9900, 9900, now, now, PaymentSources.Notify)));
        }

        KillRedis();
        _redis = StartRedis();

        await using var admin = await ConnectAsync("dmh-admin");
        var db = admin.GetDatabase();
        Assert.Equal(1, await db.StreamLengthAsync(StreamNames.Payments));
        Assert.True(await db.KeyExistsAsync(PaymentPublisher.MarkerName("D42A1")));
    }

    private Process StartRedis()
    {
        var start = new ProcessStartInfo("redis-server",
        [
            "--port", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--aclfile", Path.Combine(_dir, "users.acl"), "--dir", _dir,
            "--appendonly", "yes", "--appendfsync", "always", "--save", "",
        ])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var redis = Process.Start(start)!;
        redis.BeginOutputReadLine();
        return redis;
    }

    private void KillRedis()
    {
        if (_redis is { HasExited: false })
        {
            _redis.Kill();
            _redis.WaitForExit();
        }

        _redis?.Dispose();
        _redis = null;
    }

    private async Task<ConnectionMultiplexer> ConnectAsync(string user)
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { { IPAddress.Loopback, _port } },
            User = user,
            Password = _password,
            TieBreaker = "",
            ConfigurationChannel = "",
            AbortOnConnectFail = false,
        };
        var connection = await ConnectionMultiplexer.ConnectAsync(options);
        // Redis answers LOADING while it replays the AOF: wait until it serves commands.
        for (var i = 0; i < 100; i++)
        {
            try
            {
                await connection.GetDatabase().PingAsync();
                return connection;
            }
            catch (RedisException)
            {
                await Task.Delay(100);
            }
        }

        return connection;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
