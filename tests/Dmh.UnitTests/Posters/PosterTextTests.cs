using Dmh.Ingress.Participants;
using Dmh.Ingress.Posters;

namespace Dmh.UnitTests.Posters;

public sealed class PosterTextTests
{
    // Every character 10 units wide: lines of at most 5 characters fit in 50.
    private static float Measure(string s) => new System.Globalization.StringInfo(s).LengthInTextElements * 10f;

    [Fact]
    public void Short_title_stays_on_one_line()
    {
        Assert.Equal(["春季研学"], PosterRenderer.Wrap("春季研学", Measure, 50, 3));
    }

    [Fact]
    public void Long_title_breaks_between_characters_and_ellipsises_the_last_line()
    {
        var lines = PosterRenderer.Wrap("一二三四五六七八九十甲乙丙丁戊己庚", Measure, 50, 3);

        Assert.Equal(["一二三四五", "六七八九十", "甲乙丙丁…"], lines);
    }

    [Fact]
    public void Closing_punctuation_hangs_instead_of_starting_a_line()
    {
        var lines = PosterRenderer.Wrap("一二三四五，六七", Measure, 50, 3);

        Assert.Equal(["一二三四五，", "六七"], lines);
    }

    [Fact]
    public void Surrogate_pairs_are_never_split()
    {
        var lines = PosterRenderer.Wrap("𠀀𠀁𠀂𠀃𠀄𠀅", Measure, 50, 3);

        Assert.Equal(["𠀀𠀁𠀂𠀃𠀄", "𠀅"], lines);
    }

    [Theory]
    [InlineData("13800138000", "138****8000")]
    [InlineData(" 13900139000 ", "139****9000")]
    [InlineData("123", "*23")]
    public void Phone_is_masked_in_the_middle(string phone, string masked)
    {
        Assert.Equal(masked, PhoneNumbers.Mask(phone));
    }

    [Fact]
    public void Inviter_is_the_form_name_or_else_the_masked_phone()
    {
        Assert.Equal("张三", PosterEndpoints.Inviter(" 张三 ", "13800138000"));
        Assert.Equal("138****8000", PosterEndpoints.Inviter(null, "13800138000"));
        Assert.Equal("138****8000", PosterEndpoints.Inviter("  ", "13800138000"));
        Assert.Equal(new string('名', 20) + "…", PosterEndpoints.Inviter(new string('名', 30), "13800138000"));
    }
}
