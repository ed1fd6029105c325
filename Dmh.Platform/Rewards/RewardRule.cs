using System.Text.Json;
using System.Text.Json.Serialization;
using Dmh.Contracts;

namespace Dmh.Platform.Rewards;

/// <summary>One tier of a tiered level: from the <see cref="From"/>-th paid referral on, <see cref="AmountFen"/> each.</summary>
public sealed record RewardTier(int From, long AmountFen);

/// <summary>The rule of one level: fixed fen, basis points of the price, or tiers by count of paid referrals.</summary>
public sealed record RewardLevelRule(string Type, long? AmountFen = null, int? BasisPoints = null, IReadOnlyList<RewardTier>? Tiers = null);

/// <summary>Caps per beneficiary per campaign (total fen, count) and per Beijing day (fen); null means no cap.</summary>
public sealed record RewardCaps(long? TotalFen = null, int? Count = null, long? DailyFen = null)
{
    public static readonly RewardCaps None = new();

    [JsonIgnore]
    public bool Any => TotalFen is not null || Count is not null || DailyFen is not null;
}

/// <summary>A campaign's reward rule (issue 17): up to three levels, caps, and the hold before a reward is available.</summary>
public sealed record RewardConfig(int HoldDays, IReadOnlyList<RewardLevelRule> Levels, RewardCaps Caps)
{
    public const int DefaultHoldDays = 7;
    public const int MaxHoldDays = 90;
    public const int MaxLevels = 3;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Whether settling needs the beneficiary's counts and sums (tiers or caps).</summary>
    [JsonIgnore]
    public bool NeedsStats => Caps.Any || Levels.Any(l => l.Type == RewardTypes.Tiered);

    /// <summary>The stored <c>campaigns.reward_config</c> (levels and caps) or, when it is NULL, the old single-level columns.</summary>
    public static RewardConfig FromStored(string? configJson, int holdDays, string? rewardType, decimal fixedYuan, int basisPoints)
    {
        if (configJson is not null)
        {
            var stored = JsonSerializer.Deserialize<StoredConfig>(configJson, Json)
                ?? throw new InvalidOperationException("campaigns.reward_config is null JSON.");
            return new RewardConfig(holdDays, stored.Levels ?? [], stored.Caps ?? RewardCaps.None);
        }

        var level = rewardType == RewardTypes.Percentage
            ? new RewardLevelRule(RewardTypes.Percentage, BasisPoints: basisPoints)
            : new RewardLevelRule(RewardTypes.Fixed, AmountFen: Money.YuanToFen(fixedYuan));
        return new RewardConfig(holdDays, [level], RewardCaps.None);
    }

    /// <summary>The JSON kept in <c>campaigns.reward_config</c>.</summary>
    public string ToStoredJson() => JsonSerializer.Serialize(new StoredConfig(Levels, Caps), Json);

    /// <summary>The rule of one level in force at payment, kept with the reward (<c>rewards.rule_snapshot</c>).</summary>
    public string SnapshotJson(int level) =>
        JsonSerializer.Serialize(new Snapshot(level, Levels[level - 1], Caps, HoldDays), Json);

    private sealed record StoredConfig(IReadOnlyList<RewardLevelRule>? Levels, RewardCaps? Caps);

    private sealed record Snapshot(int Level, RewardLevelRule Rule, RewardCaps Caps, int HoldDays);
}

/// <summary>What is already recorded for one beneficiary in one campaign, before this reward.</summary>
/// <param name="LevelCount">Their rewards at this level in this campaign.</param>
/// <param name="CampaignCount">Their rewards at any level in this campaign.</param>
/// <param name="CampaignTotalFen">The sum of those rewards.</param>
/// <param name="TodayFen">The sum of their rewards in this campaign settled on this Beijing day.</param>
public sealed record BeneficiaryStats(int LevelCount, int CampaignCount, long CampaignTotalFen, long TodayFen)
{
    public static readonly BeneficiaryStats Empty = new(0, 0, 0, 0);
}

/// <summary>The rule engine: pure functions from a rule and the recorded stats to a reward in fen.</summary>
public static class RewardRuleEngine
{
    private static readonly TimeSpan BeijingOffset = TimeSpan.FromHours(8);

    /// <summary>
    /// The reward of one level for one paid order of <paramref name="priceFen"/>: percentage rounded
    /// down to the fen; tiered by the beneficiary's count at this level INCLUDING this one; then capped.
    /// </summary>
    public static long AmountFen(RewardLevelRule rule, RewardCaps caps, long priceFen, BeneficiaryStats stats)
    {
        var amount = rule.Type switch
        {
            RewardTypes.Percentage => rule.BasisPoints is > 0 && priceFen > 0 ? Money.BasisPointsOf(priceFen, rule.BasisPoints.Value) : 0,
            RewardTypes.Tiered => TierAmount(rule.Tiers ?? [], stats.LevelCount + 1),
            _ => rule.AmountFen is > 0 ? rule.AmountFen.Value : 0,
        };
        return Cap(amount, caps, stats);
    }

