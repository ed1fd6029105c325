using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dmh.Ingress.Uploads;
using Microsoft.Extensions.Options;
using QRCoder;
using SkiaSharp;

namespace Dmh.Ingress.Posters;

/// <summary>Draws the 750x1334 referral poster in one of the <see cref="PosterTemplates"/> layouts.</summary>
internal sealed class PosterRenderer : IDisposable
{
    /// <summary>Bump whenever the drawing changes so cached posters are not served for the old template.</summary>
    public const int TemplateVersion = 2;

    public const int Width = 750;
    public const int Height = 1334;

    // Layout, shared with the tests that look for ink where the title goes.
    public const int CoverHeight = 560;
    public const int TitleTop = 545;
    public const int TitleBandHeight = 290;
    public const int QrSize = 340;
    public const int QrTop = 850;

    private const string NoLineStart = "，。、！？；：）】」』》〉,.!?;:)]}…%";
    private const string CallToAction = "长按识别二维码，立即报名";
    private const string Footer = "好友邀请 · 限时报名";
    private const int CardMargin = 40;
    private const int TitleSize = 44;
    private const int TitleMaxLines = 3;

    private readonly SKTypeface _regular;
    private readonly SKTypeface _bold;
    private readonly long _maxCoverPixels;

    public PosterRenderer(IOptions<PosterOptions> options, IOptions<UploadOptions> uploads)
    {
        var o = options.Value;
        _maxCoverPixels = uploads.Value.MaxCoverPixels;
        _regular = LoadSimplifiedChinese(o.FontFile);
        _bold = string.IsNullOrWhiteSpace(o.BoldFontFile) ? _regular : LoadSimplifiedChinese(o.BoldFontFile);
    }

