namespace Dmh.Platform;

/// <summary>
/// Conversions between integer fen (JSON, messages, WeChat Pay) and decimal yuan (MySQL DECIMAL).
/// Never a float.
/// </summary>
public static class Money
{
    public static decimal FenToYuan(long fen) => fen / 100m;

    /// <summary>Yuan to fen; throws if the amount has more than two decimals rather than rounding silently.</summary>
    public static long YuanToFen(decimal yuan)
    {
        var fen = yuan * 100m;
        if (fen != decimal.Truncate(fen))
        {
            throw new ArgumentException($"{yuan} has more than two decimals.", nameof(yuan));
        }

        return (long)fen;
    }

    /// <summary>basis points of an amount, rounded down to the fen (DECISIONS.md: percentage rules).</summary>
    public static long BasisPointsOf(long amountFen, int basisPoints) => amountFen * basisPoints / 10_000;
}
