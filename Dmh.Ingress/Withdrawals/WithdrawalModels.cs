using System.Text.Json;

namespace Dmh.Ingress.Withdrawals;

public sealed record WithdrawalLimits(long MinFen, long MaxFenPerRequest, int DailyCount, long DailyTotalFen);

/// <summary>What the H5 page passes to <c>WeixinJSBridge.invoke('requestMerchantTransfer', …)</c>.</summary>
public sealed record TransferConfirm(string MchId, string AppId, string Package);

public sealed record MyWithdrawal(
    long Id, long AmountFen, string Status, DateTimeOffset CreatedAt, DateTimeOffset? ReviewedAt, string? RejectReason,
    DateTimeOffset? PaidAt, string? FailReason, TransferConfirm? Confirm);

public sealed record MyWithdrawals(
    string Mode, long AvailableFen, long WithdrawingFen, long PaidOutFen, bool CanRequest, string? BlockedReason,
    WithdrawalLimits Limits, IReadOnlyList<MyWithdrawal> Items);

/// <summary>The request body; the amount stays a JSON element so that 1.5 or "100" is a 422 <c>withdrawal-amount</c>, not a binding error.</summary>
public sealed record WithdrawalRequest(JsonElement AmountFen);

public sealed record RejectCommand(string? Reason);

public sealed record PayoutCommand(string? Reference, DateTimeOffset? PaidAt);

public sealed record AdminWithdrawal(
    long Id, long UserId, string? Name, string PhoneMasked, long AmountFen, string Status, string Mode, bool NeedsAdmin,
    DateTimeOffset CreatedAt, string? ReviewedBy, DateTimeOffset? ReviewedAt, string? RejectReason, string? PaidReference,
    DateTimeOffset? PaidAt, string? PaidBy, string? OutBillNo, string? TransferState, string? FailReason);

public sealed record AdminWithdrawalPage(IReadOnlyList<AdminWithdrawal> Items, long Total, int Page, int PageSize, long PendingCount, long PendingFen);

/// <summary>Why a participant cannot ask for a withdrawal now (the H5 page's <c>blockedReason</c>, the POST's problem slug).</summary>
public static class BlockedReasons
{
    public const string NegativeBalance = "negative-balance";
    public const string OpenRequest = "open-request";
    public const string OpenidRequired = "openid-required";
    public const string DailyLimit = "daily-limit";
}