    /// <summary>Cache key: a hash of the template version and every input.</summary>
    public static string Key(PosterContent content)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            hash.AppendData(BitConverter.GetBytes(bytes.Length));
            hash.AppendData(bytes);
        }

        Add("poster-v" + TemplateVersion.ToString(CultureInfo.InvariantCulture));
        Add(content.CampaignId.ToString(CultureInfo.InvariantCulture));
        Add(content.Title);
        Add(content.Inviter);
        Add(content.Url);
        hash.AppendData(content.Cover is null ? [0] : SHA256.HashData(content.Cover));
        Add(content.Template);
        hash.AppendData(content.Background is null ? [0] : SHA256.HashData(content.Background));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public byte[] Render(PosterContent content)
    {
        var info = new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var surface = SKSurface.Create(info);
        var canvas = surface.Canvas;
        canvas.Clear(new SKColor(0xF6, 0xF1, 0xEA));
        var background = content.Background ?? content.Cover;
        var layout = PosterTemplates.Find(content.Template) ?? PosterTemplates.All[0];
        switch (layout.Slug)
        {
            case PosterTemplates.FullBleed:
                DrawFullBleed(canvas, content, background, layout);
                break;
            case PosterTemplates.Card:
                DrawCentredCard(canvas, content, background, layout);
                break;
            default:
                if (!DrawCover(canvas, background, CoverHeight))
                {
                    DrawGeneratedBackground(canvas, content.CampaignId, CoverHeight + 80);
                }

                DrawCard(canvas);
                DrawTitleBlock(canvas, content.Title, content.Inviter);
                DrawQr(canvas, content.Url, layout);
                DrawCallToAction(canvas);
                break;
        }

        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>Splits text into lines that fit <paramref name="maxWidth"/>, breaking between characters (CJK has no spaces) and ellipsising the last line.</summary>
    public static List<string> Wrap(string text, Func<string, float> measure, float maxWidth, int maxLines)
    {
        var lines = new List<string>();
        var elements = TextElements(text.Trim());
        var current = new StringBuilder();
        for (var i = 0; i < elements.Count; i++)
        {
            var candidate = current + elements[i];
            // Chinese typesetting never starts a line with closing punctuation: let it hang instead.
            if (current.Length > 0 && measure(candidate) > maxWidth && !NoLineStart.Contains(elements[i], StringComparison.Ordinal))
            {
                if (lines.Count == maxLines - 1)
                {
                    lines.Add(Ellipsise(current.ToString(), measure, maxWidth));
                    return lines;
                }

                lines.Add(current.ToString());
                current.Clear();
                if (elements[i] == " ")
                {
                    continue;
                }
            }

            current.Append(elements[i]);
        }

        if (current.Length > 0)
        {
            lines.Add(current.ToString());
        }

        return lines;
    }

    public void Dispose()
    {
        if (!ReferenceEquals(_bold, _regular))
        {
            _bold.Dispose();
        }

        _regular.Dispose();
    }

    private static string Ellipsise(string line, Func<string, float> measure, float maxWidth)
    {
        var elements = TextElements(line);
        while (elements.Count > 0 && measure(string.Concat(elements) + "…") > maxWidth)
        {
            elements.RemoveAt(elements.Count - 1);
        }

        return string.Concat(elements) + "…";
    }

    private static List<string> TextElements(string text)
    {
        var list = new List<string>();
        var e = StringInfo.GetTextElementEnumerator(text);
        while (e.MoveNext())
        {
            list.Add(e.GetTextElement());
        }

        return list;
    }

    // A .ttc holds the JP, KR, SC, TC and HK faces; without choosing, Chinese would get Japanese glyph shapes.
    private static SKTypeface LoadSimplifiedChinese(string path)
    {
        SKTypeface? first = null;
        for (var index = 0; index < 16; index++)
        {
            var face = SKTypeface.FromFile(path, index);
            if (face is null)
            {
                break;
            }

            if (face.FamilyName.EndsWith(" SC", StringComparison.Ordinal) || face.FamilyName.Contains("SC ", StringComparison.Ordinal))
            {
                first?.Dispose();
                return face;
            }

            if (first is null)
            {
                first = face;
            }
            else
            {
                face.Dispose();
            }
        }

        return first ?? throw new InvalidOperationException($"Posters: cannot load a font from '{path}'.");
    }

    private bool DrawCover(SKCanvas canvas, byte[]? cover, int areaHeight)
    {
        if (cover is null)
        {
            return false;
        }

        using var data = SKData.CreateCopy(cover);
        using var codec = SKCodec.Create(data);
        // A cover stored before uploads were capped (or put on disk by hand) may declare any size:
        // judge it by its header, as the upload does, before anything decodes it.
        if (codec is null || codec.Info.Width == 0 || codec.Info.Height == 0 || (long)codec.Info.Width * codec.Info.Height > _maxCoverPixels)
        {
            return false;
        }

        using var image = SKImage.FromEncodedData(data);
        if (image is null)
        {
            return false;
        }

        // Fill the cover area and crop the overflow, keeping the centre.
        var scale = Math.Max((float)Width / image.Width, (float)areaHeight / image.Height);
        var w = image.Width * scale;
        var h = image.Height * scale;
        var dest = SKRect.Create((Width - w) / 2, (areaHeight - h) / 2, w, h);
        canvas.Save();
        canvas.ClipRect(SKRect.Create(0, 0, Width, areaHeight));
        using var paint = new SKPaint { IsAntialias = true };
        canvas.DrawImage(image, dest, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear), paint);
        canvas.Restore();
        return true;
    }

    private static readonly (SKColor From, SKColor To)[] Palettes =
    [
        (new SKColor(0xE8, 0x4A, 0x3C), new SKColor(0xF7, 0x9D, 0x4C)),
        (new SKColor(0x2E, 0x5B, 0xD8), new SKColor(0x5C, 0xC2, 0xE6)),
        (new SKColor(0x1F, 0x8A, 0x70), new SKColor(0x8B, 0xD3, 0x9A)),
        (new SKColor(0x7B, 0x3F, 0xC4), new SKColor(0xE0, 0x7A, 0xB8)),
    ];

    private static void DrawGeneratedBackground(SKCanvas canvas, long campaignId, int areaHeight)
    {
        var (from, to) = Palettes[(int)(Math.Abs(campaignId) % Palettes.Length)];
        var area = SKRect.Create(0, 0, Width, areaHeight);
        using var shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(Width, areaHeight), [from, to], SKShaderTileMode.Clamp);
        using var paint = new SKPaint { Shader = shader, IsAntialias = true };
        canvas.DrawRect(area, paint);

        using var circles = new SKPaint { Color = SKColors.White.WithAlpha(28), IsAntialias = true };
        canvas.DrawCircle(Width - 90, 110, 190, circles);
        canvas.DrawCircle(80, CoverHeight - 60, 140, circles);
        canvas.DrawCircle(Width / 2f, CoverHeight / 2f, 60, circles);
    }

    private static void DrawCard(SKCanvas canvas)
    {
        var card = new SKRoundRect(SKRect.Create(CardMargin / 2f, CoverHeight - 40, Width - CardMargin, Height - CoverHeight + 10), 28);
        using var shadow = new SKPaint { Color = SKColors.Black.WithAlpha(30), IsAntialias = true, MaskFilter = SKMaskFilter.CreateBlur(SKBlurStyle.Normal, 10) };
        canvas.DrawRoundRect(card, shadow);
        using var paint = new SKPaint { Color = SKColors.White, IsAntialias = true };
        canvas.DrawRoundRect(card, paint);
    }

    // Title and inviter line form one block, centred between the card's top and the QR code.
    private void DrawTitleBlock(SKCanvas canvas, string title, string inviter)
    {
        using var titleFont = new SKFont(_bold, TitleSize) { Edging = SKFontEdging.Antialias, Subpixel = true };
        using var inviterFont = new SKFont(_regular, 30) { Edging = SKFontEdging.Antialias, Subpixel = true };
        var maxWidth = Width - (CardMargin * 3);
        var lines = Wrap(title, s => titleFont.MeasureText(s), maxWidth, TitleMaxLines);
        var lineHeight = TitleSize * 1.3f;
        const float inviterGap = 58;
        var blockHeight = (lines.Count * lineHeight) + inviterGap;
        var top = TitleTop + ((TitleBandHeight - blockHeight) / 2);

        using var titlePaint = new SKPaint { Color = new SKColor(0x22, 0x22, 0x22), IsAntialias = true };
        var baseline = top + TitleSize;
        foreach (var line in lines)
        {
            canvas.DrawText(line, Width / 2f, baseline, SKTextAlign.Center, titleFont, titlePaint);
            baseline += lineHeight;
        }

        using var inviterPaint = new SKPaint { Color = new SKColor(0x8A, 0x6D, 0x3B), IsAntialias = true };
        var text = Wrap(inviter + " 邀请你一起参加", s => inviterFont.MeasureText(s), maxWidth, 1)[0];
        canvas.DrawText(text, Width / 2f, baseline - lineHeight + inviterGap, SKTextAlign.Center, inviterFont, inviterPaint);
    }

    private static void DrawQr(SKCanvas canvas, string url, PosterLayout layout)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(url, QRCodeGenerator.ECCLevel.M);
        var matrix = data.ModuleMatrix;
        var modules = matrix.Count;
        var module = (float)Math.Floor((double)layout.QrSize / modules);
        var size = module * modules;
        var left = layout.QrLeft + ((layout.QrSize - size) / 2f);
        var top = layout.QrTop + ((layout.QrSize - size) / 2f);

        using var white = new SKPaint { Color = SKColors.White };
        canvas.DrawRect(SKRect.Create(left, top, size, size), white);
        using var dark = new SKPaint { Color = SKColors.Black, IsAntialias = false };
        for (var row = 0; row < modules; row++)
        {
            for (var col = 0; col < modules; col++)
            {
                if (matrix[row][col])
                {
                    canvas.DrawRect(SKRect.Create(left + (col * module), top + (row * module), module, module), dark);
                }
            }
        }
    }

    /// <summary>The background over the whole poster, the title on top, QR code and inviter at the bottom.</summary>
    private void DrawFullBleed(SKCanvas canvas, PosterContent content, byte[]? background, PosterLayout layout)
    {
        if (!DrawCover(canvas, background, Height))
        {
            DrawGeneratedBackground(canvas, content.CampaignId, Height);
        }

        // Dark veils keep white text readable on any photo.
        using (var top = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(0, 460), [SKColors.Black.WithAlpha(150), SKColors.Black.WithAlpha(0)], SKShaderTileMode.Clamp))
        using (var paint = new SKPaint { Shader = top })
        {
            canvas.DrawRect(SKRect.Create(0, 0, Width, 460), paint);
        }

        using (var bottom = SKShader.CreateLinearGradient(new SKPoint(0, 820), new SKPoint(0, Height), [SKColors.Black.WithAlpha(0), SKColors.Black.WithAlpha(190)], SKShaderTileMode.Clamp))
        using (var paint = new SKPaint { Shader = bottom })
        {
            canvas.DrawRect(SKRect.Create(0, 820, Width, Height - 820), paint);
        }

        using var titleFont = new SKFont(_bold, 52) { Edging = SKFontEdging.Antialias, Subpixel = true };
        using var white = new SKPaint { Color = SKColors.White, IsAntialias = true };
        var baseline = 150f;
        foreach (var line in Wrap(content.Title, s => titleFont.MeasureText(s), Width - 100, TitleMaxLines))
        {
            canvas.DrawText(line, 50, baseline, SKTextAlign.Left, titleFont, white);
            baseline += 52 * 1.3f;
        }

        var box = SKRect.Create(layout.QrLeft - 16, layout.QrTop - 16, layout.QrSize + 32, layout.QrSize + 32);
        using (var paint = new SKPaint { Color = SKColors.White, IsAntialias = true })
        {
            canvas.DrawRoundRect(new SKRoundRect(box, 20), paint);
        }

        DrawQr(canvas, content.Url, layout);
        var textWidth = layout.QrLeft - 16 - layout.NameX - 24;
        using var nameFont = new SKFont(_bold, 36) { Edging = SKFontEdging.Antialias, Subpixel = true };
        using var small = new SKFont(_regular, 28) { Edging = SKFontEdging.Antialias, Subpixel = true };
        canvas.DrawText(Wrap(content.Inviter, s => nameFont.MeasureText(s), textWidth, 1)[0], layout.NameX, layout.NameY, SKTextAlign.Left, nameFont, white);
        using var soft = new SKPaint { Color = SKColors.White.WithAlpha(220), IsAntialias = true };
        canvas.DrawText("邀请你一起参加", layout.NameX, layout.NameY + 48, SKTextAlign.Left, small, soft);
        using var accent = new SKPaint { Color = new SKColor(0xFF, 0xC8, 0x5A), IsAntialias = true };
        canvas.DrawText("长按识别二维码", layout.NameX, layout.NameY + 120, SKTextAlign.Left, small, accent);
        canvas.DrawText("立即报名", layout.NameX, layout.NameY + 160, SKTextAlign.Left, small, accent);
    }

    /// <summary>The background over the whole poster with a white card in the middle holding title, inviter and QR code.</summary>
    private void DrawCentredCard(SKCanvas canvas, PosterContent content, byte[]? background, PosterLayout layout)
    {
        if (!DrawCover(canvas, background, Height))
        {
            DrawGeneratedBackground(canvas, content.CampaignId, Height);
        }

        var card = new SKRoundRect(SKRect.Create(60, 250, Width - 120, 990), 32);
        using (var shadow = new SKPaint { Color = SKColors.Black.WithAlpha(45), IsAntialias = true, MaskFilter = SKMaskFilter.CreateBlur(SKBlurStyle.Normal, 14) })
        {
            canvas.DrawRoundRect(card, shadow);
        }

        using (var paint = new SKPaint { Color = SKColors.White, IsAntialias = true })
        {
            canvas.DrawRoundRect(card, paint);
        }

        using var titleFont = new SKFont(_bold, 44) { Edging = SKFontEdging.Antialias, Subpixel = true };
        using var dark = new SKPaint { Color = new SKColor(0x22, 0x22, 0x22), IsAntialias = true };
        var lines = Wrap(content.Title, s => titleFont.MeasureText(s), Width - 200, 3);
        var lineHeight = 44 * 1.3f;
        // Title lines centred in the band between the card's top and the inviter line.
        var baseline = 250 + ((layout.NameY - 60 - 250 - (lines.Count * lineHeight)) / 2) + 44;
        foreach (var line in lines)
        {
            canvas.DrawText(line, Width / 2f, baseline, SKTextAlign.Center, titleFont, dark);
            baseline += lineHeight;
        }

        using var divider = new SKPaint { Color = new SKColor(0xEE, 0xE6, 0xDA), StrokeWidth = 2, IsAntialias = true };
        canvas.DrawLine(120, layout.NameY - 56, Width - 120, layout.NameY - 56, divider);
        using var nameFont = new SKFont(_regular, 30) { Edging = SKFontEdging.Antialias, Subpixel = true };
        using var brown = new SKPaint { Color = new SKColor(0x8A, 0x6D, 0x3B), IsAntialias = true };
        canvas.DrawText(Wrap(content.Inviter + " 邀请你一起参加", s => nameFont.MeasureText(s), Width - 200, 1)[0], layout.NameX, layout.NameY, SKTextAlign.Center, nameFont, brown);
        DrawQr(canvas, content.Url, layout);
        using var font = new SKFont(_bold, 32) { Edging = SKFontEdging.Antialias, Subpixel = true };
        using var red = new SKPaint { Color = new SKColor(0xE8, 0x4A, 0x3C), IsAntialias = true };
        canvas.DrawText(CallToAction, Width / 2f, layout.QrTop + layout.QrSize + 64, SKTextAlign.Center, font, red);
        using var small = new SKFont(_regular, 24) { Edging = SKFontEdging.Antialias, Subpixel = true };
        using var grey = new SKPaint { Color = new SKColor(0x99, 0x99, 0x99), IsAntialias = true };
        canvas.DrawText(Footer, Width / 2f, layout.QrTop + layout.QrSize + 106, SKTextAlign.Center, small, grey);
    }

    private void DrawCallToAction(SKCanvas canvas)
    {
        using var font = new SKFont(_bold, 32) { Edging = SKFontEdging.Antialias, Subpixel = true };
        using var paint = new SKPaint { Color = new SKColor(0xE8, 0x4A, 0x3C), IsAntialias = true };
        canvas.DrawText(CallToAction, Width / 2f, QrTop + QrSize + 52, SKTextAlign.Center, font, paint);
        using var small = new SKFont(_regular, 24) { Edging = SKFontEdging.Antialias, Subpixel = true };
        using var grey = new SKPaint { Color = new SKColor(0x99, 0x99, 0x99), IsAntialias = true };
        canvas.DrawText(Footer, Width / 2f, QrTop + QrSize + 96, SKTextAlign.Center, small, grey);
    }
}
