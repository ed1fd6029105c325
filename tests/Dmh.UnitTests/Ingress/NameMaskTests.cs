using Dmh.Ingress.Participants;

namespace Dmh.UnitTests.Ingress;

public sealed class NameMaskTests
{
    [Theory]
    [InlineData("王小明", "王*明")]
    [InlineData(" 李雷 ", "李*")]
    [InlineData("欧阳娜娜", "欧**娜")]
    [InlineData("王", "王")]
    [InlineData("Alice", "A****")]
    [InlineData("Bo", "B*")]
    public void Names_keep_the_first_and_last_character_only(string name, string masked) =>
        Assert.Equal(masked, NameMask.Mask(name));

    [Theory]
    [InlineData(null)]
    [InlineData("   ")]
    [InlineData("13800138000")]
    [InlineData("张三 138 0013")]
    public void Nothing_or_a_phone_typed_as_a_name_is_never_shown(string? name) =>
        Assert.Null(NameMask.Mask(name));
}
