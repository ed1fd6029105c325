using Dmh.Ingress.Http;
using Dmh.Ingress.Payments;
using Dmh.Platform.Withdrawals;
using Dmh.WechatPay;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Ingress.Withdrawals;

/// <summary>
/// WeChat's <c>MCHTRANSFER.BILL.FINISHED</c> notify (<c>POST /api/v1/withdrawals/transfer/notify</c>):
/// verified and decrypted exactly like the payment notify, then recorded once through
/// <see cref="WithdrawalLedger.ApplyBillAsync"/>. It answers in WeChat's format (DECISIONS.md).
/// </summary>
public static class TransferNotifyEndpoints
{
    private const int MaxNotifyBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapTransferNotifyEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost(WithdrawalOptions.NotifyPath, NotifyAsync).WithTags("Withdrawals").ExcludeFromDescription();
        return app;
    }

    private static JsonHttpResult<NotifyFailure> Fail(int status, string message) =>
        TypedResults.Json(new NotifyFailure("FAIL", message), statusCode: status);

    private static async Task<Results<NoContent, JsonHttpResult<NotifyFailure>>> NotifyAsync(
        HttpContext http, WechatPayNotifications notifications, MySqlDataSource dataSource, IOptions<WechatPayOptions> options, TimeProvider time,
        ILogger<WithdrawalTransfers> logger)
    {
        try
        {
            var ct = http.RequestAborted;
            var body = await RequestBody.ReadAsync(http.Request, MaxNotifyBytes, ct);
            if (body is null)
            {
                return Fail(413, "报文过大");
            }

            var read = await notifications.ReadAsync(WechatPaySignatureHeaders.From(http.Request.Headers), body, ct);
            switch (read.Outcome)
            {
                case NotifyOutcome.BadSignature:
                    logger.LogWarning("Refused a transfer notify: {Check}", read.Check);
                    return Fail(401, "签名验证失败");
                case NotifyOutcome.Malformed:
                    return Fail(400, "报文格式错误");
                case NotifyOutcome.Undecryptable:
                    logger.LogError("A signed transfer notify could not be decrypted: check WechatPay:ApiV3Key");
                    return Fail(500, "解密失败");
            }

            if (read.Envelope!.EventType != TransferBill.FinishedEvent)
            {
                logger.LogInformation("Ignored transfer notify event {EventType}", read.Envelope.EventType);
                return TypedResults.NoContent();
            }

            var bill = read.Resource<TransferBill>();
            if (bill?.OutBillNo is null || !BillStates.IsFinal(bill.State) || bill.TransferAmount is null)
            {
                return Fail(400, "转账数据不完整");
            }

            if (bill.MchId != options.Value.MchId)
            {
                logger.LogError("Transfer notify {OutBillNo} is for mch_id {MchId}, not this merchant", bill.OutBillNo, bill.MchId);
                return Fail(400, "商户号不匹配");
            }

            var outcome = await WithdrawalLedger.ApplyBillAsync(dataSource, bill.OutBillNo,
                new BillUpdate(bill.State!, bill.TransferBillNo, bill.FailReason, bill.TransferAmount), time.GetUtcNow().UtcDateTime, "wechat", ct);
            switch (outcome)
            {
                case BillOutcome.Unknown:
                    // Not stored (yet): 5xx so that WeChat tries again on its schedule.
                    logger.LogWarning("Transfer notify for unknown out_bill_no {OutBillNo}; asking WeChat to retry", bill.OutBillNo);
                    return Fail(500, "单据不存在");
                case BillOutcome.AmountDiffers:
                    logger.LogError("Transfer notify {OutBillNo} says {Amount} fen, not the withdrawal's amount: refused", bill.OutBillNo, bill.TransferAmount);
                    return Fail(400, "金额不一致");
            }

            logger.LogInformation("Transfer {OutBillNo} {State}: {Outcome}", bill.OutBillNo, bill.State, outcome);
            return TypedResults.NoContent();
        }
        catch (OperationCanceledException)
        {
            return Fail(503, "请求已取消");
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Transfer notify could not be recorded");
            return Fail(500, "系统繁忙");
        }
    }
}
