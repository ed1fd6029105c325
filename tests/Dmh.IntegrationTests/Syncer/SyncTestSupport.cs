using System.Collections.Concurrent;
using System.Data.Common;
using System.Net;
using System.Net.Sockets;
using Dapper;
using Dmh.Contracts;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.Platform.Security;
using Dmh.Platform.Streams;
using MySqlConnector;
using Npgsql;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.Syncer;

public enum TargetKind
{
    MySql,
    Postgres,
}

/// <summary>A customer database of its own for one test class, on the shared target servers, with the DDL docs/sync gives customers.</summary>
public sealed class TargetDatabase : IAsyncDisposable
{
    private TargetDatabase(TargetKind kind, string name, string host, int port, string user, string password, string connectionString)
    {
        Kind = kind;
        Name = name;
        Host = host;
        Port = port;
        User = user;
        Password = password;
        ConnectionString = connectionString;
    }

    public TargetKind Kind { get; }

    public string Name { get; }

    public string Host { get; }

    public int Port { get; }

    public string User { get; }

    public string Password { get; }

    public string ConnectionString { get; }

    public static async Task<TargetDatabase> CreateAsync(TargetKind kind)
    {
        var name = "dmh_tgt_" + Guid.NewGuid().ToString("N")[..16];
        if (kind == TargetKind.MySql)
        {
            var server = new MySqlConnectionStringBuilder(TestEnvironment.TargetMySql);
            await using (var connection = new MySqlConnection(server.ConnectionString))
            {
                await connection.OpenAsync();
                await connection.ExecuteAsync($"CREATE DATABASE `{name}` CHARACTER SET utf8mb4");
            }

            server.Database = name;
            var target = new TargetDatabase(kind, name, server.Server, (int)server.Port, server.UserID, server.Password, server.ConnectionString);
            await using var db = target.Open();
            await db.OpenAsync();
            await db.ExecuteAsync(RepositoryFiles.ReadText("docs/sync/mysql.sql"));
            return target;
        }
        else
        {
            var server = new NpgsqlConnectionStringBuilder(TestEnvironment.Postgres);
            await using (var connection = new NpgsqlConnection(server.ConnectionString))
            {
                await connection.OpenAsync();
                await connection.ExecuteAsync($"CREATE DATABASE {name}");
            }

            server.Database = name;
            server.Pooling = false;
            var target = new TargetDatabase(kind, name, server.Host!, server.Port, server.Username!, server.Password!, server.ConnectionString);
            await using var db = target.Open();
            await db.OpenAsync();
            await db.ExecuteAsync(RepositoryFiles.ReadText("docs/sync/postgresql.sql"));
            return target;
        }
    }

    public DbConnection Open() => Kind == TargetKind.MySql ? new MySqlConnection(ConnectionString) : new NpgsqlConnection(ConnectionString);

    public async Task<long> ScalarAsync(string sql)
    {
        await using var db = Open();
        await db.OpenAsync();
        return Convert.ToInt64(await db.ExecuteScalarAsync(sql), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Kind == TargetKind.MySql)
            {
                await using var connection = new MySqlConnection(TestEnvironment.TargetMySql);
                await connection.OpenAsync();
                await connection.ExecuteAsync($"DROP DATABASE IF EXISTS `{Name}`");
            }
            else
            {
                NpgsqlConnection.ClearAllPools();
                await using var connection = new NpgsqlConnection(TestEnvironment.Postgres);
                await connection.OpenAsync();
                await connection.ExecuteAsync($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
            }
        }
        catch (DbException)
        {
            // Left behind only if the server went away.
        }
    }

    /// <summary>ExternalSync settings pointing at this database (or at <paramref name="port"/>, e.g. a proxy), password encrypted with the test data key.</summary>
    public Dictionary<string, string?> SyncSettings(int? port = null) => new(ServiceSettings.Section("syncer", new Dictionary<string, string>
    {
        ["targetType"] = Kind == TargetKind.MySql ? "mysql" : "postgresql",
        ["targetHost"] = Host,
        ["targetPort"] = (port ?? Port).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["targetUser"] = User,
        ["targetPassword"] = new SecretProtector(TestKeys.DataKey).Protect(Password),
        ["targetDatabase"] = Name,
    }))
    {
        ["ExternalSync:Database:ConnectTimeoutSeconds"] = "3",
        ["ExternalSync:RetryDelay"] = "00:00:00.300",
        ["ExternalSync:MaxRetryDelay"] = "00:00:01",
        ["ExternalSync:MaxAttempts"] = "3",
        ["ExternalSync:Resilience:MaxRetries"] = "2",
        ["ExternalSync:Resilience:BaseDelay"] = "00:00:00.020",
        ["ExternalSync:Resilience:MaxDelay"] = "00:00:00.200",
        ["ExternalSync:Resilience:AttemptTimeout"] = "00:00:10",
        ["ExternalSync:Resilience:BreakerSamplingDuration"] = "00:00:01",
        ["ExternalSync:Resilience:BreakerBreakDuration"] = "00:00:00.500",
        ["ExternalSync:Sweeper:Interval"] = "00:00:00.100",
        ["ExternalSync:Sweeper:UnpublishedAfter"] = "00:00:01",
        ["ExternalSync:Sweeper:UnsyncedAfter"] = "00:00:05",
        ["Syncer:Consumer:ClaimIdle"] = "00:00:01",
        ["Syncer:Consumer:ClaimInterval"] = "00:00:00.200",
        ["Syncer:Consumer:PollInterval"] = "00:00:00.005",
        ["Syncer:Consumer:BatchSize"] = "500",
    };
}

