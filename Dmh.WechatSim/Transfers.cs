using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Dmh.WechatSim;

/// <summary>Transfer faults (POST /sim/transfers/{outBillNo}/fault), applied when the user confirms.</summary>
public static class TransferFaults
{
    public const string None = "none";

    /// <summary>The user never confirms: the confirm sheet answers cancel and the bill waits.</summary>
    public const string NeverConfirm = "never-confirm";

    /// <summary>The confirmed transfer fails (FAIL, fail_reason TRANSFER_RISK).</summary>
    public const string Fail = "fail";

    /// <summary>The final notify is delivered twice.</summary>
    public const string DuplicateNotify = "duplicate-notify";

    /// <summary>No notify is sent: only a query finds the final state.</summary>
    public const string LoseNotify = "lose-notify";

    public static readonly string[] All = [None, NeverConfirm, Fail, DuplicateNotify, LoseNotify];
}

/// <summary>
/// The merchant transfer with the user's confirmation (商家转账, docs/wechatpay-v3-transfers.md): create,
/// query and cancel bills under <c>/v3</c> (signed like every call), the confirmation the JS bridge's
/// <c>requestMerchantTransfer</c> performs, the MCHTRANSFER.BILL.FINISHED notify, and controls for faults.
/// </summary>
public static partial class Transfers
{
    private static readonly TimeSpan China = TimeSpan.FromHours(8);

    public static RouteGroupBuilder MapTransferBills(this RouteGroupBuilder v3)
    {
        v3.MapPost("/fund-app/mch-transfer/transfer-bills", Create);
        v3.MapGet("/fund-app/mch-transfer/transfer-bills/out-bill-no/{outBillNo}", Query);
        v3.MapPost("/fund-app/mch-transfer/transfer-bills/out-bill-no/{outBillNo}/cancel", CancelAsync);
        return v3;
    }

    public static IEndpointRouteBuilder MapTransferControls(this IEndpointRouteBuilder app)
    {
        var sim = app.MapGroup("/sim/transfers");
        sim.MapPost("/confirm", ConfirmAsync).RequireCors(PayPages.CorsPolicy);
        sim.MapPost("/peek", Peek).RequireCors(PayPages.CorsPolicy);
        sim.MapPost("/{outBillNo}/fault", SetFault);
        sim.MapPost("/{outBillNo}/notify", NotifyAsync);
        sim.MapGet("/{outBillNo}", Inspect);
        return app;
    }

    public static object BillJson(SimBill b, bool withPackage) => new
    {
        mch_id = b.MchId,
        out_bill_no = b.OutBillNo,
        transfer_bill_no = b.TransferBillNo,
        appid = b.AppId,
        state = b.State,
        transfer_amount = b.Amount,
        transfer_remark = b.Remark,
        fail_reason = b.FailReason,
        openid = b.OpenId,
        create_time = Rfc3339(b.CreateTime),
        update_time = Rfc3339(b.UpdateTime),
        package_info = withPackage && b.State == "WAIT_USER_CONFIRM" ? b.Package : null,
    };

