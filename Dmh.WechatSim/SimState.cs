using System.Collections.Concurrent;

namespace Dmh.WechatSim;

/// <summary>Something WeChat sends notifies about (an order, a transfer bill): its deliveries, under its lock.</summary>
public interface INotified
{
    string Reference { get; }
    object Gate { get; }
    List<DeliveryRecord> Deliveries { get; }
}

/// <summary>One payment order as WeChat keeps it. Guarded by its own lock.</summary>
public sealed class SimOrder : INotified
{
    public string Reference => OutTradeNo;

    public required string OutTradeNo { get; init; }
    public required string AppId { get; init; }
    public required string MchId { get; init; }
    public required string Description { get; init; }
    public required long Total { get; init; }
    public required string NotifyUrl { get; init; }
    public required string TradeType { get; init; }
    public required string PrepayId { get; init; }
    public string? OpenId { get; set; }
    public string? Attach { get; init; }

    /// <summary>H5 prepay's scene_info.payer_client_ip: the client address DMH saw.</summary>
    public string? PayerClientIp { get; init; }
    public DateTimeOffset? TimeExpire { get; init; }
    public required string RequestFingerprint { get; init; }
    public string State { get; set; } = "NOTPAY";
    public string? TransactionId { get; set; }
    public DateTimeOffset? SuccessTime { get; set; }
    public List<DeliveryRecord> Deliveries { get; } = [];
    public object Gate { get; } = new();
}

public sealed record DeliveryRecord(int Attempt, string Event, string Fault, int Status, DateTimeOffset At);

public sealed class SimRefund
{
    public required string OutRefundNo { get; init; }
    public required string RefundId { get; init; }
    public required SimOrder Order { get; init; }
    public required long Refund { get; init; }
    public required string NotifyUrl { get; init; }
    public required DateTimeOffset CreateTime { get; init; }
    public string Status { get; set; } = "PROCESSING";
    public DateTimeOffset? SuccessTime { get; set; }
}

/// <summary>A merchant transfer bill (docs/wechatpay-v3-transfers.md). Guarded by its own lock.</summary>
public sealed class SimBill : INotified
{
    public string Reference => OutBillNo;
    public required string OutBillNo { get; init; }
    public required string TransferBillNo { get; init; }
    public required string AppId { get; init; }
    public required string MchId { get; init; }
    public required string OpenId { get; init; }
    public required long Amount { get; init; }
    public required string Remark { get; init; }
    public required string NotifyUrl { get; init; }
    public required string Package { get; init; }
    public required string RequestFingerprint { get; init; }
    public required DateTimeOffset CreateTime { get; init; }
    public DateTimeOffset UpdateTime { get; set; }
    public string State { get; set; } = "WAIT_USER_CONFIRM";
    public string? FailReason { get; set; }
    public List<DeliveryRecord> Deliveries { get; } = [];
    public object Gate { get; } = new();
}

public sealed record OAuthCode(string Code, string AppId, string OpenId, string Scope, bool Snapshot, DateTimeOffset ExpiresAt);

/// <summary>Everything the simulator remembers: in memory (it is a simulator), safe for concurrent requests.</summary>
public sealed class SimState
{
    public ConcurrentDictionary<string, SimOrder> Orders { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, SimOrder> ByPrepayId { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, SimRefund> Refunds { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, OAuthCode> Codes { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, SimBill> Bills { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, SimBill> BillsByPackage { get; } = new(StringComparer.Ordinal);

    /// <summary>Transfer faults by out_bill_no (set before or after the bill exists): none, never-confirm, fail, duplicate-notify, lose-notify.</summary>
    public ConcurrentDictionary<string, string> BillFaults { get; } = new(StringComparer.Ordinal);

    private volatile string _signWith = "publickey";

    public string SignWith
    {
        get => _signWith;
        set => _signWith = value;
    }

    private long _sequence;

    public string NextTransactionId(DateTimeOffset now) =>
        "4200" + now.ToOffset(TimeSpan.FromHours(8)).ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture)
        + Interlocked.Increment(ref _sequence).ToString("D10", System.Globalization.CultureInfo.InvariantCulture);
}
