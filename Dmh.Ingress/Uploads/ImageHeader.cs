using System.Buffers.Binary;

namespace Dmh.Ingress.Uploads;

/// <summary>
/// An image's width and height read from its header, without decoding: a small file can declare a
/// picture whose pixels take gigabytes (a decompression bomb), so the size is checked before anything
/// decodes it (the poster renderer does).
/// </summary>
public static class ImageHeader
{
    /// <summary>The dimensions of a PNG, JPEG or WebP, or null when the header cannot be read.</summary>
    public static (int Width, int Height)? Dimensions(ReadOnlySpan<byte> data)
    {
        (int Width, int Height)? size = UploadEndpoints.ImageExtension(data) switch
        {
            ".png" => Png(data),
            ".jpg" => Jpeg(data),
            ".webp" => WebP(data),
            _ => null,
        };
        return size is { Width: > 0, Height: > 0 } ? size : null;
    }

    // The IHDR chunk must come first (PNG spec 5.6): length, "IHDR", width, height (big-endian).
    private static (int, int)? Png(ReadOnlySpan<byte> data)
    {
        if (data.Length < 24 || !data[12..16].SequenceEqual("IHDR"u8))
        {
            return null;
        }

        var width = BinaryPrimitives.ReadUInt32BigEndian(data[16..]);
        var height = BinaryPrimitives.ReadUInt32BigEndian(data[20..]);
        return width > int.MaxValue || height > int.MaxValue ? null : ((int)width, (int)height);
    }

    // Walks the marker segments up to the first start-of-frame (SOF0-SOF15 except DHT C4, JPG C8, DAC CC).
    private static (int, int)? Jpeg(ReadOnlySpan<byte> data)
    {
        var i = 2;
        while (i + 4 <= data.Length)
        {
            if (data[i] != 0xFF)
            {
                return null;
            }

            var marker = data[i + 1];
            if (marker == 0xFF)
            {
                i++; // fill byte
                continue;
            }

            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                i += 2; // markers without a length
                continue;
            }

            if (marker is 0xD9 or 0xDA)
            {
                return null; // end of image or scan data before any frame header
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 2)..]);
            if (length < 2)
            {
                return null;
            }

            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                // Length, precision, height, width.
                return i + 9 <= data.Length
                    ? (BinaryPrimitives.ReadUInt16BigEndian(data[(i + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(data[(i + 5)..]))
                    : null;
            }

            i += 2 + length;
        }

        return null;
    }

    // The first chunk after "RIFF....WEBP" (Google's WebP container specification).
    private static (int, int)? WebP(ReadOnlySpan<byte> data)
    {
        if (data.Length < 30)
        {
            return null;
        }

        var chunk = data[12..16];
        var payload = data[20..];
        if (chunk.SequenceEqual("VP8 "u8))
        {
            // Frame tag (3 bytes), start code 9D 01 2A, then 14-bit width and height.
            return payload[3] == 0x9D && payload[4] == 0x01 && payload[5] == 0x2A
                ? (BinaryPrimitives.ReadUInt16LittleEndian(payload[6..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(payload[8..]) & 0x3FFF)
                : null;
        }

        if (chunk.SequenceEqual("VP8L"u8))
        {
            // Signature 0x2F, then width-1 and height-1 in 14 bits each.
            if (payload[0] != 0x2F)
            {
                return null;
            }

            var bits = BinaryPrimitives.ReadUInt32LittleEndian(payload[1..]);
            return ((int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1);
        }

        if (chunk.SequenceEqual("VP8X"u8))
        {
            // Flags and reserved (4 bytes), then canvas width-1 and height-1 in 24 bits each.
            return (Uint24(payload[4..]) + 1, Uint24(payload[7..]) + 1);
        }

        return null;
    }

    private static int Uint24(ReadOnlySpan<byte> b) => b[0] | (b[1] << 8) | (b[2] << 16);
}