    /// <summary>The amount of the last tier whose <c>from</c> is at most <paramref name="count"/>.</summary>
    public static long TierAmount(IReadOnlyList<RewardTier> tiers, int count)
    {
        long amount = 0;
        foreach (var tier in tiers)
        {
            if (tier.From <= count)
            {
                amount = tier.AmountFen;
            }
        }

        return amount;
    }

    /// <summary>The amount cut to what the caps leave: nothing once the count is reached, else at most the rest of the total and of the day.</summary>
    public static long Cap(long amount, RewardCaps caps, BeneficiaryStats stats)
    {
        if (amount <= 0 || (caps.Count is { } count && stats.CampaignCount >= count))
        {
            return 0;
        }

        if (caps.TotalFen is { } total)
        {
            amount = Math.Min(amount, total - stats.CampaignTotalFen);
        }

        if (caps.DailyFen is { } daily)
        {
            amount = Math.Min(amount, daily - stats.TodayFen);
        }

        return Math.Max(amount, 0);
    }

    /// <summary>The start (UTC) of the Beijing day that contains <paramref name="now"/> (daily caps; China has no daylight saving).</summary>
    public static DateTime BeijingDayStartUtc(DateTimeOffset now)
    {
        var local = now.ToOffset(BeijingOffset);
        return new DateTimeOffset(local.Date, BeijingOffset).UtcDateTime;
    }

    /// <summary>
    /// The beneficiaries of an order's chain by level (1..3): a level pays only a participant who is
    /// not the registrant and not already paid at a lower level; the chain stops at the first gap.
    /// </summary>
    public static IReadOnlyList<long> Beneficiaries(long participantId, params long[] chain)
    {
        var result = new List<long>(3);
        foreach (var id in chain)
        {
            if (id <= 0 || id == participantId || result.Contains(id))
            {
                break;
            }

            result.Add(id);
        }

        return result;
    }

    /// <summary>Rule breaks as (field, message), e.g. <c>reward.levels[1].amountFen</c>; empty when the rule is valid.</summary>
    public static IReadOnlyList<(string Field, string Message)> Validate(RewardConfig config, long priceFen)
    {
        var errors = new List<(string, string)>();
        if (config.HoldDays is < 0 or > RewardConfig.MaxHoldDays)
        {
            errors.Add(("reward.holdDays", $"holdDays must be 0 to {RewardConfig.MaxHoldDays}."));
        }

        if (config.Levels.Count is < 1 or > RewardConfig.MaxLevels)
        {
            errors.Add(("reward.levels", $"1 to {RewardConfig.MaxLevels} levels."));
        }

        for (var i = 0; i < config.Levels.Count && i < RewardConfig.MaxLevels; i++)
        {
            ValidateLevel(config.Levels[i], $"reward.levels[{i}]", priceFen, errors);
        }

        if (config.Caps.TotalFen is < 1)
        {
            errors.Add(("reward.caps.totalFen", "A cap is at least 1 (or null for none)."));
        }

        if (config.Caps.Count is < 1)
        {
            errors.Add(("reward.caps.count", "A cap is at least 1 (or null for none)."));
        }

        if (config.Caps.DailyFen is < 1)
        {
            errors.Add(("reward.caps.dailyFen", "A cap is at least 1 (or null for none)."));
        }

        return errors;
    }

    private static void ValidateLevel(RewardLevelRule level, string field, long priceFen, List<(string, string)> errors)
    {
        switch (level.Type)
        {
            case RewardTypes.Fixed:
                if (level.AmountFen is null or < 0)
                {
                    errors.Add(($"{field}.amountFen", "A fixed reward needs amountFen ≥ 0."));
                }
                else if (level.AmountFen > priceFen)
                {
                    errors.Add(($"{field}.amountFen", "A reward cannot be above the price."));
                }

                break;
            case RewardTypes.Percentage:
                if (level.BasisPoints is null or < 1 or > 10_000)
                {
                    errors.Add(($"{field}.basisPoints", "A percentage reward needs basisPoints from 1 to 10000."));
                }

                break;
            case RewardTypes.Tiered:
                var tiers = level.Tiers ?? [];
                if (tiers.Count is < 1 or > 20)
                {
                    errors.Add(($"{field}.tiers", "A tiered reward needs 1 to 20 tiers."));
                    break;
                }

                for (var t = 0; t < tiers.Count; t++)
                {
                    if (t == 0 ? tiers[t].From != 1 : tiers[t].From <= tiers[t - 1].From)
                    {
                        errors.Add(($"{field}.tiers[{t}].from", "The first tier starts at 1 and each next one strictly after the one before."));
                    }

                    if (tiers[t].AmountFen < 0 || tiers[t].AmountFen > priceFen)
                    {
                        errors.Add(($"{field}.tiers[{t}].amountFen", "A tier's amount is 0 to the price."));
                    }
                }

                break;
            default:
                errors.Add(($"{field}.type", "type is fixed, percentage or tiered."));
                break;
        }
    }
}
