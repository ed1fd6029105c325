using System.Buffers.Binary;
using Dmh.Ingress.Uploads;
using SkiaSharp;

namespace Dmh.UnitTests.Uploads;

public sealed class ImageHeaderTests
{
    /// <summary>The first 24 bytes of a PNG whose IHDR declares <paramref name="width"/> × <paramref name="height"/>.</summary>
    private static byte[] PngClaiming(int width, int height)
    {
        var png = new byte[24];
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13 }.CopyTo(png, 0);
        "IHDR"u8.CopyTo(png.AsSpan(12));
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), height);
        return png;
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png, 100)]
    [InlineData(SKEncodedImageFormat.Jpeg, 90)]
    [InlineData(SKEncodedImageFormat.Webp, 80)]
    [InlineData(SKEncodedImageFormat.Webp, 100)]
    public void Real_images_report_their_size(SKEncodedImageFormat format, int quality)
    {
        using var bitmap = new SKBitmap(123, 45);
        bitmap.Erase(SKColors.Teal);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, quality);

        Assert.Equal((123, 45), ImageHeader.Dimensions(data.ToArray()));
    }

    [Fact]
    public void A_tiny_png_claiming_30000_by_30000_is_read_from_its_header_without_allocating()
    {
        var bomb = PngClaiming(30_000, 30_000);
        Assert.True(bomb.Length < 200);
        _ = ImageHeader.Dimensions(bomb);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var size = ImageHeader.Dimensions(bomb);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal((30_000, 30_000), size);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void A_webp_canvas_is_read_from_its_extended_header()
    {
        var webp = new byte[30];
        "RIFF"u8.CopyTo(webp);
        "WEBPVP8X"u8.CopyTo(webp.AsSpan(8));
        webp[24] = 0x2F; // width - 1 = 29999 = 0x752F
        webp[25] = 0x75;
        webp[27] = 0x1F; // height - 1 = 19999 = 0x4E1F
        webp[28] = 0x4E;

        Assert.Equal((30_000, 20_000), ImageHeader.Dimensions(webp));
    }

    [Theory]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'D', (byte)'A', (byte)'T', 0, 0, 1, 0, 0, 0, 1, 0 })]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R', 0, 0 })]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 0, 0 })]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xDA, 0, 0x10, 0, 0 })]
    public void A_header_without_a_readable_size_gives_none(byte[] data) => Assert.Null(ImageHeader.Dimensions(data));

    [Fact]
    public void Zero_dimensions_give_none() => Assert.Null(ImageHeader.Dimensions(PngClaiming(0, 10)));
}
