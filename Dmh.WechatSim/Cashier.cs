namespace Dmh.WechatSim;

/// <summary>Takes a payment (the user confirmed) and starts the notify.</summary>
public sealed class Cashier(SimState state, NotifySender notifier, TimeProvider time, ILogger<Cashier> logger)
{
    public (bool Ok, string Message) Pay(SimOrder order, string fault = Faults.None, int count = 1, string? openId = null)
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
            order.TransactionId = state.NextTransactionId(now);
            order.SuccessTime = now;
            order.OpenId ??= openId ?? "oSIM" + Guid.NewGuid().ToString("N")[..24];
        }

        logger.LogInformation("Paid {OutTradeNo} ({Total} fen) as {TransactionId}", order.OutTradeNo, order.Total, order.TransactionId);
        _ = Task.Run(() => notifier.DeliverTransactionAsync(order, fault, count, retry: true));
        return (true, "支付成功");
    }
}
