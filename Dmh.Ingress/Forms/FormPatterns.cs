using System.Text.RegularExpressions;

namespace Dmh.Ingress.Forms;

/// <summary>
/// How an operator's <c>pattern</c> is compiled, at save and at registration alike. The non-backtracking
/// engine matches in time linear in the input, so no pattern (e.g. <c>^(\w+\s?)*$</c>) can stall a request;
/// the match timeout is a second guard, and the only one for patterns stored before this rule.
/// </summary>
public static class FormPatterns
{
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The pattern for the non-backtracking engine. Throws <see cref="ArgumentException"/> when it does not
    /// parse and <see cref="NotSupportedException"/> for constructs that need backtracking (backreferences,
    /// lookarounds, atomic groups, conditionals) or an automaton that is too large.
    /// </summary>
    public static Regex Compile(string pattern) =>
        new(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, MatchTimeout);

    /// <summary>A stored pattern at registration: non-backtracking when it can be, else backtracking under the timeout.</summary>
    public static Regex CompileStored(string pattern)
    {
        try
        {
            return Compile(pattern);
        }
        catch (NotSupportedException)
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout);
        }
    }
}
