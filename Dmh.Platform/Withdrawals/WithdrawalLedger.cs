using Dapper;
using Dmh.Platform.Rewards;
using MySqlConnector;

namespace Dmh.Platform.Withdrawals;

/// <summary>A <c>withdrawals</c> row.</summary>
public sealed class WithdrawalRow
{
    public long Id { get; init; }
    public long UserId { get; init; }
    public long AmountFen { get; init; }
    public string Status { get; init; } = "";
    public string Mode { get; init; } = "";
    public string? Openid { get; init; }
    public DateTime CreatedAt { get; init; }
    public string? ReviewedBy { get; init; }
    public DateTime? ReviewedAt { get; init; }
    public string? RejectReason { get; init; }
    public string? PaidReference { get; init; }
    public DateTime? PaidAt { get; init; }
    public string? PaidBy { get; init; }
    public string? OutBillNo { get; init; }
    public string? TransferBillNo { get; init; }
    public string? TransferState { get; init; }
    public string? PackageInfo { get; init; }
    public DateTime? BillCreatedAt { get; init; }
    public string? FailReason { get; init; }

    public const string Columns = """
        id AS Id, user_id AS UserId, amount_fen AS AmountFen, status AS Status, mode AS Mode, openid AS Openid, created_at AS CreatedAt,
        reviewed_by AS ReviewedBy, reviewed_at AS ReviewedAt, reject_reason AS RejectReason, paid_reference AS PaidReference, paid_at AS PaidAt,
        paid_by AS PaidBy, out_bill_no AS OutBillNo, transfer_bill_no AS TransferBillNo, transfer_state AS TransferState, package_info AS PackageInfo,
        bill_created_at AS BillCreatedAt, fail_reason AS FailReason
        """;
}

/// <summary>What WeChat says about a bill (a create, query or cancel answer, or the notify).</summary>
public sealed record BillUpdate(string State, string? TransferBillNo, string? FailReason, long? AmountFen, string? PackageInfo = null);

public enum BillOutcome
{
    /// <summary>No withdrawal has this out_bill_no.</summary>
    Unknown,

    /// <summary>The withdrawal is final already (a duplicate or late notify): nothing changed.</summary>
    AlreadyFinal,

    /// <summary>A state that is not final was recorded.</summary>
    Recorded,

    Paid,

    /// <summary>FAIL or CANCELLED: the hold was released.</summary>
    Released,

    /// <summary>The amount WeChat reports is not the withdrawal's: refused, nothing changed.</summary>
    AmountDiffers,
}

/// <summary>
/// The withdrawal's state changes and their ledger rows (issue 18), shared by Ingress (request, review,
/// notify) and Settlement (reconciliation). Each runs in one transaction with the withdrawal row locked
/// first, and changes nothing when the row is no longer in the state the step starts from.
/// </summary>
public static class WithdrawalLedger
{
    public static string HoldKey(long id) => $"withdrawal:{id}:hold";

    public static string ReleaseKey(long id) => $"withdrawal:{id}:release";

    public static string PayoutKey(long id) => $"withdrawal:{id}:payout";

    /// <summary>WeChat's out_bill_no (digits and letters only, ≤ 32).</summary>
    public static string OutBillNo(long id) => "W" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static Task<bool> HoldAsync(MySqlConnection connection, MySqlTransaction tx, long userId, long withdrawalId, long amountFen, DateTime now, CancellationToken ct) =>
        RewardLedger.ApplyAsync(connection, tx, new LedgerEntry(userId, LedgerKind.WithdrawHold, HoldKey(withdrawalId), now,
            AvailableDelta: -amountFen, WithdrawingDelta: amountFen, Reason: "withdrawal " + withdrawalId, Actor: "participant"), ct);

    public static Task<bool> ReleaseAsync(MySqlConnection connection, MySqlTransaction tx, WithdrawalRow w, string reason, string actor, DateTime now, CancellationToken ct) =>
        RewardLedger.ApplyAsync(connection, tx, new LedgerEntry(w.UserId, LedgerKind.WithdrawRelease, ReleaseKey(w.Id), now,
            AvailableDelta: w.AmountFen, WithdrawingDelta: -w.AmountFen, Reason: Trim(reason, 200), Actor: Trim(actor, 64)), ct);

    public static Task<bool> PayoutAsync(MySqlConnection connection, MySqlTransaction tx, WithdrawalRow w, string reason, string actor, DateTime now, CancellationToken ct) =>
        RewardLedger.ApplyAsync(connection, tx, new LedgerEntry(w.UserId, LedgerKind.Payout, PayoutKey(w.Id), now,
            WithdrawingDelta: -w.AmountFen, PaidOutDelta: w.AmountFen, Reason: Trim(reason, 200), Actor: Trim(actor, 64)), ct);