/// <summary>DMH rows for the syncer to copy: inserted directly, as settlement would commit them.</summary>
public static class SyncSeed
{
    /// <summary>Paid orders with pending sync_records (published); returns their ids.</summary>
    public static async Task<List<long>> OrdersAsync(TestDatabase db, int count, Func<int, string>? name = null)
    {
        await using var connection = await db.DataSource.OpenConnectionAsync();
        var campaignId = await connection.ExecuteScalarAsync<long>(
            "INSERT INTO campaigns (name, price, status) VALUES ('Sync campaign', 99.00, 'active'); SELECT LAST_INSERT_ID();");
        var ids = new List<long>(count);
        foreach (var chunk in Enumerable.Range(0, count).Chunk(1000))
        {
            var values = string.Join(",", chunk.Select(i => $"({campaignId}, 0, '13{i:D9}', @f{i}, 'paid', 99.00, 'paid', 'pending', UTC_TIMESTAMP(3))"));
            var args = new DynamicParameters();
            foreach (var i in chunk)
            {
                args.Add("f" + i, $$"""{"name":"{{(name?.Invoke(i) ?? "学员" + i)}}"}""");
            }

            await connection.ExecuteAsync(
                $"INSERT INTO orders (campaign_id, participant_id, phone, form_data, status, amount, pay_status, sync_status, paid_at) VALUES {values}", args);
        }

        ids.AddRange(await connection.QueryAsync<long>("SELECT id FROM orders WHERE campaign_id = @campaignId ORDER BY id", new { campaignId }));
        await connection.ExecuteAsync("""
            INSERT INTO sync_records (entity, entity_id, order_id, status, committed_at, published_at)
            SELECT 'order', id, id, 'pending', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) FROM orders WHERE campaign_id = @campaignId
            """, new { campaignId });
        return ids;
    }

    public static async Task<List<long>> RewardsAsync(TestDatabase db, IReadOnlyList<long> orderIds)
    {
        await using var connection = await db.DataSource.OpenConnectionAsync();
        var participant = await connection.ExecuteScalarAsync<long>(
            "INSERT INTO participants (phone, referral_code) VALUES (@phone, @code); SELECT LAST_INSERT_ID();",
            new { phone = "139" + Random.Shared.Next(10_000_000, 99_999_999), code = Guid.NewGuid().ToString("N")[..10] });
        await connection.ExecuteAsync(
            "INSERT INTO rewards (user_id, order_id, campaign_id, amount, settled_at) SELECT @participant, id, campaign_id, 10.00, UTC_TIMESTAMP(3) FROM orders WHERE id IN @orderIds",
            new { participant, orderIds });
        var ids = (await connection.QueryAsync<long>("SELECT id FROM rewards WHERE order_id IN @orderIds ORDER BY id", new { orderIds })).ToList();
        await connection.ExecuteAsync("""
            INSERT INTO sync_records (entity, entity_id, order_id, status, committed_at, published_at)
            SELECT 'reward', id, order_id, 'pending', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) FROM rewards WHERE id IN @ids
            """, new { ids });
        return ids;
    }

    public static async Task PublishAsync(IDatabase redis, string prefix, string entity, IEnumerable<long> ids)
    {
        var tasks = ids.Select(id =>
        {
            var request = new SyncRequested(entity, id);
            var envelope = new Envelope(MessageTypes.SyncRequested, 1, request.Key,
                System.Text.Json.JsonSerializer.Serialize(request, StreamPublisher.Json), DateTimeOffset.UtcNow);
            return redis.StreamAddAsync(prefix + StreamNames.Sync, StreamPublisher.ToFields(envelope));
        }).ToList();
        await Task.WhenAll(tasks);
    }

    public static async Task<Dictionary<string, long>> StatusCountsAsync(TestDatabase db)
    {
        await using var connection = await db.DataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<(string Status, long Count)>("SELECT status, COUNT(*) FROM sync_records GROUP BY status"))
            .ToDictionary(r => r.Status, r => r.Count);
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, int seconds = 180)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met within {seconds} s");
            await Task.Delay(50);
        }
    }
}

/// <summary>A TCP proxy in front of a shared server, so a test can cut the target off without stopping it.</summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly ConcurrentDictionary<Socket, byte> _sockets = new();
    private TcpListener? _listener;
    private CancellationTokenSource? _cts;

    public TcpProxy(string host, int port)
    {
        _target = new IPEndPoint(IPAddress.Parse(host), port);
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
    }

    public int Port { get; }

    public void Start()
    {
        _cts = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _ = AcceptLoopAsync(_listener, _cts.Token);
    }

    /// <summary>Refuses new connections and cuts the open ones.</summary>
    public void Stop()
    {
        _cts?.Cancel();
        _listener?.Stop();
        foreach (var socket in _sockets.Keys)
        {
            try
            {
                socket.Close(0);
            }
            catch (ObjectDisposedException)
            {
            }
        }

        _sockets.Clear();
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }

    private async Task AcceptLoopAsync(TcpListener listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(ct);
            }
            catch (Exception) when (ct.IsCancellationRequested || listener.Server is null)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
                _sockets[client] = 0;
                _sockets[upstream] = 0;
                try
                {
                    await upstream.ConnectAsync(_target, ct);
                    await Task.WhenAny(PumpAsync(client, upstream, ct), PumpAsync(upstream, client, ct));
                }
                catch (Exception)
                {
                    // A cut connection is the point of this proxy.
                }
                finally
                {
                    client.Close(0);
                    upstream.Close(0);
                    _sockets.TryRemove(client, out _);
                    _sockets.TryRemove(upstream, out _);
                }
            }, CancellationToken.None);
        }
    }

    private static async Task PumpAsync(Socket from, Socket to, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var read = await from.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (read == 0)
            {
                return;
            }

            await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, ct);
        }
    }
}