    private static string Rfc3339(DateTimeOffset t) => t.ToOffset(China).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    private static IResult Create(HttpContext context, SimState state, IOptions<SimulatorOptions> options, TimeProvider time)
    {
        JsonElement body;
        try
        {
            body = JsonDocument.Parse((byte[])context.Items["body"]!).RootElement;
        }
        catch (JsonException)
        {
            return MchApi.Error(400, "PARAM_ERROR", "请求体不是有效的 JSON");
        }

        string? Str(string name) => body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var appId = Str("appid");
        var outBillNo = Str("out_bill_no");
        var scene = Str("transfer_scene_id");
        var openId = Str("openid");
        var remark = Str("transfer_remark");
        var notifyUrl = Str("notify_url");
        long amount = 0;
        var hasAmount = body.TryGetProperty("transfer_amount", out var a) && a.ValueKind == JsonValueKind.Number && a.TryGetInt64(out amount);
        var missing = new[] { ("appid", appId), ("out_bill_no", outBillNo), ("transfer_scene_id", scene), ("openid", openId), ("transfer_remark", remark) }
            .FirstOrDefault(f => string.IsNullOrEmpty(f.Item2)).Item1;
        if (missing is not null || !hasAmount)
        {
            return MchApi.Error(400, "PARAM_ERROR", $"缺少参数 {missing ?? "transfer_amount"}");
        }

        if (!(body.TryGetProperty("transfer_scene_report_infos", out var infos) && infos.ValueKind == JsonValueKind.Array && infos.GetArrayLength() > 0))
        {
            return MchApi.Error(400, "PARAM_ERROR", "需传入转账场景报备信息,请检查");
        }

        if (!OutBillNoPattern().IsMatch(outBillNo!) || amount < 1 || remark!.Length > 32
            || (notifyUrl is not null && (!Uri.TryCreate(notifyUrl, UriKind.Absolute, out var n) || n.Query.Length > 0)))
        {
            return MchApi.Error(400, "PARAM_ERROR", "参数格式错误（out_bill_no、transfer_amount、transfer_remark 或 notify_url）");
        }

        if (!string.IsNullOrEmpty(options.Value.AppId) && appId != options.Value.AppId)
        {
            return MchApi.Error(400, "APPID_MCHID_NOT_MATCH", "appid 和 mch_id 不匹配");
        }

        var now = time.GetUtcNow();
        var created = new SimBill
        {
            OutBillNo = outBillNo!, AppId = appId!, MchId = options.Value.MchId ?? "", OpenId = openId!, Amount = amount, Remark = remark!,
            NotifyUrl = notifyUrl ?? "", CreateTime = now, UpdateTime = now, RequestFingerprint = $"{appId}|{scene}|{openId}|{amount}|{remark}",
            TransferBillNo = "1330" + now.ToOffset(China).ToString("yyMMddHHmmss", CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..18],
            Package = "ABBQO+" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48)),
        };
        var bill = state.Bills.GetOrAdd(outBillNo!, created);
        if (bill == created)
        {
            state.BillsByPackage[bill.Package] = bill;
        }
        else if (bill.RequestFingerprint != created.RequestFingerprint)
        {
            // The same out_bill_no with other parameters: WeChat refuses rather than pay twice.
            return MchApi.Error(400, "INVALID_REQUEST", "商户单号重复，参数与原单不一致");
        }

        lock (bill.Gate)
        {
            return new SignedResult(200, new
            {
                out_bill_no = bill.OutBillNo, transfer_bill_no = bill.TransferBillNo, create_time = Rfc3339(bill.CreateTime), state = bill.State,
                fail_reason = bill.FailReason, package_info = bill.State == "WAIT_USER_CONFIRM" ? bill.Package : null,
            });
        }
    }

    private static IResult Query(string outBillNo, SimState state)
    {
        if (!state.Bills.TryGetValue(outBillNo, out var bill))
        {
            return MchApi.Error(404, "NOT_FOUND", "记录不存在");
        }

        lock (bill.Gate)
        {
            return new SignedResult(200, BillJson(bill, withPackage: false));
        }
    }

    private static async Task<IResult> CancelAsync(string outBillNo, SimState state, NotifySender notifier, TimeProvider time)
    {
        if (!state.Bills.TryGetValue(outBillNo, out var bill))
        {
            return MchApi.Error(404, "NOT_FOUND", "记录不存在");
        }

        DateTimeOffset updated;
        lock (bill.Gate)
        {
            if (bill.State is "SUCCESS" or "FAIL")
            {
                return MchApi.Error(400, "INVALID_REQUEST", "单据状态不允许撤销");
            }

            if (bill.State == "CANCELLED")
            {
                return new SignedResult(200, new { out_bill_no = bill.OutBillNo, transfer_bill_no = bill.TransferBillNo, state = bill.State, update_time = Rfc3339(bill.UpdateTime) });
            }

            // Accepted as CANCELING; the simulator completes the cancel at once (a query then says CANCELLED).
            bill.State = "CANCELLED";
            bill.UpdateTime = updated = time.GetUtcNow();
        }

        await FinalNotifyAsync(bill, state, notifier);
        return new SignedResult(200, new { out_bill_no = bill.OutBillNo, transfer_bill_no = bill.TransferBillNo, state = "CANCELING", update_time = Rfc3339(updated) });
    }

    public sealed record ConfirmCommand(string? Package, string? MchId, string? AppId);

    /// <summary>What the bridge's confirm sheet shows before the user taps.</summary>
    private static IResult Peek(ConfirmCommand command, SimState state)
    {
        if (!state.BillsByPackage.TryGetValue(command.Package ?? "", out var bill))
        {
            return Results.Json(new { err_msg = "requestMerchantTransfer:fail", err_desc = "package_info 信息有误" }, statusCode: 404);
        }

        lock (bill.Gate)
        {
            return Results.Json(new { amountFen = bill.Amount, remark = bill.Remark, state = bill.State });
        }
    }

    /// <summary>The user taps 确认收款 on WeChat's confirm page (the bridge shim calls this): the bill becomes final per its fault, and the notify follows.</summary>
    private static async Task<IResult> ConfirmAsync(ConfirmCommand command, SimState state, NotifySender notifier, TimeProvider time)
    {
        if (!state.BillsByPackage.TryGetValue(command.Package ?? "", out var bill)
            || (command.MchId is not null && command.MchId != bill.MchId) || (command.AppId is not null && command.AppId != bill.AppId))
        {
            return Results.Json(new { err_msg = "requestMerchantTransfer:fail", err_desc = "package_info 信息有误" }, statusCode: 404);
        }

        var fault = state.BillFaults.GetValueOrDefault(bill.OutBillNo, TransferFaults.None);
        lock (bill.Gate)
        {
            if (bill.State != "WAIT_USER_CONFIRM")
            {
                return Results.Json(new { err_msg = "requestMerchantTransfer:fail", err_desc = "单据状态为 " + bill.State }, statusCode: 409);
            }

            if (fault == TransferFaults.NeverConfirm)
            {
                return Results.Json(new { err_msg = "requestMerchantTransfer:cancel" });
            }

            bill.State = fault == TransferFaults.Fail ? "FAIL" : "SUCCESS";
            bill.FailReason = fault == TransferFaults.Fail ? "TRANSFER_RISK" : null;
            bill.UpdateTime = time.GetUtcNow();
        }

        await FinalNotifyAsync(bill, state, notifier);
        return Results.Json(new { err_msg = "requestMerchantTransfer:ok" });
    }

    private static async Task FinalNotifyAsync(SimBill bill, SimState state, NotifySender notifier)
    {
        var fault = state.BillFaults.GetValueOrDefault(bill.OutBillNo, TransferFaults.None);
        if (fault == TransferFaults.LoseNotify || string.IsNullOrEmpty(bill.NotifyUrl))
        {
            return;
        }

        await notifier.DeliverBillAsync(bill, fault == TransferFaults.DuplicateNotify ? 2 : 1);
    }

    public sealed record FaultCommand(string? Fault);

    private static IResult SetFault(string outBillNo, FaultCommand command, SimState state)
    {
        if (command.Fault is not { } fault || !TransferFaults.All.Contains(fault))
        {
            return Results.BadRequest(new { code = "PARAM_ERROR", message = "fault: " + string.Join(" | ", TransferFaults.All) });
        }

        state.BillFaults[outBillNo] = fault;
        return Results.Ok(new { outBillNo, fault });
    }

    private static async Task<IResult> NotifyAsync(string outBillNo, SimState state, NotifySender notifier, int? count)
    {
        if (!state.Bills.TryGetValue(outBillNo, out var bill))
        {
            return Results.NotFound(new { code = "NOT_FOUND", message = "记录不存在" });
        }

        lock (bill.Gate)
        {
            if (bill.State is not ("SUCCESS" or "FAIL" or "CANCELLED"))
            {
                return Results.Conflict(new { code = "NOT_FINAL", message = "单据未到终态" });
            }
        }

        return Results.Ok(new { deliveries = await notifier.DeliverBillAsync(bill, count ?? 1) });
    }

    private static IResult Inspect(string outBillNo, SimState state)
    {
        if (!state.Bills.TryGetValue(outBillNo, out var b))
        {
            return Results.NotFound(new { code = "NOT_FOUND", message = "记录不存在", fault = state.BillFaults.GetValueOrDefault(outBillNo) });
        }

        lock (b.Gate)
        {
            return Results.Ok(new
            {
                b.OutBillNo, b.TransferBillNo, b.State, b.Amount, b.OpenId, b.FailReason, b.Package, b.NotifyUrl,
                fault = state.BillFaults.GetValueOrDefault(b.OutBillNo, TransferFaults.None), deliveries = b.Deliveries.ToList(),
            });
        }
    }

    [GeneratedRegex("^[A-Za-z0-9]{1,32}$")]
    private static partial Regex OutBillNoPattern();
}
