using System.Globalization;
using Dmh.Contracts;
using Dmh.Platform;

namespace Dmh.Ingress.Notices;

/// <summary>What a reward notice says, by value name (the WeChat template's keywords and the SMS parameters choose among them).</summary>
public static class NoticeText
{
    public const string Event = "event";
    public const string Amount = "amount";
    public const string Campaign = "campaign";
    public const string Time = "time";

    public static readonly IReadOnlyList<string> Sources = [Event, Amount, Campaign, Time];

    /// <summary>WeChat's limit for <c>thing</c> keywords (20 characters); longer values are refused with 47003.</summary>
    public const int ThingLength = 20;

    public static string Value(string source, string kind, long amountFen, string? campaign, DateTimeOffset at, TimeZoneInfo zone) => source switch
    {
        Event => kind switch
        {
            RewardChangeKinds.Credit => "推荐奖励到账",
            RewardChangeKinds.Reversal => "推荐奖励因退款扣回",
            RewardChangeKinds.Payout => "提现已到账",
            _ => "奖励变动",
        },
        // WeChat's amount keyword: digits with up to two decimals, optionally ending in 元.
        Amount => Money.FenToYuan(amountFen).ToString("0.00", CultureInfo.InvariantCulture) + "元",
        Campaign => kind == RewardChangeKinds.Payout ? "推广奖励提现" : (campaign ?? "推广活动"),
        Time => TimeZoneInfo.ConvertTime(at, zone).ToString("yyyy年M月d日 HH:mm", CultureInfo.InvariantCulture),
        _ => "",
    };

    /// <summary>The template's data: each keyword's value, <c>thing</c> keywords cut to WeChat's length.</summary>
    public static Dictionary<string, string> Keywords(IReadOnlyDictionary<string, string> fields, string kind, long amountFen, string? campaign, DateTimeOffset at, TimeZoneInfo zone) =>
        fields.ToDictionary(f => f.Key, f =>
        {
            var value = Value(f.Value, kind, amountFen, campaign, at, zone);
            return f.Key.StartsWith("thing", StringComparison.Ordinal) && value.Length > ThingLength ? value[..(ThingLength - 1)] + "…" : value;
        });
}
