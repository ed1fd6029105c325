namespace Dmh.Ingress.Posters;

/// <summary>One poster layout: where its QR code (a square) and its inviter line sit on the 750x1334 poster.</summary>
/// <param name="Slug">Stored in <c>campaign_posters.template</c>.</param>
/// <param name="Label">Shown in the admin.</param>
/// <param name="NameX">Left edge (left-aligned layouts) or centre (centred ones) of the inviter line.</param>
/// <param name="NameY">Baseline of the inviter line.</param>
public sealed record PosterLayout(string Slug, string Label, int QrLeft, int QrTop, int QrSize, int NameX, int NameY);

/// <summary>The poster layouts a campaign can choose (issue 19).</summary>
public static class PosterTemplates
{
    public const string Classic = "classic";
    public const string FullBleed = "fullbleed";
    public const string Card = "card";

    public static readonly IReadOnlyList<PosterLayout> All =
    [
        new(Classic, "经典封面", (PosterRenderer.Width - PosterRenderer.QrSize) / 2, PosterRenderer.QrTop, PosterRenderer.QrSize, PosterRenderer.Width / 2, 790),
        new(FullBleed, "全屏背景", 446, 1010, 250, 50, 1060),
        new(Card, "居中卡片", 215, 690, 320, PosterRenderer.Width / 2, 630),
    ];

    public static PosterLayout? Find(string? slug) => All.FirstOrDefault(l => l.Slug == slug);
}
