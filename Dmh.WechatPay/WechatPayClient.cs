using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dmh.WechatPay;

/// <summary>
/// WeChat Pay v3 as <see cref="IPaymentProvider"/>: signed calls, answers accepted only with a valid
/// signature (a 2xx without one is forged), amounts in integer fen.
/// </summary>
public sealed class WechatPayClient(
    IHttpClientFactory clients,
    WechatPaySigner signer,
    WechatPayVerifier verifier,
    IOptions<WechatPayOptions> options,
    ILogger<WechatPayClient> logger) : IPaymentProvider, ITransferProvider
{
    private static readonly TimeSpan ChinaOffset = TimeSpan.FromHours(8);
    private readonly WechatPayOptions _options = options.Value;

    public async Task<JsapiPrepay> PrepayJsapiAsync(PrepayRequest request, string openid, CancellationToken ct)
    {
        var payload = new
        {
            appid = _options.AppId,
            mchid = _options.MchId,
            description = request.Description,
            out_trade_no = request.OutTradeNo,
            time_expire = TimeExpire(request.TimeExpire),
            attach = request.Attach,
            notify_url = _options.NotifyUrl,
            amount = new { total = request.AmountFen, currency = "CNY" },
            payer = new { openid },
        };
        var answer = await CallAsync(HttpMethod.Post, "/v3/pay/transactions/jsapi", payload, ct);
        var prepayId = Read(answer, "prepay_id");
        var pay = signer.PaySign(prepayId);
        return new JsapiPrepay(prepayId, pay.AppId, pay.TimeStamp, pay.NonceStr, pay.Package, pay.SignType, pay.PaySign);
    }

    public async Task<H5Prepay> PrepayH5Async(PrepayRequest request, string payerClientIp, CancellationToken ct)
    {
        var payload = new
        {
            appid = _options.AppId,
            mchid = _options.MchId,
            description = request.Description,
            out_trade_no = request.OutTradeNo,
            time_expire = TimeExpire(request.TimeExpire),
            attach = request.Attach,
            notify_url = _options.NotifyUrl,
            amount = new { total = request.AmountFen, currency = "CNY" },
            scene_info = new { payer_client_ip = payerClientIp, h5_info = new { type = "Wap" } },
        };
        var answer = await CallAsync(HttpMethod.Post, "/v3/pay/transactions/h5", payload, ct);
        return new H5Prepay(Read(answer, "h5_url"));
    }

    public async Task<TradeQueryResult> QueryAsync(string outTradeNo, CancellationToken ct)
    {
        var path = $"/v3/pay/transactions/out-trade-no/{Uri.EscapeDataString(outTradeNo)}?mchid={Uri.EscapeDataString(_options.MchId)}";
        var (status, body) = await SendAsync(HttpMethod.Get, path, null, ct);
        if (status == (int)HttpStatusCode.NotFound && ErrorOf(body)?.Code == TradeQueryResult.OrderNotExist)
        {
            return new TradeQueryResult(TradeQueryResult.OrderNotExist, null, null, null, null, null, null);
        }

        EnsureSuccess(status, body, path);
        var t = JsonSerializer.Deserialize<WechatTransaction>(body, WechatPayJson.Options)
            ?? throw new WechatPayException("Empty query answer", status);
        return new TradeQueryResult(t.TradeState ?? "", t.TransactionId, t.Amount?.Total, t.Amount?.PayerTotal, t.ParsedSuccessTime, t.Appid, t.Mchid);
    }

    public async Task CloseAsync(string outTradeNo, CancellationToken ct)
    {
        var path = $"/v3/pay/transactions/out-trade-no/{Uri.EscapeDataString(outTradeNo)}/close";
        await CallAsync(HttpMethod.Post, path, new { mchid = _options.MchId }, ct);
    }

    public async Task<RefundResult> RefundAsync(RefundRequest request, CancellationToken ct)
    {
        var payload = new
        {
            out_trade_no = request.OutTradeNo,
            out_refund_no = request.OutRefundNo,
            reason = request.Reason,
            notify_url = _options.NotifyUrl,
            amount = new { refund = request.RefundFen, total = request.TotalFen, currency = "CNY" },
        };
        var answer = await CallAsync(HttpMethod.Post, "/v3/refund/domestic/refunds", payload, ct);
        var refund = JsonSerializer.Deserialize<WechatRefund>(answer, WechatPayJson.Options)
            ?? throw new WechatPayException("Empty refund answer");
        return new RefundResult(refund.RefundId ?? "", refund.Status ?? refund.RefundStatus ?? "");
    }

    public async Task<RefundQueryResult> QueryRefundAsync(string outRefundNo, CancellationToken ct)
    {
        var path = $"/v3/refund/domestic/refunds/{Uri.EscapeDataString(outRefundNo)}";
        var (status, body) = await SendAsync(HttpMethod.Get, path, null, ct);
        if (status == (int)HttpStatusCode.NotFound && ErrorOf(body)?.Code == RefundQueryResult.NotExist)
        {
            return new RefundQueryResult(RefundQueryResult.NotExist, null, null);
        }

        EnsureSuccess(status, body, path);
        var refund = JsonSerializer.Deserialize<WechatRefund>(body, WechatPayJson.Options)
            ?? throw new WechatPayException("Empty refund query answer", status);
        return new RefundQueryResult(refund.Status ?? refund.RefundStatus ?? "", refund.RefundId, refund.ParsedSuccessTime);
    }

    public async Task<TransferBill> CreateBillAsync(TransferBillRequest request, CancellationToken ct)
    {
        var payload = new
        {
            appid = _options.AppId,
            out_bill_no = request.OutBillNo,
            transfer_scene_id = request.SceneId,
            openid = request.Openid,
            transfer_amount = request.AmountFen,
            transfer_remark = request.Remark,
            notify_url = request.NotifyUrl,
            user_recv_perception = request.UserRecvPerception,
            transfer_scene_report_infos = request.ReportInfos.Select(i => new { info_type = i.InfoType, info_content = i.InfoContent }).ToArray(),
        };
        var answer = await CallAsync(HttpMethod.Post, TransferBillsPath, payload, ct);
        return JsonSerializer.Deserialize<TransferBill>(answer, WechatPayJson.Options) ?? throw new WechatPayException("Empty transfer answer");
    }

    public async Task<TransferBill?> QueryBillAsync(string outBillNo, CancellationToken ct)
    {
        var path = $"{TransferBillsPath}/out-bill-no/{Uri.EscapeDataString(outBillNo)}";
        var (status, body) = await SendAsync(HttpMethod.Get, path, null, ct);
        if (status == (int)HttpStatusCode.NotFound)
        {
            return null;
        }

        EnsureSuccess(status, body, path);
        return JsonSerializer.Deserialize<TransferBill>(body, WechatPayJson.Options) ?? throw new WechatPayException("Empty transfer query answer", status);
    }

    public async Task<TransferBill> CancelBillAsync(string outBillNo, CancellationToken ct)
    {
        var path = $"{TransferBillsPath}/out-bill-no/{Uri.EscapeDataString(outBillNo)}/cancel";
        var (status, body) = await SendAsync(HttpMethod.Post, path, null, ct);
        EnsureSuccess(status, body, path);
        return JsonSerializer.Deserialize<TransferBill>(body, WechatPayJson.Options) ?? throw new WechatPayException("Empty transfer cancel answer", status);
    }

    private const string TransferBillsPath = "/v3/fund-app/mch-transfer/transfer-bills";

    private static string? TimeExpire(DateTimeOffset? time) =>
        time?.ToOffset(ChinaOffset).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    private static string Read(byte[] body, string field)
    {
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.TryGetProperty(field, out var value) && value.GetString() is { Length: > 0 } s
            ? s
            : throw new WechatPayException($"Answer without {field}");
    }

    private async Task<byte[]> CallAsync(HttpMethod method, string path, object payload, CancellationToken ct)
    {
        var (status, body) = await SendAsync(method, path, JsonSerializer.SerializeToUtf8Bytes(payload, WechatPayJson.Options), ct);
        EnsureSuccess(status, body, path);
        return body;
    }

    private static void EnsureSuccess(int status, byte[] body, string path)
    {
        if (status is < 200 or > 299)
        {
            var error = ErrorOf(body);
            throw new WechatPayException($"{path} answered {status} {error?.Code}: {error?.Message}", status, error?.Code);
        }
    }

    private static WechatError? ErrorOf(byte[] body)
    {
        try
        {
            return body.Length == 0 ? null : JsonSerializer.Deserialize<WechatError>(body, WechatPayJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task<(int Status, byte[] Body)> SendAsync(HttpMethod method, string pathAndQuery, byte[]? body, CancellationToken ct)
    {
        using var request = signer.CreateRequest(method, pathAndQuery, body);
        HttpResponseMessage response;
        try
        {
            response = await clients.CreateClient(WechatPayCertificateDownloader.ClientName).SendAsync(request, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new WechatPayException($"{method} {pathAndQuery}: {ex.Message}", 0, null, ex);
        }

        using (response)
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(ct);
            var status = (int)response.StatusCode;
            if (status is >= 200 and <= 299)
            {
                var check = await verifier.VerifyAsync(WechatPaySignatureHeaders.From(response), bytes, ct);
                if (check != SignatureCheck.Valid)
                {
                    logger.LogError("WeChat Pay answer to {Method} {Path} failed verification: {Check}", method, pathAndQuery, check);
                    throw new WechatPayException($"{method} {pathAndQuery}: the answer's signature is not valid ({check})", status, "SIGN_ERROR");
                }
            }

            return (status, bytes);
        }
    }
}
