using System.Security.Cryptography;
using Dapper;
using Dmh.Ingress.Audit;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Ingress.Admins;

/// <summary>An admin account. <see cref="SessionVersion"/> is in every session token and goes up to end them all.</summary>
public sealed record AdminUser(long Id, string Username, string PasswordHash, string Role, DateTime CreatedAt, DateTime? DisabledAt, int SessionVersion);

/// <summary>admin_users: accounts with BCrypt password hashes.</summary>
public sealed class AdminStore(MySqlDataSource dataSource, IOptions<AdminOptions> options)
{
    public const int MinPasswordLength = 8;

    private const string Columns = "id, username, password_hash AS PasswordHash, role, created_at AS CreatedAt, disabled_at AS DisabledAt, session_version AS SessionVersion";

    // Verified when the username is unknown, so a wrong name costs as long as a wrong password: the same work factor.
    private readonly Lazy<string> _unknownUserHash = new(() =>
        BCrypt.Net.BCrypt.HashPassword(Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)), options.Value.BcryptWorkFactor));

    internal string UnknownUserHash => _unknownUserHash.Value;

    public string Hash(string password) => BCrypt.Net.BCrypt.HashPassword(password, options.Value.BcryptWorkFactor);

    /// <summary>The enabled account whose password matches, or null.</summary>
    public async Task<AdminUser?> VerifyAsync(string username, string password, CancellationToken ct)
    {
        var user = await FindByUsernameAsync(username, ct);
        var ok = BCrypt.Net.BCrypt.Verify(password, user?.PasswordHash ?? UnknownUserHash);
        return ok && user is { DisabledAt: null } ? user : null;
    }

    public async Task<AdminUser?> FindByUsernameAsync(string username, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<AdminUser>(new CommandDefinition(
            $"SELECT {Columns} FROM admin_users WHERE username = @username",
            new { username }, cancellationToken: ct));
    }

    public async Task<AdminUser?> FindAsync(long id, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<AdminUser>(new CommandDefinition(
            $"SELECT {Columns} FROM admin_users WHERE id = @id",
            new { id }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<AdminUser>> ListAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<AdminUser>(new CommandDefinition(
            $"SELECT {Columns} FROM admin_users ORDER BY id",
            cancellationToken: ct))).AsList();
    }

    /// <summary>Creates an account; null when the username is taken (the unique key decides).</summary>
    public async Task<long?> CreateAsync(string username, string password, string role, CancellationToken ct, AuditEntry? audit = null)
    {
        var hash = Hash(password);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var id = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "INSERT IGNORE INTO admin_users (username, password_hash, role) VALUES (@username, @hash, @role); SELECT IF(ROW_COUNT() = 1, LAST_INSERT_ID(), NULL);",
            new { username, hash, role }, tx, cancellationToken: ct));
        if (id is not null)
        {
            await AuditLog.WriteAsync(connection, tx, audit is null ? null : audit with { TargetId = id.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) }, ct);
        }

        await tx.CommitAsync(ct);
        return id;
    }

    /// <summary>
    /// Creates the first admin only while admin_users is empty. Several instances starting at once
    /// race on the username's unique key, so at most one row results.
    /// </summary>
    public async Task<bool> SeedInitialAsync(string username, string password, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        if (await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM admin_users", cancellationToken: ct)) > 0)
        {
            return false;
        }

        var hash = Hash(password);
        var rows = await connection.ExecuteAsync(new CommandDefinition(
            "INSERT IGNORE INTO admin_users (username, password_hash, role) VALUES (@username, @hash, 'admin')",
            new { username, hash }, cancellationToken: ct));
        return rows == 1;
    }

    public async Task<bool> DisableAsync(long id, CancellationToken ct, AuditEntry? audit = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE admin_users SET disabled_at = UTC_TIMESTAMP(3), session_version = session_version + 1 WHERE id = @id AND disabled_at IS NULL",
            new { id }, tx, cancellationToken: ct)) == 1;
        if (changed)
        {
            await AuditLog.WriteAsync(connection, tx, audit, ct);
        }

        await tx.CommitAsync(ct);
        return changed;
    }

    /// <summary>Gives an enabled account another role and ends its sessions (their tokens carry the old role); false when nothing changed.</summary>
    public async Task<bool> SetRoleAsync(long id, string role, CancellationToken ct, AuditEntry? audit = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE admin_users SET role = @role, session_version = session_version + 1 WHERE id = @id AND role <> @role AND disabled_at IS NULL",
            new { id, role }, tx, cancellationToken: ct)) == 1;
        if (changed)
        {
            await AuditLog.WriteAsync(connection, tx, audit, ct);
        }

        await tx.CommitAsync(ct);
        return changed;
    }

    /// <summary>Sets a new password and ends every session of the account (its tokens carry the old version).</summary>
    public async Task SetPasswordAsync(long id, string password, CancellationToken ct, AuditEntry? audit = null)
    {
        var hash = Hash(password);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE admin_users SET password_hash = @hash, session_version = session_version + 1 WHERE id = @id", new { id, hash }, tx, cancellationToken: ct));
        await AuditLog.WriteAsync(connection, tx, audit, ct);
        await tx.CommitAsync(ct);
    }
}
