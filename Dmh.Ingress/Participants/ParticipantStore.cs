using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Dapper;
using MySqlConnector;

namespace Dmh.Ingress.Participants;

public sealed record Participant(long Id, string Phone, string? Openid, string ReferralCode);

/// <summary>
/// participants: one row per phone across campaigns (DECISIONS.md: identity). Upserts are race-safe:
/// the phone's unique key decides, never a check-then-insert.
/// </summary>
public sealed partial class ParticipantStore(MySqlDataSource dataSource)
{
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    private const int CodeLength = 10;

    /// <summary>
    /// The participant with this phone, created if new; the openid (from a verified WeChat session only)
    /// is attached when given and neither the participant nor the openid is bound yet.
    /// </summary>
    public async Task<Participant> UpsertAsync(string phone, string? openid, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var (row, _) = await UpsertAsync(connection, null, phone, ct);
        return !string.IsNullOrEmpty(openid) && row.Openid is null && await AttachOpenidAsync(connection, null, row.Id, openid, ct)
            ? row with { Openid = openid }
            : row;
    }

    /// <summary>The participant with this phone inside the caller's transaction, and whether this call created it.</summary>
    public static async Task<(Participant Participant, bool Created)> UpsertAsync(MySqlConnection connection, MySqlTransaction? transaction, string phone, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            // ODKU on the phone key returns the existing id through LAST_INSERT_ID(id). It also fires
            // on a referral_code clash (60 random bits: very rare), which the phone check below catches.
            // With UseAffectedRows an insert counts 1 and the no-op update 0.
            var affected = await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO participants (phone, referral_code) VALUES (@phone, @code) ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
                new { phone, code = NewReferralCode() }, transaction, cancellationToken: ct));
            var row = await connection.QuerySingleAsync<Participant>(new CommandDefinition(
                "SELECT id, phone, openid, referral_code AS ReferralCode FROM participants WHERE id = LAST_INSERT_ID()",
                transaction: transaction, cancellationToken: ct));
            if (row.Phone != phone)
            {
                if (attempt >= 5)
                {
                    throw new InvalidOperationException("Could not allocate a unique referral code.");
                }

                continue;
            }

            return (row, affected == 1);
        }
    }

    /// <summary>
    /// Binds the openid to a participant that has none. An openid bound to another participant is never
    /// moved (IGNORE: the unique key refuses it and nothing changes); false when nothing was attached.
    /// </summary>
    public static async Task<bool> AttachOpenidAsync(MySqlConnection connection, MySqlTransaction? transaction, long participantId, string openid, CancellationToken ct) =>
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE IGNORE participants SET openid = @openid WHERE id = @participantId AND openid IS NULL",
            new { openid, participantId }, transaction, cancellationToken: ct)) == 1;

    public async Task<Participant?> FindByReferralCodeAsync(string code, CancellationToken ct)
    {
        if (!ReferralCodePattern().IsMatch(code))
        {
            return null;
        }

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<Participant>(new CommandDefinition(
            "SELECT id, phone, openid, referral_code AS ReferralCode FROM participants WHERE referral_code = @code", new { code }, cancellationToken: ct));
    }

    public static string NewReferralCode() => RandomNumberGenerator.GetString(Alphabet, CodeLength);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,16}$")]
    private static partial Regex ReferralCodePattern();
}

/// <summary>Phone numbers as the registrant view and referrer lists show them.</summary>
public static partial class PhoneNumbers
{
    /// <summary>Mainland mobile numbers (docs/API.md).</summary>
    public static bool IsMainlandMobile(string? phone) => phone is not null && Mobile().IsMatch(phone);

    /// <summary>
    /// <c>13800138000</c> → <c>138****8000</c>, everywhere DMH shows a phone outside the admin console
    /// (registrant view, posters, referrer lists); anything shorter keeps only its last two digits.
    /// </summary>
    public static string Mask(string? phone)
    {
        var p = phone?.Trim() ?? "";
        return p.Length >= 11
            ? string.Concat(p.AsSpan(0, 3), "****", p.AsSpan(p.Length - 4))
            : new string('*', Math.Max(0, p.Length - 2)) + p[Math.Max(0, p.Length - 2)..];
    }

    [GeneratedRegex(@"^1[3-9]\d{9}$")]
    private static partial Regex Mobile();
}
