using Dmh.Ingress.Posters;
using Dmh.Ingress.Uploads;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace Dmh.UnitTests.Posters;

public sealed class PosterCoverTests
{
    private static byte[] RedPng(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(SKColors.Red);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static SKColor CoverPixel(long maxCoverPixels, byte[] cover)
    {
        using var renderer = new PosterRenderer(Options.Create(new PosterOptions()), Options.Create(new UploadOptions { MaxCoverPixels = maxCoverPixels }));
        var png = renderer.Render(new PosterContent(7, "春季研学营", "王小明", "https://example.invalid/h5/", cover));
        using var poster = SKBitmap.Decode(png);
        return poster.GetPixel(PosterRenderer.Width / 2, 40);
    }

    [Fact]
    public void A_cover_within_the_pixel_cap_fills_the_cover_area()
    {
        Assert.Equal(SKColors.Red, CoverPixel(40_000_000, RedPng(40, 30)));
    }

    [Fact]
    public void A_stored_cover_over_the_pixel_cap_is_never_decoded_and_the_generated_background_is_drawn()
    {
        // 1,200 pixels against a cap of 1,000: judged by the header, like an upload, before decoding.
        Assert.NotEqual(SKColors.Red, CoverPixel(1_000, RedPng(40, 30)));
    }
}
