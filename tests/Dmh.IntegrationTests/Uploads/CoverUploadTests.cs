using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;
using SkiaSharp;

namespace Dmh.IntegrationTests.Uploads;

/// <summary>Cover uploads: type by magic bytes, size limit, roles, content-addressed storage, serving back.</summary>
public sealed class CoverUploadTests : IAsyncLifetime
{
    private readonly string _base = Path.Combine(Path.GetTempPath(), "dmh-uploads-" + Guid.NewGuid().ToString("N")[..12]);
    private string _directory = null!;
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _factory = null!;

    public async Task InitializeAsync()
    {
        _directory = Path.Combine(_base, "uploads");
        _db = await TestDatabase.CreateAsync();
        _factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Admin:BcryptWorkFactor"] = "4",
            ["Uploads:Directory"] = _directory,
        });
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
        if (Directory.Exists(_base))
        {
            Directory.Delete(_base, recursive: true);
        }
    }

    private static byte[] Image(SKEncodedImageFormat format, SKColor color)
    {
        using var bitmap = new SKBitmap(40, 30);
        bitmap.Erase(color);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 90);
        return data.ToArray();
    }

    /// <summary>A PNG of a few dozen bytes whose IHDR declares <paramref name="width"/> × <paramref name="height"/>.</summary>
    private static byte[] PngClaiming(int width, int height)
    {
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 6; // RGBA
        Chunk(png, "IHDR", ihdr);
        using (var idat = new MemoryStream())
        {
            using (var z = new ZLibStream(idat, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                z.Write(new byte[64]);
            }

            Chunk(png, "IDAT", idat.ToArray());
        }

        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typed));
        png.Write(word);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }

    private static MultipartFormDataContent Form(byte[] bytes, string fileName = "cover.png", string contentType = "image/png", string field = "file")
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return new MultipartFormDataContent { { file, field, fileName } };
    }

    private async Task<HttpClient> AdminAsync() => await AdminLogin.SignedInAsync(_factory.CreateClient());

    [Theory]
    [InlineData(SKEncodedImageFormat.Png, ".png", "image/png")]
    [InlineData(SKEncodedImageFormat.Jpeg, ".jpg", "image/jpeg")]
    [InlineData(SKEncodedImageFormat.Webp, ".webp", "image/webp")]
    public async Task Image_is_stored_and_served_back_byte_identical(SKEncodedImageFormat format, string extension, string contentType)
    {
        var client = await AdminAsync();
        var bytes = Image(format, SKColors.Teal);
        // The declared name and type are ignored: the bytes decide.
        var response = await client.PostAsync("/api/v1/uploads/covers", Form(bytes, "whatever.bin", "application/octet-stream"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var url = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!;
        Assert.Matches("^/uploads/covers/[0-9a-f]{64}" + extension.Replace(".", "\\.", StringComparison.Ordinal) + "$", url);

        using var anonymous = _factory.CreateClient();
        var served = await anonymous.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(contentType, served.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", served.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.True(served.Headers.CacheControl?.MaxAge >= TimeSpan.FromDays(30));
        Assert.Equal(bytes, await served.Content.ReadAsByteArrayAsync());
        Assert.True(File.Exists(Path.Combine(_directory, url["/uploads/".Length..])));
    }

    [Fact]
    public async Task Same_image_is_stored_once()
    {
        var client = await AdminAsync();
        var bytes = Image(SKEncodedImageFormat.Png, SKColors.Orange);
        var first = await (await client.PostAsync("/api/v1/uploads/covers", Form(bytes))).Content.ReadFromJsonAsync<JsonElement>();
        var second = await (await client.PostAsync("/api/v1/uploads/covers", Form(bytes, "again.png"))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(first.GetProperty("url").GetString(), second.GetProperty("url").GetString());
        Assert.Single(Directory.GetFiles(Path.Combine(_directory, "covers")));
    }

    [Fact]
    public async Task Wrong_magic_bytes_are_415_whatever_the_name_says()
    {
        var client = await AdminAsync();
        var response = await client.PostAsync("/api/v1/uploads/covers", Form("<svg xmlns=\"http://www.w3.org/2000/svg\"/>"u8.ToArray(), "cover.png", "image/png"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(Directory.Exists(Path.Combine(_directory, "covers")) && Directory.EnumerateFiles(Path.Combine(_directory, "covers")).Any());
    }

    [Fact]
    public async Task A_tiny_png_declaring_30000_by_30000_pixels_is_refused_and_not_stored()
    {
        var client = await AdminAsync();
        var bomb = PngClaiming(30_000, 30_000);
        var response = await client.PostAsync("/api/v1/uploads/covers", Form(bomb));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("https://dmh.local/problems/image-too-large", problem.GetProperty("type").GetString());
        Assert.Contains("30000 × 30000", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_directory, "covers")) && Directory.EnumerateFiles(Path.Combine(_directory, "covers")).Any());
    }

    [Fact]
    public async Task An_image_whose_header_gives_no_size_is_422()
    {
        var client = await AdminAsync();
        var headless = new byte[64];
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(headless, 0);
        var response = await client.PostAsync("/api/v1/uploads/covers", Form(headless));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("https://dmh.local/problems/invalid-image", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task File_over_two_mebibytes_is_413()
    {
        var client = await AdminAsync();
        var bytes = new byte[2 * 1024 * 1024 + 1];
        Image(SKEncodedImageFormat.Png, SKColors.Red).CopyTo(bytes, 0);
        var response = await client.PostAsync("/api/v1/uploads/covers", Form(bytes));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Much_larger_body_is_refused_with_413()
    {
        var client = await AdminAsync();
        var bytes = new byte[8 * 1024 * 1024];
        Image(SKEncodedImageFormat.Png, SKColors.Red).CopyTo(bytes, 0);
        var response = await client.PostAsync("/api/v1/uploads/covers", Form(bytes));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Missing_file_is_400()
    {
        var client = await AdminAsync();
        var wrongField = await client.PostAsync("/api/v1/uploads/covers", Form(Image(SKEncodedImageFormat.Png, SKColors.Blue), field: "image"));
        Assert.Equal(HttpStatusCode.BadRequest, wrongField.StatusCode);
        var notMultipart = await client.PostAsJsonAsync("/api/v1/uploads/covers", new { file = "x" });
        Assert.Equal(HttpStatusCode.BadRequest, notMultipart.StatusCode);
        Assert.Equal("application/problem+json", notMultipart.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Viewer_is_403_and_anonymous_is_401()
    {
        var admin = await AdminAsync();
        (await admin.PostAsJsonAsync("/api/v1/admin-users", new { username = "viewer1", password = "viewer-password-123", role = "viewer" })).EnsureSuccessStatusCode();
        var viewer = await AdminLogin.SignedInAsync(_factory.CreateClient(), "viewer1", "viewer-password-123");
        var bytes = Image(SKEncodedImageFormat.Png, SKColors.Green);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync("/api/v1/uploads/covers", Form(bytes))).StatusCode);
        using var anonymous = _factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/v1/uploads/covers", Form(bytes))).StatusCode);
    }

    [Theory]
    [InlineData("/uploads/covers/")]
    [InlineData("/uploads/covers/missing.png")]
    [InlineData("/uploads/..%2Fsecret.png")]
    [InlineData("/uploads/covers/..%2F..%2Fsecret.png")]
    [InlineData("/uploads/secret.txt")]
    public async Task Serving_refuses_directories_missing_files_and_escapes(string path)
    {
        Directory.CreateDirectory(Path.Combine(_directory, "covers"));
        await File.WriteAllTextAsync(Path.Combine(_directory, "secret.txt"), "secret");
        await File.WriteAllBytesAsync(Path.Combine(_base, "secret.png"), [1, 2, 3]);
        using var client = _factory.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(path)).StatusCode);
    }
}
