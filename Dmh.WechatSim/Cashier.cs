namespace Dmh.WechatSim;

/// <summary>Takes a payment (the user confirmed) and starts the notify.</summary>
public sealed class Cashier(SimState state, NotifySender notifier, TimeProvider time, ILogger<Cashier> logger)
{
    /// <param name="notify">False when the caller delivers WeChat's notify itself (the chaos suite signs its own): only the state changes.</param>
    /// <param name="transactionId">WeChat's transaction id to record (the one the caller's notify carries); a new one when null.</param>
    public (bool Ok, string Message) Pay(SimOrder order, string fault = Faults.None, int count = 1, string? openId = null, bool notify = true, string? transactionId = null)
    {
        var now = time.GetUtcNow();
        lock (order.Gate)
        {
            switch (order.State)
            {
                case "SUCCESS" or "REFUND":
                    return (true, "订单已支付");
                case "CLOSED":
                    return (false, "订单已关闭");
            }

            if (order.TimeExpire is { } expire && expire <= now)
            {
                return (false, "订单已过期");
            }

            order.State = "SUCCESS";
            order.TransactionId = transactionId ?? state.NextTransactionId(now);
            order.SuccessTime = now;
            order.OpenId ??= openId ?? "oSIM" + Guid.NewGuid().ToString("N")[..24];
        }

        logger.LogInformation("Paid {OutTradeNo} ({Total} fen) as {TransactionId}", order.OutTradeNo, order.Total, order.TransactionId);
        if (notify)
        {
            _ = Task.Run(() => notifier.DeliverTransactionAsync(order, fault, count, retry: true));
        }

        return (true, "支付成功");
    }
}