    public static Task<WithdrawalRow?> LockAsync(MySqlConnection connection, MySqlTransaction tx, long id, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<WithdrawalRow>(new CommandDefinition(
            $"SELECT {WithdrawalRow.Columns} FROM withdrawals WHERE id = @id FOR UPDATE", new { id }, tx, cancellationToken: ct));

    public static Task<WithdrawalRow?> FindAsync(MySqlConnection connection, long id, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<WithdrawalRow>(new CommandDefinition(
            $"SELECT {WithdrawalRow.Columns} FROM withdrawals WHERE id = @id", new { id }, cancellationToken: ct));

    /// <summary>
    /// Records what WeChat says about the bill of a <c>transferring</c> withdrawal: SUCCESS pays it out,
    /// FAIL or CANCELLED releases the hold, any other state is only noted. A withdrawal that is final
    /// already changes nothing (duplicate and out-of-order notifies, a query racing the notify).
    /// </summary>
    public static async Task<BillOutcome> ApplyBillAsync(MySqlDataSource dataSource, string outBillNo, BillUpdate update, DateTime now, string actor, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(ct);
                await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct);
                var id = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                    "SELECT id FROM withdrawals WHERE out_bill_no = @outBillNo", new { outBillNo }, tx, cancellationToken: ct));
                var w = id is { } found ? await LockAsync(connection, tx, found, ct) : null;
                if (w is null)
                {
                    return BillOutcome.Unknown;
                }

                if (w.Status != WithdrawalStatus.Transferring)
                {
                    return BillOutcome.AlreadyFinal;
                }

                if (update.AmountFen is { } amount && amount != w.AmountFen)
                {
                    return BillOutcome.AmountDiffers;
                }

                var outcome = await ApplyLockedAsync(connection, tx, w, update, now, actor, ct);
                await tx.CommitAsync(ct);
                return outcome;
            }
            catch (MySqlException ex) when (ex.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout && attempt < 5)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 20) * attempt), ct);
            }
        }
    }

    private static async Task<BillOutcome> ApplyLockedAsync(
        MySqlConnection connection, MySqlTransaction tx, WithdrawalRow w, BillUpdate update, DateTime now, string actor, CancellationToken ct)
    {
        var args = new
        {
            w.Id, now, update.State, update.TransferBillNo, update.PackageInfo,
            FailReason = Trim(update.FailReason ?? (update.State == BillStates.Cancelled ? "CANCELLED" : update.State), 200),
        };
        switch (update.State)
        {
            case BillStates.Success:
                await PayoutAsync(connection, tx, w, "wechat transfer " + w.OutBillNo, actor, now, ct);
                await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE withdrawals SET status = 'paid', open_user_id = NULL, transfer_state = @State, paid_at = @now, paid_by = 'wechat',
                        paid_reference = COALESCE(@TransferBillNo, transfer_bill_no), transfer_bill_no = COALESCE(@TransferBillNo, transfer_bill_no), package_info = NULL
                    WHERE id = @Id
                    """, args, tx, cancellationToken: ct));
                return BillOutcome.Paid;
            case BillStates.Fail or BillStates.Cancelled:
                await ReleaseAsync(connection, tx, w, "wechat transfer " + update.State, actor, now, ct);
                await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE withdrawals SET status = 'failed', open_user_id = NULL, transfer_state = @State, fail_reason = @FailReason,
                        transfer_bill_no = COALESCE(@TransferBillNo, transfer_bill_no), package_info = NULL
                    WHERE id = @Id
                    """, args, tx, cancellationToken: ct));
                return BillOutcome.Released;
            default:
                await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE withdrawals SET transfer_state = @State, transfer_bill_no = COALESCE(@TransferBillNo, transfer_bill_no),
                        package_info = COALESCE(@PackageInfo, package_info), bill_created_at = COALESCE(bill_created_at, @now)
                    WHERE id = @Id
                    """, args, tx, cancellationToken: ct));
                return BillOutcome.Recorded;
        }
    }

    /// <summary>
    /// The bill could not be created (WeChat refused the request: no bill exists): the withdrawal fails
    /// and its hold is released. False when it is not transferring any more.
    /// </summary>
    public static async Task<bool> FailWithoutBillAsync(MySqlDataSource dataSource, long id, string reason, DateTime now, string actor, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct);
        var w = await LockAsync(connection, tx, id, ct);
        if (w is null || w.Status != WithdrawalStatus.Transferring)
        {
            return false;
        }

        await ReleaseAsync(connection, tx, w, "transfer refused: " + reason, actor, now, ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE withdrawals SET status = 'failed', open_user_id = NULL, fail_reason = @reason WHERE id = @id",
            new { id, reason = Trim(reason, 200) }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return true;
    }

    private static string Trim(string value, int max) => value.Length > max ? value[..max] : value;
}
