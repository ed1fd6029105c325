using Dmh.Ingress.Participants;

namespace Dmh.UnitTests.Ingress.Forms;

public sealed class PhoneNumbersTests
{
    [Theory]
    [InlineData("13800138000", "138****8000")]
    [InlineData("19912345678", "199****5678")]
    [InlineData("1234", "**34")]
    public void Phones_are_masked_keeping_prefix_and_last_four(string phone, string masked) =>
        Assert.Equal(masked, PhoneNumbers.Mask(phone));

    [Theory]
    [InlineData("13800138000", true)]
    [InlineData("12800138000", false)]
    [InlineData("1380013800", false)]
    [InlineData("138001380001", false)]
    [InlineData("+8613800138000", false)]
    [InlineData(null, false)]
    public void Only_mainland_mobiles_pass(string? phone, bool valid) => Assert.Equal(valid, PhoneNumbers.IsMainlandMobile(phone));

    [Fact]
    public void Referral_codes_are_ten_url_safe_characters()
    {
        var codes = Enumerable.Range(0, 1000).Select(_ => ParticipantStore.NewReferralCode()).ToList();
        Assert.All(codes, c => Assert.Matches("^[A-Za-z0-9]{10}$", c));
        Assert.Equal(codes.Count, codes.Distinct(StringComparer.Ordinal).Count());
    }
}
