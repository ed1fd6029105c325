using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Dmh.IntegrationTests.Infrastructure;
using MySqlConnector;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.Deployment;

/// <summary>
/// docs/OPERATIONS.md's backup and restore, command for command: mariadb-dump and redis-cli --rdb while the
/// system runs, then both restored into new, empty servers, and the restored system carries on.
/// </summary>
public sealed class BackupRestoreTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dmh-backup-").FullName;
    private readonly List<Process> _servers = [];
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        foreach (var server in _servers.Where(s => !s.HasExited))
        {
            Run("kill", "-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await server.WaitForExitAsync();
        }

        await _db.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_backup_taken_while_the_system_runs_restores_into_empty_servers_that_carry_on()
    {
        var prefix = TestKeys.NewRedisPrefix();
        var mysql = new MySqlConnectionStringBuilder(TestEnvironment.MySql);
        var redis = ConfigurationOptions.Parse(TestEnvironment.Redis);
        var redisPort = redis.EndPoints[0] switch { DnsEndPoint d => d.Port, IPEndPoint i => i.Port, var e => throw new InvalidOperationException($"{e}") };
        CoreJourney.Paid before;
        var dump = Path.Combine(_dir, "dmh.sql");
        var rdb = Path.Combine(_dir, "dump.rdb");
        await using (var system = await RunningSystem.StartAsync(_db, prefix))
        {
            using var site = new HttpClient { BaseAddress = new Uri(system.IngressUrl) };
            before = await CoreJourney.RunAsync(site, system.Sim, "13912340002");

            // The backup, while Ingress and Settlement run (docs/OPERATIONS.md, "Backups").
            Shell($"mariadb-dump --single-transaction --quick --routines --triggers --hex-blob -h {mysql.Server} -P {mysql.Port} -u {mysql.UserID} {_db.Name} > {dump}",
                ("MYSQL_PWD", mysql.Password));
            Shell($"redis-cli --user {redis.User} -p {redisPort} --rdb {rdb}", ("REDISCLI_AUTH", redis.Password!));
            var acl = Path.Combine(_dir, "users.acl");
            Shell($"redis-cli --user {redis.User} -p {redisPort} ACL LIST > {acl}", ("REDISCLI_AUTH", redis.Password!));
        }

        // Empty servers: a new MariaDB data directory and a new Redis directory.
        var (newMysql, newRedis) = (await EmptyMariaDbAsync(mysql.Password!), await RestoredRedisAsync(rdb, redis.Password!));
        var socket = Path.Combine(_dir, "mariadb.sock");
        Shell($"mariadb --socket={socket} -u {Environment.UserName} -e 'CREATE DATABASE dmh CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci'");
        Shell($"mariadb --socket={socket} -u {Environment.UserName} dmh < {dump}");

        await using var restored = await RunningSystem.StartAsync(_db, prefix, new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = newMysql,
            ["Redis:Configuration"] = newRedis,
        });
        using var restoredSite = new HttpClient { BaseAddress = new Uri(restored.IngressUrl) };

        // What was paid before the backup is there, paid, with its registration code and its stream entry.
        using (var get = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/orders/{before.OrderId}"))
        {
            get.Headers.Add("X-Order-Token", before.OrderToken);
            var order = await CoreJourney.Json(await restoredSite.SendAsync(get));
            Assert.Equal("paid", order.GetProperty("status").GetString());
            Assert.Equal(before.RegistrationCode, order.GetProperty("registrationCode").GetString());
        }

        await using (var connection = await ConnectionMultiplexer.ConnectAsync(newRedis))
        {
            Assert.True(await connection.GetDatabase().StreamLengthAsync(prefix + Dmh.Contracts.StreamNames.Payments) >= 1);
        }

        // And the restored system takes new registrations and payments end to end.
        var after = await CoreJourney.RunAsync(restoredSite, restored.Sim, "13912340003");
        Assert.True(after.OrderId > before.OrderId);
        await using var db = new MySqlConnection(newMysql);
        await db.OpenAsync();
        await using var count = new MySqlCommand("SELECT COUNT(*) FROM orders WHERE status = 'paid'", db);
        Assert.Equal(2L, Convert.ToInt64(await count.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task<string> EmptyMariaDbAsync(string password)
    {
        var data = Path.Combine(_dir, "mariadb");
        var socket = Path.Combine(_dir, "mariadb.sock");
        var port = FreePort();
        var me = Environment.UserName;
        Shell($"mariadb-install-db --no-defaults --datadir={data} --user={me} --auth-root-authentication-method=socket --auth-root-socket-user={me} --skip-test-db > {_dir}/install.log 2>&1");
        // Its own tmpdir: a starting mariadbd deletes every #sql* file in its tmpdir, which in /tmp would be
        // the temporary tables of the other tests' servers.
        var tmp = Path.Combine(_dir, "mariadb-tmp");
        Directory.CreateDirectory(tmp);
        _servers.Add(Process.Start("mariadbd", [
            "--no-defaults", $"--datadir={data}", $"--tmpdir={tmp}", $"--user={me}", $"--port={port}", "--bind-address=127.0.0.1", $"--socket={socket}",
            $"--pid-file={_dir}/mariadb.pid", $"--log-error={_dir}/mariadb.log", "--default-time-zone=+00:00", "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci", "--skip-name-resolve", "--innodb-buffer-pool-size=64M"]));
        await WechatPay.WechatPayFixture.WaitUntilAsync(() => Task.FromResult(Exit($"mariadb-admin --socket={socket} -u {me} ping") == 0), seconds: 60);
        Shell($"mariadb --socket={socket} -u {me} -e \"CREATE USER 'dmh'@'127.0.0.1' IDENTIFIED BY '{password}'; GRANT ALL PRIVILEGES ON dmh.* TO 'dmh'@'127.0.0.1';\"");
        return $"Server=127.0.0.1;Port={port};User ID=dmh;Password={password};Database=dmh";
    }

    private async Task<string> RestoredRedisAsync(string rdb, string adminPassword)
    {
        var dir = Path.Combine(_dir, "redis");
        Directory.CreateDirectory(dir);
        File.Copy(rdb, Path.Combine(dir, "dump.rdb"));
        var port = FreePort();
        // Loaded from the snapshot with AOF off, then AOF switched on: Redis writes the AOF from the loaded data.
        _servers.Add(Process.Start("redis-server", [
            "--port", $"{port}", "--bind", "127.0.0.1", "--dir", dir, "--dbfilename", "dump.rdb", "--appendonly", "no", "--save", "",
            "--aclfile", Path.Combine(_dir, "users.acl"), "--logfile", Path.Combine(_dir, "redis.log")]));
        var auth = ("REDISCLI_AUTH", adminPassword);
        await WechatPay.WechatPayFixture.WaitUntilAsync(() => Task.FromResult(Exit($"redis-cli --user dmh-admin -p {port} ping | grep -q PONG", auth) == 0), seconds: 60);
        Shell($"redis-cli --user dmh-admin -p {port} CONFIG SET appendonly yes", auth);
        Shell($"redis-cli --user dmh-admin -p {port} CONFIG SET appendfsync always", auth);
        return $"127.0.0.1:{port},user=dmh-admin,password={adminPassword}";
    }

    private static void Shell(string command, params (string Name, string Value)[] environment) =>
        Assert.True(Exit(command, environment) == 0, $"failed: {command}");

    private static int Exit(string command, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("bash", ["-o", "pipefail", "-c", command]) { RedirectStandardError = true };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.Error.WriteLine($"{command}: {error}");
        }

        return process.ExitCode;
    }

    private static void Run(string file, params string[] args)
    {
        using var process = Process.Start(file, args);
        process.WaitForExit();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
