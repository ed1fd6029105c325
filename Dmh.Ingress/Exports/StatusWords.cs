using Dmh.Contracts;
using Dmh.Platform.Rewards;

namespace Dmh.Ingress.Exports;

/// <summary>The Chinese words of stored statuses in exports (the admin's labels say the same); an unknown value is written as it is.</summary>
public static class StatusWords
{
    private static readonly Dictionary<string, string> Order = new(StringComparer.Ordinal)
    {
        [OrderStatus.Pending] = "待支付", [OrderStatus.Paid] = "已支付", [OrderStatus.Closed] = "已关闭", [OrderStatus.Refunded] = "已退款",
    };

    private static readonly Dictionary<string, string> Pay = new(StringComparer.Ordinal)
    {
        [PayStatus.Unpaid] = "未支付", [PayStatus.Paid] = "已支付", [PayStatus.Refunded] = "已退款",
    };

    private static readonly Dictionary<string, string> Sync = new(StringComparer.Ordinal)
    {
        [SyncStatus.None] = "未到同步", [SyncStatus.Pending] = "待同步", [SyncStatus.Synced] = "已同步", [SyncStatus.Failed] = "同步失败",
    };

    private static readonly Dictionary<string, string> Reward = new(StringComparer.Ordinal)
    {
        [RewardStatus.Frozen] = "冻结中", [RewardStatus.Available] = "可提现", [RewardStatus.Reversed] = "已冲正",
    };

    public static string OfOrder(string status) => Order.GetValueOrDefault(status, status);

    public static string OfPay(string status) => Pay.GetValueOrDefault(status, status);

    public static string OfSync(string status) => Sync.GetValueOrDefault(status, status);

    public static string OfReward(string status) => Reward.GetValueOrDefault(status, status);

    /// <summary>A file-name part without characters a file system or a Content-Disposition header refuses.</summary>
    public static string FileNamePart(string? s)
    {
        var clean = new string((s ?? "").Where(c => !char.IsControl(c) && c is not ('/' or '\\' or ':' or '*' or '?' or '"' or '<' or '>' or '|')).ToArray()).Trim();
        return clean.Length > 40 ? clean[..40] : clean;
    }
}
