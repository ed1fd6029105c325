using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.Ingress.Posters;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;
using ZXing;
using ZXing.Common;

namespace Dmh.IntegrationTests.Posters;

/// <summary>Poster templates per campaign (issue 19): every layout's QR code decodes, settings and preview in the admin API.</summary>
public sealed class PosterTemplateTests : IAsyncLifetime
{
    private const string BaseUrl = "https://dmh.example.cn";
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _factory = null!;
    private HttpClient _admin = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _work = Path.Combine(Path.GetTempPath(), "dmh-poster-templates-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(_work, "uploads", "covers"));
        _factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Public:BaseUrl"] = BaseUrl,
            ["Uploads:Directory"] = Path.Combine(_work, "uploads"),
            ["Posters:CacheDirectory"] = Path.Combine(_work, "cache"),
        });
        _admin = await AdminLogin.SignedInAsync(_factory.CreateClient());
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    public static TheoryData<string, bool> Layouts()
    {
        var data = new TheoryData<string, bool>();
        foreach (var layout in PosterTemplates.All)
        {
            data.Add(layout.Slug, false);
            data.Add(layout.Slug, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public async Task Every_template_s_qr_code_decodes_to_the_registrant_s_link(string template, bool photoBackground)
    {
        var campaign = await InsertCampaignAsync("2026 春季亲子研学营：走进自然博物馆，和孩子一起发现城市里的生物多样性");
        var background = photoBackground ? await WriteNoisyBackgroundAsync() : null;
        Assert.Equal(HttpStatusCode.OK, (await _admin.PutAsJsonAsync($"/api/v1/campaigns/{campaign}/poster", new { template, backgroundUrl = background })).StatusCode);
        var order = await InsertPaidOrderAsync(campaign, "RC" + Random.Shared.Next(10_000_000, 99_999_999));

        var png = await GenerateAsync(order.Id);

        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal((750, 1334), (bitmap.Width, bitmap.Height));
        // The QR code is where the layout says it is and decodes there, as a phone aimed at it reads it. (A
        // whole-poster scan over the noisy stand-in background failed now and then, depending on the code's
        // pattern: the reader took background blocks for finder patterns.)
        var layout = PosterTemplates.Find(template)!;
        Assert.Equal($"{BaseUrl}/h5/#/pages/campaign/index?id={campaign}&c_id=kol-9&u_id={order.Code}",
            DecodeQr(Crop(bitmap, layout.QrLeft - 20, layout.QrTop - 20, layout.QrSize + 40)));
    }

    [Fact]
    public async Task Layouts_render_different_posters_and_each_is_cached_per_content()
    {
        var campaign = await InsertCampaignAsync("少儿编程体验课");
        var order = await InsertPaidOrderAsync(campaign, "RCCACHE01");
        var posters = new List<string>();
        foreach (var layout in PosterTemplates.All)
        {
            await _admin.PutAsJsonAsync($"/api/v1/campaigns/{campaign}/poster", new { template = layout.Slug });
            var first = await GenerateAsync(order.Id);
            Assert.Equal(first, await GenerateAsync(order.Id));
            posters.Add(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(first)));
        }

        Assert.Equal(PosterTemplates.All.Count, posters.Distinct().Count());
        Assert.Equal(PosterTemplates.All.Count, Directory.GetFiles(Path.Combine(_work, "cache"), "*.png").Length);
    }

    [Fact]
    public async Task Settings_default_to_classic_and_list_at_least_three_layouts_with_qr_and_name_positions()
    {
        var campaign = await InsertCampaignAsync("活动");
        var view = await _admin.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/poster");

        Assert.Equal("classic", view.GetProperty("template").GetString());
        Assert.Equal(JsonValueKind.Null, view.GetProperty("backgroundUrl").ValueKind);
        var templates = view.GetProperty("templates").EnumerateArray().ToList();
        Assert.True(templates.Count >= 3);
        Assert.All(templates, t => Assert.True(t.GetProperty("qrSize").GetInt32() >= 240));
    }

    [Theory]
    [InlineData("{\"template\":\"nope\"}", "template")]
    [InlineData("{\"template\":\"card\",\"backgroundUrl\":\"https://evil.example/x.png\"}", "backgroundUrl")]
    [InlineData("{\"template\":\"card\",\"backgroundUrl\":\"/uploads/../../etc/passwd\"}", "backgroundUrl")]
    public async Task Unknown_layouts_and_foreign_backgrounds_are_refused_and_change_nothing(string body, string field)
    {
        var campaign = await InsertCampaignAsync("活动");
        var response = await _admin.PutAsync($"/api/v1/campaigns/{campaign}/poster", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
        await using var connection = _db.OpenConnection();
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM campaign_posters WHERE campaign_id = @campaign", new { campaign }));
    }

    [Fact]
    public async Task Preview_is_for_admins_and_renders_the_chosen_layout_with_a_sample_inviter()
    {
        var campaign = await InsertCampaignAsync("活动预览");
        using var anonymous = _factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/poster/preview", new { template = "card" })).StatusCode);

        var response = await _admin.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/poster/preview", new { template = "fullbleed" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("u_id=" + PosterTemplateEndpoints.SampleCode, DecodeQr(await response.Content.ReadAsByteArrayAsync()), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.PostAsJsonAsync("/api/v1/campaigns/999999/poster/preview", new { template = "card" })).StatusCode);
    }

    /// <summary>A busy photo-like background (random blocks of colour) stands in for an uploaded one.</summary>
    private async Task<string> WriteNoisyBackgroundAsync()
    {
        var random = new Random(19);
        using var bitmap = new SKBitmap(750, 1334);
        using (var canvas = new SKCanvas(bitmap))
        {
            for (var y = 0; y < 1334; y += 46)
            {
                for (var x = 0; x < 750; x += 46)
                {
                    using var paint = new SKPaint { Color = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)) };
                    canvas.DrawRect(x, y, 46, 46, paint);
                }
            }
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        var name = "bg-" + Guid.NewGuid().ToString("N")[..8] + ".png";
        await File.WriteAllBytesAsync(Path.Combine(_work, "uploads", "covers", name), data.ToArray());
        return "/uploads/covers/" + name;
    }

    private async Task<byte[]> GenerateAsync(long orderId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/qrcode/generate") { Content = JsonContent.Create(new { orderId }) };
        request.Headers.Add(OrderAccessTokens.HeaderName, _factory.Services.GetRequiredService<OrderAccessTokens>().Issue(orderId, 1, DateTimeOffset.UtcNow.AddDays(1)));
        using var anonymous = _factory.CreateClient();
        var response = await anonymous.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadAsByteArrayAsync();
    }

    private async Task<long> InsertCampaignAsync(string name)
    {
        await using var connection = _db.OpenConnection();
        return await connection.ExecuteScalarAsync<long>(
            "INSERT INTO campaigns (name, price, status) VALUES (@name, 99.00, 'active'); SELECT LAST_INSERT_ID();", new { name });
    }

    private async Task<(long Id, string Code)> InsertPaidOrderAsync(long campaignId, string code)
    {
        await using var connection = _db.OpenConnection();
        var phone = "139" + Random.Shared.Next(10_000_000, 99_999_999);
        var participant = await connection.ExecuteScalarAsync<long>(
            "INSERT INTO participants (phone, referral_code) VALUES (@phone, @code); SELECT LAST_INSERT_ID();", new { phone, code });
        var id = await connection.ExecuteScalarAsync<long>(
            """
            INSERT INTO orders (campaign_id, participant_id, phone, form_data, channel_id, status, amount, pay_status, paid_at)
            VALUES (@campaignId, @participant, @phone, '{"name":"王小明"}', 'kol-9', 'paid', 99.00, 'paid', UTC_TIMESTAMP(3));
            SELECT LAST_INSERT_ID();
            """,
            new { campaignId, participant, phone });
        return (id, code);
    }

    private static SKBitmap Crop(SKBitmap source, int left, int top, int size)
    {
        var crop = new SKBitmap();
        Assert.True(source.ExtractSubset(crop, SKRectI.Create(left, top, size, size)));
        return crop;
    }

    private static string DecodeQr(SKBitmap bitmap)
    {
        using var copy = bitmap.Copy(SKColorType.Bgra8888);
        bitmap.Dispose();
        var source = new RGBLuminanceSource(copy.Bytes, copy.Width, copy.Height, RGBLuminanceSource.BitmapFormat.BGRA32);
        var reader = new BarcodeReaderGeneric { Options = new DecodingOptions { PossibleFormats = [BarcodeFormat.QR_CODE], TryHarder = true } };
        var result = reader.Decode(source);
        Assert.NotNull(result);
        return result.Text;
    }

    private static string DecodeQr(byte[] png) => DecodeQr(SKBitmap.Decode(png));
}
