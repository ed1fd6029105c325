namespace Dmh.Ingress.Participants;

/// <summary>How a registrant's name shows to people other than the admin (the H5's "王*明邀请你").</summary>
public static class NameMask
{
    /// <summary>
    /// 王小明 → 王*明, 李雷 → 李*, 欧阳娜娜 → 欧**娜, Alice → A****; null for nothing usable or anything
    /// with 5 or more digits (a phone or an id number typed as a name is never shown).
    /// </summary>
    public static string? Mask(string? name)
    {
        var n = name?.Trim() ?? "";
        if (n.Length == 0 || n.Count(char.IsAsciiDigit) >= 5)
        {
            return null;
        }

        var chars = n.EnumerateRunes().Select(r => r.ToString()).ToList();
        if (chars.Count > 20)
        {
            chars = chars[..20];
        }

        return chars.Count switch
        {
            1 => chars[0],
            2 => chars[0] + "*",
            _ when chars.All(c => c.Length == 1 && char.IsAscii(c[0])) => chars[0] + new string('*', Math.Min(chars.Count - 1, 4)),
            _ => chars[0] + new string('*', Math.Min(chars.Count - 2, 3)) + chars[^1],
        };
    }
}
