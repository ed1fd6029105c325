using Dmh.Platform.Withdrawals;
using Dmh.WechatPay;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Ingress.Withdrawals;

/// <summary>
/// Ingress's side of the WeChat merchant transfer: creates the bill of an approved withdrawal and asks
/// about it when the page says the user confirmed. What WeChat answers is recorded through
/// <see cref="WithdrawalLedger.ApplyBillAsync"/>, the notify's and reconciliation's own path.
/// </summary>
public sealed class WithdrawalTransfers(
    ITransferProvider provider,
    MySqlDataSource dataSource,
    IOptions<WithdrawalOptions> options,
    IOptions<WechatPayOptions> wechatPay,
    TimeProvider time,
    ILogger<WithdrawalTransfers> logger)
{
    /// <summary>
    /// Creates the bill (same out_bill_no on every retry). A refusal (4xx: no bill exists) fails the
    /// withdrawal and releases its hold; no answer leaves it to reconciliation, which asks again.
    /// </summary>
    public async Task CreateBillAsync(WithdrawalRow w, CancellationToken ct)
    {
        var o = options.Value;
        var request = new TransferBillRequest(
            w.OutBillNo!, w.Openid!, w.AmountFen, o.TransferSceneId, o.TransferRemark, o.TransferNotifyUrl(wechatPay.Value.NotifyUrl), o.UserRecvPerception,
            [new TransferSceneReportInfo("活动名称", "推广奖励"), new TransferSceneReportInfo("奖励说明", o.TransferRemark)]);
        TransferBill bill;
        try
        {
            bill = await provider.CreateBillAsync(request, ct);
        }
        catch (WechatPayException ex) when (ex.Status is 400 or 403)
        {
            logger.LogWarning("WeChat refused the transfer bill {OutBillNo}: {Code}", w.OutBillNo, ex.Code);
            await WithdrawalLedger.FailWithoutBillAsync(dataSource, w.Id, ex.Code ?? "REFUSED", time.GetUtcNow().UtcDateTime, "wechat", ct);
            return;
        }
        catch (WechatPayException ex)
        {
            logger.LogWarning(ex, "Transfer bill {OutBillNo} not created now; reconciliation asks again", w.OutBillNo);
            return;
        }

        await RecordAsync(w.OutBillNo!, bill, ct);
    }

    /// <summary>The page says the user confirmed: ask WeChat now (only a hint; the notify or reconciliation settles it otherwise).</summary>
    public async Task QueryAsync(WithdrawalRow w, CancellationToken ct)
    {
        try
        {
            if (await provider.QueryBillAsync(w.OutBillNo!, ct) is { } bill)
            {
                await RecordAsync(w.OutBillNo!, bill, ct);
            }
        }
        catch (WechatPayException ex)
        {
            logger.LogInformation(ex, "Querying transfer bill {OutBillNo} failed; reconciliation asks later", w.OutBillNo);
        }
    }

    private async Task RecordAsync(string outBillNo, TransferBill bill, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(bill.State))
        {
            return;
        }

        var outcome = await WithdrawalLedger.ApplyBillAsync(dataSource, outBillNo,
            new BillUpdate(bill.State, bill.TransferBillNo, bill.FailReason, bill.TransferAmount, bill.PackageInfo), time.GetUtcNow().UtcDateTime, "wechat", ct);
        logger.LogInformation("Transfer bill {OutBillNo} is {State}: {Outcome}", outBillNo, bill.State, outcome);
    }
}
