using Dmh.Platform.Withdrawals;

namespace Dmh.UnitTests.Platform;

public sealed class WithdrawalOptionsTests
{
    [Fact]
    public void By_default_the_largest_request_needs_an_admin_to_approve_it()
    {
        var options = new WithdrawalOptions();
        Assert.True(options.AdminApprovalAboveFen < options.MaxFenPerRequest);
        Assert.True(options.MinFen <= options.AdminApprovalAboveFen);
    }
}
