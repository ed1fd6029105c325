using Dmh.Contracts;
using Dmh.Platform;

namespace Dmh.Settlement.Settling;

/// <summary>The campaign's reward rule (DECISIONS.md: fixed amount by default, or basis points of the order price).</summary>
public static class RewardRules
{
    /// <summary>The reward in fen for one paid order; rounded down to the fen for percentage rules.</summary>
    public static long AmountFen(string rewardType, decimal fixedYuan, int basisPoints, long orderTotalFen) => rewardType switch
    {
        RewardTypes.Percentage => basisPoints <= 0 || orderTotalFen <= 0 ? 0 : Money.BasisPointsOf(orderTotalFen, basisPoints),
        _ => fixedYuan <= 0 ? 0 : Money.YuanToFen(fixedYuan),
    };

    /// <summary>Who is rewarded: the referrer, unless there is none (0) or it is the registrant themself.</summary>
    public static long? Beneficiary(long referrerId, long participantId) =>
        referrerId <= 0 || referrerId == participantId ? null : referrerId;
}
