using Dapper;
using Dmh.Platform.Hosting;
using Dmh.Platform.Withdrawals;
using Dmh.WechatPay;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Prometheus;

namespace Dmh.Settlement.Withdrawals;

/// <summary>
/// Asks WeChat about withdrawals still <c>transferring</c> after <see cref="WithdrawalOptions.ReconcileAfter"/>
/// (a lost notify, a lost create answer): a final state is recorded as the notify would record it; a bill
/// WeChat does not know is created again with the same out_bill_no; a bill still waiting for the user
/// after <see cref="WithdrawalOptions.ConfirmTimeout"/> is cancelled, and its hold released once WeChat
/// says CANCELLED. One instance at a time (a MySQL named lock per database), on <see cref="TimeProvider"/> time.
/// </summary>
public sealed class TransferReconciliationService(
    MySqlDataSource dataSource,
    ITransferProvider provider,
    IOptions<WithdrawalOptions> options,
    IOptions<WechatPayOptions> wechatPay,
    TimeProvider time,
    ILogger<TransferReconciliationService> logger) : BackgroundService
{
    private const string LockName = "CONCAT('dmh_transfer_reconciliation:', DATABASE())";

    private static readonly Counter Outcomes = Metrics.CreateCounter(
        "dmh_transfer_reconciliation_total", "Transfer bills looked at by reconciliation, by outcome.", "outcome");

    private readonly WithdrawalOptions _options = options.Value;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicSweep.RunAsync(SweepAsync, _options.ReconcileInterval, time, logger, "Transfer reconciliation sweep", stoppingToken);

    /// <summary>One sweep; returns the number of withdrawals looked at (0 when another instance holds the lock).</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        if (await connection.ExecuteScalarAsync<long?>($"SELECT GET_LOCK({LockName}, 0)") != 1)
        {
            return 0;
        }

        try
        {
            var now = time.GetUtcNow().UtcDateTime;
            var due = (await connection.QueryAsync<WithdrawalRow>(new CommandDefinition($"""
                SELECT {WithdrawalRow.Columns} FROM withdrawals
                WHERE status = 'transferring' AND COALESCE(last_queried_at, reviewed_at) <= @before
                ORDER BY id LIMIT 200
                """, new { before = now - _options.ReconcileAfter }, cancellationToken: ct))).ToList();
            if (due.Count > 0)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE withdrawals SET last_queried_at = @now WHERE id IN @ids", new { now, ids = due.Select(w => w.Id).ToArray() }, cancellationToken: ct));
            }

            foreach (var w in due)
            {
                try
                {
                    Outcomes.WithLabels(await ReconcileAsync(w, now, ct)).Inc();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Outcomes.WithLabels("error").Inc();
                    logger.LogWarning(ex, "Reconciling transfer {OutBillNo} failed; retried next sweep", w.OutBillNo);
                }
            }

            return due.Count;
        }
        finally
        {
            await connection.ExecuteScalarAsync<long?>($"SELECT RELEASE_LOCK({LockName})");
        }
    }

    private async Task<string> ReconcileAsync(WithdrawalRow w, DateTime now, CancellationToken ct)
    {
        var bill = await provider.QueryBillAsync(w.OutBillNo!, ct);
        if (bill is null)
        {
            // The create call never reached WeChat (or its answer was lost before a bill existed): the same out_bill_no again.
            bill = await CreateAsync(w, ct);
            if (bill is null)
            {
                return "refused";
            }
        }

        if (bill.State == BillStates.WaitUserConfirm && string.IsNullOrEmpty(bill.PackageInfo) && string.IsNullOrEmpty(w.PackageInfo))
        {
            bill = await PackageAsync(w, bill, ct);
        }

        if (bill.State == BillStates.WaitUserConfirm && (w.BillCreatedAt ?? w.ReviewedAt) is { } since && now - since >= _options.ConfirmTimeout)
        {
            logger.LogInformation("Transfer {OutBillNo} waited for the user since {Since}: cancelling", w.OutBillNo, since);
            var cancelled = await provider.CancelBillAsync(w.OutBillNo!, ct);
            bill = bill with { State = cancelled.State, FailReason = "EXPIRED" };
        }

        var outcome = await WithdrawalLedger.ApplyBillAsync(dataSource, w.OutBillNo!,
            new BillUpdate(bill.State ?? "", bill.TransferBillNo, bill.FailReason, bill.TransferAmount, bill.PackageInfo), now, "reconciliation", ct);
        if (outcome == BillOutcome.AmountDiffers)
        {
            logger.LogError("WeChat reports {Amount} fen for transfer {OutBillNo}, not the withdrawal's {Expected}: left for an operator",
                bill.TransferAmount, w.OutBillNo, w.AmountFen);
        }

        return outcome.ToString().ToLowerInvariant();
    }

    private TransferBillRequest Request(WithdrawalRow w) => new(
        w.OutBillNo!, w.Openid!, w.AmountFen, _options.TransferSceneId, _options.TransferRemark, _options.TransferNotifyUrl(wechatPay.Value.NotifyUrl),
        _options.UserRecvPerception,
        [new TransferSceneReportInfo("活动名称", "推广奖励"), new TransferSceneReportInfo("奖励说明", _options.TransferRemark)]);

    /// <summary>
    /// The bill waits for the user but DMH never got its package_info (the create call's answer was lost):
    /// the query does not carry it, so without it the user could never confirm, and the withdrawal would
    /// wait until <see cref="WithdrawalOptions.ConfirmTimeout"/>. The same create again (same out_bill_no and
    /// parameters, as WeChat asks for a retry) answers the existing bill with its package_info. A refusal
    /// changes nothing here: the bill exists.
    /// </summary>
    private async Task<TransferBill> PackageAsync(WithdrawalRow w, TransferBill bill, CancellationToken ct)
    {
        try
        {
            var again = await provider.CreateBillAsync(Request(w), ct);
            return string.IsNullOrEmpty(again.State) ? bill : again with { TransferAmount = again.TransferAmount ?? bill.TransferAmount };
        }
        catch (WechatPayException ex)
        {
            logger.LogWarning(ex, "Transfer {OutBillNo} waits for the user without a package; asking again next sweep", w.OutBillNo);
            return bill;
        }
    }

    private async Task<TransferBill?> CreateAsync(WithdrawalRow w, CancellationToken ct)
    {
        try
        {
            return await provider.CreateBillAsync(Request(w), ct);
        }
        catch (WechatPayException ex) when (ex.Status is 400 or 403)
        {
            logger.LogWarning("WeChat refused the transfer bill {OutBillNo}: {Code}", w.OutBillNo, ex.Code);
            await WithdrawalLedger.FailWithoutBillAsync(dataSource, w.Id, ex.Code ?? "REFUSED", time.GetUtcNow().UtcDateTime, "reconciliation", ct);
            return null;
        }
    }
}
