using Dmh.Ingress.Http;
using Dmh.Platform.Rewards;

namespace Dmh.Ingress.Campaigns;

/// <summary>Stored lifecycle of a campaign; the API's scheduled/active/ended are derived from the time window.</summary>
public static class StoredStatus
{
    public const string Draft = "draft";
    public const string Published = "published";
    public const string Disabled = "disabled";
}

public static class CampaignStatus
{
    public const string Draft = "draft";
    public const string Scheduled = "scheduled";
    public const string Active = "active";
    public const string Ended = "ended";
    public const string Disabled = "disabled";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Draft, Scheduled, Active, Ended, Disabled };

    /// <summary>The API status of a campaign at <paramref name="now"/>.</summary>
    public static string Derive(string stored, DateTime? startUtc, DateTime? endUtc, DateTimeOffset now) => stored switch
    {
        StoredStatus.Draft => Draft,
        StoredStatus.Disabled => Disabled,
        _ when startUtc is { } s && now.UtcDateTime < s => Scheduled,
        _ when endUtc is { } e && now.UtcDateTime >= e => Ended,
        _ => Active,
    };

    /// <summary>The public page's state: not_started, live, ended or disabled.</summary>
    public static string PublicState(string status) => status switch
    {
        Scheduled => "not_started",
        Active => "live",
        Ended => "ended",
        _ => "disabled",
    };
}

/// <summary>Rules on a campaign's money fields, free of I/O.</summary>
public static class CampaignRules
{
    public const long MaxPriceFen = 99_999_999; // DECIMAL(10,2)
    public const int MaxPaymentDescription = 127; // WeChat Pay's description limit

    public static void ValidateMoney(long? priceFen, RewardInput? reward, FieldErrors errors)
    {
        if (priceFen is null or < 0 or > MaxPriceFen)
        {
            errors.Add("priceFen", $"priceFen is required: 0 to {MaxPriceFen} fen.");
        }

        if (reward is null || priceFen is null or < 0)
        {
            return;
        }

        // The old single-level shape keeps its old field names (reward.amountFen, not reward.levels[0].amountFen).
        var legacy = reward.Levels is null;
        foreach (var (field, message) in RewardRuleEngine.Validate(reward.ToConfig(), priceFen.Value))
        {
            errors.Add(legacy ? field.Replace("reward.levels[0].", "reward.", StringComparison.Ordinal) : field, message);
        }
    }
}
