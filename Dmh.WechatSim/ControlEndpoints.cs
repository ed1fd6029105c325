using System.Globalization;
using System.Net;
using System.Text;

namespace Dmh.WechatSim;

/// <summary>The simulator's own controls for tests and people: pay, re-send notifies with faults, inspect.</summary>
public static class ControlEndpoints
{
    /// <param name="Notify">False: mark it paid without sending a notify (the caller plays WeChat's notify itself).</param>
    /// <param name="TransactionId">The transaction id to record (with Notify false: the one the caller's own notify carries).</param>
    public sealed record PayCommand(string OutTradeNo, string? Fault, int? Count, string? OpenId, bool? Notify = null, string? TransactionId = null);

    public sealed record NotifyCommand(string OutTradeNo, string? Fault, int? Count, bool? Retry, string? NotifyUrl, long? AmountFen);

    public sealed record ConfigCommand(string? SignWith);

    public static IEndpointRouteBuilder MapControl(this IEndpointRouteBuilder app)
    {
        var sim = app.MapGroup("/sim");
        sim.MapPost("/pay", Pay);
        sim.MapPost("/notify", NotifyAsync);
        sim.MapGet("/orders/{outTradeNo}", Order);
        sim.MapPost("/config", (ConfigCommand command, SimState state) =>
        {
            if (command.SignWith is not ("publickey" or "certificate"))
            {
                return Results.BadRequest(new { code = "PARAM_ERROR", message = "signWith: publickey | certificate" });
            }

            state.SignWith = command.SignWith;
            return Results.Ok(new { signWith = state.SignWith });
        });
        app.MapGet("/", Index);
        return app;
    }

    private static IResult Pay(PayCommand command, SimState state, Cashier cashier)
    {
        if (!state.Orders.TryGetValue(command.OutTradeNo ?? "", out var order))
        {
            return Results.NotFound(new { code = "ORDER_NOT_EXIST", message = "订单不存在" });
        }

        var fault = command.Fault ?? Faults.None;
        if (!Faults.All.Contains(fault))
        {
            return Results.BadRequest(new { code = "PARAM_ERROR", message = "unknown fault; one of " + string.Join(", ", Faults.All) });
        }

        var (ok, message) = cashier.Pay(order, fault, command.Count ?? 1, command.OpenId, command.Notify ?? true, command.TransactionId);
        return ok ? Results.Ok(new { ok, message, transactionId = order.TransactionId }) : Results.Conflict(new { ok, message });
    }

    private static async Task<IResult> NotifyAsync(NotifyCommand command, SimState state, NotifySender notifier, TimeProvider time, Microsoft.Extensions.Options.IOptions<SimulatorOptions> options)
    {
        var fault = command.Fault ?? Faults.None;
        if (!Faults.All.Contains(fault) || string.IsNullOrEmpty(command.OutTradeNo))
        {
            return Results.BadRequest(new { code = "PARAM_ERROR", message = "outTradeNo and a fault (" + string.Join(", ", Faults.All) + ") are required" });
        }

        SimOrder? order;
        if (fault == Faults.UnknownOrder)
        {
            // A payment DMH never asked for (or has not stored yet): the simulator makes it up, paid.
            if (string.IsNullOrEmpty(command.NotifyUrl) || command.AmountFen is not > 0)
            {
                return Results.BadRequest(new { code = "PARAM_ERROR", message = "unknown-order needs notifyUrl and amountFen" });
            }

            var any = state.Orders.Values.FirstOrDefault();
            var now = time.GetUtcNow();
            order = state.Orders.GetOrAdd(command.OutTradeNo, no => new SimOrder
            {
                OutTradeNo = no, AppId = options.Value.AppId ?? any?.AppId ?? "", MchId = options.Value.MchId ?? any?.MchId ?? "", Description = "未知订单", Total = command.AmountFen.Value,
                NotifyUrl = command.NotifyUrl, TradeType = "JSAPI", PrepayId = "wx" + Guid.NewGuid().ToString("N")[..28],
                RequestFingerprint = "", State = "SUCCESS", TransactionId = state.NextTransactionId(now), SuccessTime = now,
                OpenId = "oSIM" + Guid.NewGuid().ToString("N")[..24],
            });
        }
        else if (!state.Orders.TryGetValue(command.OutTradeNo, out order))
        {
            return Results.NotFound(new { code = "ORDER_NOT_EXIST", message = "订单不存在" });
        }

        lock (order.Gate)
        {
            if (order.State is not ("SUCCESS" or "REFUND"))
            {
                return Results.Conflict(new { code = "ORDER_NOT_PAID", message = "订单未支付：先 POST /sim/pay" });
            }
        }

        var deliveries = await notifier.DeliverTransactionAsync(order, fault, command.Count ?? 1, command.Retry ?? fault == Faults.UnknownOrder);
        return Results.Ok(new { deliveries });
    }

    private static IResult Order(string outTradeNo, SimState state)
    {
        if (!state.Orders.TryGetValue(outTradeNo, out var o))
        {
            return Results.NotFound(new { code = "ORDER_NOT_EXIST", message = "订单不存在" });
        }

        lock (o.Gate)
        {
            return Results.Ok(new
            {
                o.OutTradeNo, o.State, o.Total, o.TradeType, o.TransactionId, o.PrepayId, o.OpenId, o.NotifyUrl, o.SuccessTime, o.PayerClientIp,
                deliveries = o.Deliveries.ToList(),
                refunds = state.Refunds.Values.Where(r => r.Order == o).Select(r => new { r.OutRefundNo, r.RefundId, r.Refund, r.Status }).ToList(),
            });
        }
    }

    private static IResult Index(SimState state)
    {
        var rows = new StringBuilder();
        foreach (var o in state.Orders.Values.OrderByDescending(o => o.OutTradeNo).Take(50))
        {
            string current;
            lock (o.Gate)
            {
                current = o.State;
            }

            var link = o.TradeType == "MWEB" ? $"<a href=\"/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={o.PrepayId}\">收银台</a>" : "JSAPI";
            rows.Append(CultureInfo.InvariantCulture, $"<tr><td>{WebUtility.HtmlEncode(o.OutTradeNo)}</td><td>{o.Total / 100m:0.00}</td><td>{current}</td><td>{link}</td></tr>");
        }

        return TypedResults.Content($$"""
            <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>微信支付模拟器</title><style>body{font-family:sans-serif;padding:16px}td,th{padding:4px 10px;border-bottom:1px solid #ddd}</style></head>
            <body><h2>微信支付模拟器 (DMH WechatSim)</h2>
            <p>Stands in for api.mch.weixin.qq.com, api.weixin.qq.com and open.weixin.qq.com. Controls: POST /sim/pay, POST /sim/notify, GET /sim/orders/{outTradeNo}.</p>
            <table><tr><th>out_trade_no</th><th>金额 (元)</th><th>状态</th><th></th></tr>{{rows}}</table></body></html>
            """, "text/html; charset=utf-8");
    }
}
