using System.Globalization;
using System.Text;
using System.Text.Json;
using Dmh.WechatPay;
using Microsoft.Extensions.Options;

namespace Dmh.WechatSim;

/// <summary>Faults the simulator can inject into a notify (POST /sim/notify, or <c>fault</c> on a pay action).</summary>
public static class Faults
{
    public const string None = "none";
    public const string SignTest = "signtest";
    public const string StaleTimestamp = "stale-timestamp";
    public const string UnknownSerial = "unknown-serial";
    public const string Tampered = "tampered";
    public const string WrongAmount = "wrong-amount";
    public const string Duplicate = "duplicate";
    public const string Concurrent = "concurrent";
    public const string UnknownOrder = "unknown-order";

    public static readonly string[] All = [None, SignTest, StaleTimestamp, UnknownSerial, Tampered, WrongAmount, Duplicate, Concurrent, UnknownOrder];
}

/// <summary>
/// Sends signed, encrypted notifies with the real headers and WeChat's retry schedule
/// (docs/wechatpay-v3.md §3), every delay multiplied by Simulator:TimeCompression.
/// </summary>
public sealed class NotifySender(
    IHttpClientFactory clients,
    SimKeys keys,
    SimState state,
    IOptions<SimulatorOptions> options,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<NotifySender> logger)
{
    public const string ClientName = "notify";

    /// <summary>WeChat's intervals between tries after the first one fails.</summary>
    public static readonly TimeSpan[] RetrySchedule =
    [
        TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(3),
        TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(20), TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(30),
        TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(60), TimeSpan.FromHours(3), TimeSpan.FromHours(3),
        TimeSpan.FromHours(3), TimeSpan.FromHours(6), TimeSpan.FromHours(6),
    ];

    private static readonly JsonSerializerOptions Json = WechatPayJson.Options;
    private readonly SimulatorOptions _options = options.Value;
    private readonly byte[] _apiV3Key = Encoding.UTF8.GetBytes(options.Value.ApiV3Key);

    public static object TransactionJson(SimOrder o, long? totalOverride = null) => new
    {
        appid = o.AppId,
        mchid = o.MchId,
        out_trade_no = o.OutTradeNo,
        transaction_id = o.TransactionId,
        trade_type = o.TradeType,
        trade_state = o.State,
        trade_state_desc = o.State switch
        {
            "SUCCESS" => "支付成功",
            "NOTPAY" => "订单未支付",
            "CLOSED" => "订单已关闭",
            "REFUND" => "转入退款",
            _ => o.State,
        },
        bank_type = o.TransactionId is null ? null : "OTHERS",
        attach = o.Attach ?? "",
        success_time = o.SuccessTime?.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
        payer = o.OpenId is null ? null : new { openid = o.OpenId },
        amount = new
        {
            total = totalOverride ?? o.Total,
            payer_total = o.TransactionId is null ? (long?)null : totalOverride ?? o.Total,
            currency = "CNY",
            payer_currency = "CNY",
        },
    };

    /// <summary>Delivers a payment notify now (count times, in sequence or at once) and, when asked, keeps retrying in the background until DMH answers 2xx.</summary>
    public async Task<IReadOnlyList<DeliveryRecord>> DeliverTransactionAsync(SimOrder order, string fault, int count, bool retry)
    {
        object resource;
        lock (order.Gate)
        {
            resource = TransactionJson(order, fault == Faults.WrongAmount ? order.Total + 1 : null);
        }

        var body = Envelope(NotifyEnvelope.TransactionSuccess, "transaction", "支付成功", resource);
        return await DeliverAsync(order, order.NotifyUrl, NotifyEnvelope.TransactionSuccess, body, fault, count, retry);
    }

    public Task<IReadOnlyList<DeliveryRecord>> DeliverRefundAsync(SimRefund refund)
    {
        var o = refund.Order;
        var resource = new
        {
            mchid = o.MchId,
            out_trade_no = o.OutTradeNo,
            transaction_id = o.TransactionId,
            out_refund_no = refund.OutRefundNo,
            refund_id = refund.RefundId,
            refund_status = refund.Status,
            success_time = refund.SuccessTime?.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
            user_received_account = "支付用户零钱",
            amount = new { total = o.Total, refund = refund.Refund, payer_total = o.Total, payer_refund = refund.Refund },
        };
        var eventType = "REFUND." + refund.Status;
        var body = Envelope(eventType, "refund", "退款成功", resource);
        return DeliverAsync(o, refund.NotifyUrl, eventType, body, Faults.None, 1, retry: true);
    }

    /// <summary>A transfer bill's MCHTRANSFER.BILL.FINISHED notify (docs/wechatpay-v3-transfers.md §6), <paramref name="count"/> times in sequence, retried until answered 2xx.</summary>
    public Task<IReadOnlyList<DeliveryRecord>> DeliverBillAsync(SimBill bill, int count)
    {
        object resource;
        lock (bill.Gate)
        {
            resource = Transfers.BillJson(bill, withPackage: false);
        }

        var body = Envelope(TransferBill.FinishedEvent, "mch_payment", "商家转账单据终态通知", resource);
        return DeliverAsync(bill, bill.NotifyUrl, TransferBill.FinishedEvent, body, count > 1 ? Faults.Duplicate : Faults.None, count, retry: true);
    }

    private byte[] Envelope(string eventType, string originalType, string summary, object resource)
    {
        var nonce = WechatPayCrypto.NewNonce(12);
        var plain = JsonSerializer.SerializeToUtf8Bytes(resource, Json);
        var envelope = new
        {
            id = "EV-" + Guid.NewGuid().ToString("N"),
            create_time = time.GetUtcNow().ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
            resource_type = "encrypt-resource",
            event_type = eventType,
            summary,
            resource = new
            {
                original_type = originalType,
                algorithm = "AEAD_AES_256_GCM",
                ciphertext = WechatPayCrypto.Encrypt(_apiV3Key, nonce, originalType, plain),
                associated_data = originalType,
                nonce,
            },
        };
        return JsonSerializer.SerializeToUtf8Bytes(envelope, Json);
    }

    private async Task<IReadOnlyList<DeliveryRecord>> DeliverAsync(INotified order, string url, string eventType, byte[] body, string fault, int count, bool retry)
    {
        var results = new List<DeliveryRecord>();
        if (fault == Faults.Concurrent)
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var tries = Enumerable.Range(1, Math.Max(count, 1)).Select(async i =>
            {
                await start.Task;
                return await SendOnceAsync(order, url, eventType, body, fault, i);
            }).ToList();
            start.SetResult();
            results.AddRange(await Task.WhenAll(tries));
        }
        else
        {
            var times = fault == Faults.Duplicate ? Math.Max(count, 2) : Math.Max(count, 1);
            for (var i = 1; i <= times; i++)
            {
                results.Add(await SendOnceAsync(order, url, eventType, body, fault, i));
            }
        }

        if (retry && !results.Any(r => IsSuccess(r.Status)))
        {
            _ = Task.Run(() => RetryAsync(order, url, eventType, body, fault));
        }

        return results;
    }

    private async Task RetryAsync(INotified order, string url, string eventType, byte[] body, string fault)
    {
        var attempt = 1;
        foreach (var interval in RetrySchedule)
        {
            attempt++;
            try
            {
                await Task.Delay(TimeSpan.FromTicks((long)(interval.Ticks * _options.TimeCompression)), time, lifetime.ApplicationStopping);
            }
            catch (OperationCanceledException)
            {
                // The simulator is stopping: its memory (and so this notify) goes with it.
                return;
            }

            var result = await SendOnceAsync(order, url, eventType, body, fault, attempt);
            if (IsSuccess(result.Status))
            {
                return;
            }
        }

        logger.LogWarning("Gave up notifying {OutTradeNo} after {Attempts} tries", order.Reference, attempt);
    }

    private static bool IsSuccess(int status) => status is >= 200 and <= 299;

    private async Task<DeliveryRecord> SendOnceAsync(INotified order, string url, string eventType, byte[] body, string fault, int attempt)
    {
        var now = time.GetUtcNow();
        var timestamp = WechatPayCrypto.UnixSeconds(fault == Faults.StaleTimestamp ? now.AddMinutes(-6) : now);
        var nonce = WechatPayCrypto.NewNonce();
        var serial = state.SignWith == "certificate" ? keys.CertificateSerial : keys.PublicKeyId;
        string signature;
        var sent = body;
        switch (fault)
        {
            case Faults.SignTest:
                signature = WechatPayCrypto.SignTestPrefix + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48));
                break;
            case Faults.UnknownSerial:
                using (var other = System.Security.Cryptography.RSA.Create(2048))
                {
                    serial = "PUB_KEY_ID_SIMUNKNOWN" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
                    signature = WechatPayCrypto.Sign(other, WechatPayCrypto.ResponseMessage(timestamp, nonce, body));
                }

                break;
            case Faults.Tampered:
                signature = WechatPayCrypto.Sign(keys.Key, WechatPayCrypto.ResponseMessage(timestamp, nonce, body));
                sent = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("\"summary\":\"", "\"summary\":\"X", StringComparison.Ordinal));
                break;
            default:
                signature = WechatPayCrypto.Sign(keys.Key, WechatPayCrypto.ResponseMessage(timestamp, nonce, body));
                break;
        }

        int status;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(sent) };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            request.Headers.TryAddWithoutValidation(WechatPaySignatureHeaders.TimestampHeader, timestamp);
            request.Headers.TryAddWithoutValidation(WechatPaySignatureHeaders.NonceHeader, nonce);
            request.Headers.TryAddWithoutValidation(WechatPaySignatureHeaders.SignatureHeader, signature);
            request.Headers.TryAddWithoutValidation(WechatPaySignatureHeaders.SerialHeader, serial);
            request.Headers.TryAddWithoutValidation(WechatPaySignatureHeaders.SignatureTypeHeader, WechatPayCrypto.SignatureType);
            request.Headers.TryAddWithoutValidation("Request-ID", Guid.NewGuid().ToString());
            request.Headers.UserAgent.ParseAdd("Mozilla/4.0");
            using var cts = new CancellationTokenSource(_options.NotifyTimeout);
            using var response = await clients.CreateClient(ClientName).SendAsync(request, cts.Token);
            status = (int)response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or InvalidOperationException)
        {
            logger.LogInformation("Notify {OutTradeNo} try {Attempt} to {Url} failed: {Error}", order.Reference, attempt, url, ex.Message);
            status = 0;
        }

        var record = new DeliveryRecord(attempt, eventType, fault, status, now);
        lock (order.Gate)
        {
            order.Deliveries.Add(record);
        }

        logger.LogInformation("Notify {Event} {OutTradeNo} try {Attempt} ({Fault}) answered {Status}", eventType, order.Reference, attempt, fault, status);
        return record;
    }
}
