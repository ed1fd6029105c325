using System.Net;
using System.Net.Http.Json;
using Dapper;
using Dmh.Ingress.Participants;
using Dmh.Ingress.Posters;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;
using ZXing;
using ZXing.Common;

namespace Dmh.IntegrationTests.Posters;

/// <summary>POST /api/v1/qrcode/generate against the real MariaDB, decoding the QR code it draws.</summary>
public sealed class PosterTests : IAsyncLifetime, IDisposable
{
    private const string BaseUrl = "https://dmh.example.cn";
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _factory = null!;
    private HttpClient _client = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _work = Path.Combine(Path.GetTempPath(), "dmh-poster-tests-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(_work, "uploads", "covers"));
        _factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Public:BaseUrl"] = BaseUrl,
            ["Uploads:Directory"] = Path.Combine(_work, "uploads"),
            ["Posters:CacheDirectory"] = Path.Combine(_work, "cache"),
        });
        _client = _factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    public void Dispose()
    {
        // DisposeAsync has released everything; this only satisfies the owner-of-disposables rule.
        _client?.Dispose();
    }

    [Fact]
    public async Task Poster_qr_code_carries_the_registrant_as_u_id_and_keeps_the_channel()
    {
        var campaign = await InsertCampaignAsync("2026 春季亲子研学营：走进自然博物馆，和孩子一起发现城市里的生物多样性", cover: null);
        var order = await InsertOrderAsync(campaign, "13800138000", "张三", "wx-group-7", "paid", "RC7K2Q9X");

        var png = await GenerateAsync(order);
        if (Environment.GetEnvironmentVariable("DMH_POSTER_SAMPLE") is { Length: > 0 } sample)
        {
            // Refreshes the README image: DMH_POSTER_SAMPLE=$PWD/docs/images/poster-sample.png dotnet test --filter Posters
            await File.WriteAllBytesAsync(sample, png);
        }

        var url = DecodeQr(png);
        Assert.Equal($"{BaseUrl}/h5/#/pages/campaign/index?id={campaign}&c_id=wx-group-7&u_id=RC7K2Q9X", url);
    }

    [Fact]
    public async Task Same_request_returns_the_same_bytes()
    {
        var campaign = await InsertCampaignAsync("同一海报", cover: null);
        var order = await InsertOrderAsync(campaign, "13900139000", null, null, "paid", "RCSAME01");

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => GenerateAsync(order)));
        var again = await GenerateAsync(order);

        Assert.All(concurrent, png => Assert.Equal(again, png));
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(_work, "cache")), f => f.EndsWith(".tmp", StringComparison.Ordinal));
        Assert.Single(Directory.GetFiles(Path.Combine(_work, "cache"), "*.png"));
    }

    [Fact]
    public async Task Without_channel_the_url_has_no_c_id_and_the_masked_phone_is_used()
    {
        var campaign = await InsertCampaignAsync("无渠道活动", cover: null);
        var order = await InsertOrderAsync(campaign, "13700137000", null, null, "paid", "RCNOCH01");

        var url = DecodeQr(await GenerateAsync(order));

        Assert.Equal($"{BaseUrl}/h5/#/pages/campaign/index?id={campaign}&u_id=RCNOCH01", url);
        Assert.Equal("137****7000", PhoneNumbers.Mask("13700137000"));
    }

    [Fact]
    public async Task Cover_from_the_uploads_directory_is_drawn_at_the_top()
    {
        var coverFile = Path.Combine(_work, "uploads", "covers", "green.png");
        await File.WriteAllBytesAsync(coverFile, SolidPng(new SKColor(0x10, 0xC0, 0x30), 400, 300));
        var campaign = await InsertCampaignAsync("有封面的活动", cover: "/uploads/covers/green.png");
        var order = await InsertOrderAsync(campaign, "13600136000", "李四", "ch1", "paid", "RCCOVER1");

        using var bitmap = SKBitmap.Decode(await GenerateAsync(order));

        var pixel = bitmap.GetPixel(375, 200);
        Assert.Equal(new SKColor(0x10, 0xC0, 0x30), pixel);
    }

    [Fact]
    public async Task Unreadable_cover_falls_back_to_the_generated_background()
    {
        await File.WriteAllTextAsync(Path.Combine(_work, "uploads", "covers", "broken.png"), "not an image");
        var campaign = await InsertCampaignAsync("坏封面", cover: "/uploads/covers/broken.png");
        var order = await InsertOrderAsync(campaign, "13500135000", "王五", null, "paid", "RCBROKE1");

        var url = DecodeQr(await GenerateAsync(order));

        Assert.EndsWith("u_id=RCBROKE1", url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chinese_title_is_drawn_where_the_title_goes()
    {
        var campaign = await InsertCampaignAsync("这是一个非常非常长的活动标题，用来检查自动换行是否正常工作以及省略号是否出现在第三行的末尾", cover: null);
        var order = await InsertOrderAsync(campaign, "13400134000", "赵六", "ch", "paid", "RCTITLE1");
        var blank = await InsertCampaignAsync(" ", cover: null);
        var blankOrder = await InsertOrderAsync(blank, "13400134001", "赵六", "ch", "paid", "RCTITLE2");

        using var poster = SKBitmap.Decode(await GenerateAsync(order));
        using var empty = SKBitmap.Decode(await GenerateAsync(blankOrder));

        // Dark text pixels in the title band (three lines of 44 px) and none when the title is blank.
        var inked = DarkPixels(poster, PosterRenderer.TitleTop, PosterRenderer.TitleTop + PosterRenderer.TitleBandHeight);
        Assert.True(inked > 3000, $"only {inked} dark pixels where the title goes");
        Assert.Equal(0, DarkPixels(empty, PosterRenderer.TitleTop, PosterRenderer.TitleTop + PosterRenderer.TitleBandHeight));
    }

    [Fact]
    public async Task Unpaid_order_gets_409()
    {
        var campaign = await InsertCampaignAsync("未支付", cover: null);
        var order = await InsertOrderAsync(campaign, "13300133000", "钱七", null, "unpaid", "RCUNPAID");

        var response = await PostAsync(order, Token(order));

        await AssertProblemAsync(response, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Token_of_another_order_gets_403()
    {
        var campaign = await InsertCampaignAsync("令牌", cover: null);
        var order = await InsertOrderAsync(campaign, "13200132000", "孙八", null, "paid", "RCTOKEN1");

        await AssertProblemAsync(await PostAsync(order, Token(order + 1000)), HttpStatusCode.Forbidden);
        await AssertProblemAsync(await PostAsync(order, "garbage"), HttpStatusCode.Forbidden);
        await AssertProblemAsync(await PostAsync(order, null), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_token_for_an_order_that_does_not_exist_opens_nothing()
    {
        // A token is checked against the order's current token version: no order, no valid token (issue 15).
        await AssertProblemAsync(await PostAsync(987654, Token(987654)), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Missing_order_id_or_malformed_body_gets_400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/qrcode/generate") { Content = JsonContent.Create(new { }) };
        await AssertProblemAsync(await _client.SendAsync(request), HttpStatusCode.BadRequest);
        using var garbage = new HttpRequestMessage(HttpMethod.Post, "/api/v1/qrcode/generate") { Content = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json") };
        await AssertProblemAsync(await _client.SendAsync(garbage), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Missing_font_fails_start_up_naming_the_setting()
    {
        await using var factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Posters:FontFile"] = "/nonexistent/font.ttc",
        });

        var ex = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("Posters:FontFile", ex.ToString(), StringComparison.Ordinal);
    }

    private string Token(long orderId) => _factory.Services.GetRequiredService<OrderAccessTokens>().Issue(orderId, 1, DateTimeOffset.UtcNow.AddDays(1));

    private async Task<HttpResponseMessage> PostAsync(long orderId, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/qrcode/generate") { Content = JsonContent.Create(new { orderId }) };
        if (token is not null)
        {
            request.Headers.Add(OrderAccessTokens.HeaderName, token);
        }

        return await _client.SendAsync(request);
    }

    private async Task<byte[]> GenerateAsync(long orderId)
    {
        var response = await PostAsync(orderId, Token(orderId));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsByteArrayAsync();
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"title\"", body, StringComparison.Ordinal);
    }

    private async Task<long> InsertCampaignAsync(string name, string? cover)
    {
        await using var connection = _db.OpenConnection();
        return await connection.ExecuteScalarAsync<long>(
            "INSERT INTO campaigns (name, cover_url, price, status) VALUES (@name, @cover, 99.00, 'active'); SELECT LAST_INSERT_ID();",
            new { name, cover });
    }

    private async Task<long> InsertOrderAsync(long campaignId, string phone, string? name, string? channel, string payStatus, string referralCode)
    {
        await using var connection = _db.OpenConnection();
        var participant = await connection.ExecuteScalarAsync<long>(
            "INSERT INTO participants (phone, referral_code) VALUES (@phone, @referralCode); SELECT LAST_INSERT_ID();",
            new { phone, referralCode });
        var formData = name is null ? "{}" : System.Text.Json.JsonSerializer.Serialize(new { name });
        return await connection.ExecuteScalarAsync<long>(
            """
            INSERT INTO orders (campaign_id, participant_id, phone, form_data, channel_id, status, amount, pay_status, paid_at)
            VALUES (@campaignId, @participant, @phone, @formData, @channel, @status, 99.00, @payStatus, IF(@payStatus = 'paid', UTC_TIMESTAMP(3), NULL));
            SELECT LAST_INSERT_ID();
            """,
            new { campaignId, participant, phone, formData, channel, status = payStatus == "paid" ? "paid" : "pending", payStatus });
    }

    private static string DecodeQr(byte[] png)
    {
        using var decoded = SKBitmap.Decode(png);
        using var bitmap = decoded.Copy(SKColorType.Bgra8888);
        var source = new RGBLuminanceSource(bitmap.Bytes, bitmap.Width, bitmap.Height, RGBLuminanceSource.BitmapFormat.BGRA32);
        var reader = new BarcodeReaderGeneric { Options = new DecodingOptions { PossibleFormats = [BarcodeFormat.QR_CODE], TryHarder = true } };
        var result = reader.Decode(source);
        Assert.NotNull(result);
        return result.Text;
    }

    private static int DarkPixels(SKBitmap bitmap, int top, int bottom)
    {
        var count = 0;
        for (var y = top; y < bottom; y++)
        {
            for (var x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red < 100 && c.Green < 100 && c.Blue < 100)
                {
                    count++;
                }
            }
        }

        return count;
    }

    private static byte[] SolidPng(SKColor color, int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(color);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
