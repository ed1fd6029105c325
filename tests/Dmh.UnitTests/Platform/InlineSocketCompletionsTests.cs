using Dmh.Platform.Hosting;

namespace Dmh.UnitTests.Platform;

// The variable is process-wide: these run one after the other and put it back.
[Collection(nameof(InlineSocketCompletionsTests))]
public sealed class InlineSocketCompletionsTests
{
    [Theory]
    [InlineData(null, "1")]
    [InlineData("0", "0")]
    [InlineData("1", "1")]
    public void Inline_completions_are_turned_on_unless_the_environment_says_otherwise(string? configured, string expected)
    {
        var before = Environment.GetEnvironmentVariable(InlineSocketCompletions.Variable);
        try
        {
            Environment.SetEnvironmentVariable(InlineSocketCompletions.Variable, configured);
            InlineSocketCompletions.EnableUnlessConfigured();
            Assert.Equal(expected, Environment.GetEnvironmentVariable(InlineSocketCompletions.Variable));
        }
        finally
        {
            Environment.SetEnvironmentVariable(InlineSocketCompletions.Variable, before);
        }
    }
}
