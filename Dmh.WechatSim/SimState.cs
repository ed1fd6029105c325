using System.Collections.Concurrent;

namespace Dmh.WechatSim;

/// <summary>One payment order as WeChat keeps it. Guarded by its own lock.</summary>
public sealed class SimOrder
{
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

public sealed record OAuthCode(string Code, string AppId, string OpenId, string Scope, bool Snapshot, DateTimeOffset ExpiresAt);

/// <summary>Everything the simulator remembers: in memory (it is a simulator), safe for concurrent requests.</summary>
public sealed class SimState
{
    public ConcurrentDictionary<string, SimOrder> Orders { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, SimOrder> ByPrepayId { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, SimRefund> Refunds { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, OAuthCode> Codes { get; } = new(StringComparer.Ordinal);

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
