using Dmh.Ingress.Uploads;

namespace Dmh.UnitTests.Uploads;

public sealed class ImageSniffingTests
{
    [Theory]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0 }, ".png")]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10 }, ".jpg")]
    [InlineData(new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 1, 2, 3, 4, (byte)'W', (byte)'E', (byte)'B', (byte)'P', (byte)'V' }, ".webp")]
    public void Known_images_are_recognised_by_their_magic_bytes(byte[] data, string extension) =>
        Assert.Equal(extension, UploadEndpoints.ImageExtension(data));

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47 })]
    [InlineData(new byte[] { 0xFF, 0xD8 })]
    [InlineData(new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 1, 2, 3, 4, (byte)'W', (byte)'A', (byte)'V', (byte)'E' })]
    [InlineData(new byte[] { (byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a' })]
    [InlineData(new byte[] { (byte)'<', (byte)'s', (byte)'v', (byte)'g' })]
    public void Anything_else_is_refused(byte[] data) => Assert.Null(UploadEndpoints.ImageExtension(data));
}
