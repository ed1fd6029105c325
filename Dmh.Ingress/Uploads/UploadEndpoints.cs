using System.Globalization;
using System.Security.Cryptography;
using Dmh.Ingress.Http;
using Dmh.Ingress.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Dmh.Ingress.Uploads;

public sealed record UploadResponse(string Url);

/// <summary>Cover image uploads (<c>POST /api/v1/uploads/covers</c>) and serving them (<c>GET /uploads/…</c>).</summary>
public static class UploadEndpoints
{
    public const string UrlPrefix = "/uploads/";

    // Room for the multipart boundaries and part headers around one file at the size limit.
    private const long MultipartOverhead = 16 * 1024;

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".png"] = "image/png",
        [".jpg"] = "image/jpeg",
        [".jpeg"] = "image/jpeg",
        [".webp"] = "image/webp",
    };

    public static WebApplicationBuilder AddUploads(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<UploadOptions>()
            .BindConfiguration(UploadOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IFileStore, LocalFileStore>();
        return builder;
    }

    public static IEndpointRouteBuilder MapUploadEndpoints(this IEndpointRouteBuilder app)
    {
        var max = app.ServiceProvider.GetRequiredService<IOptions<UploadOptions>>().Value.MaxCoverBytes;
        app.MapGroup("/api/v1/uploads").WithTags("Uploads").RequireAuthorization(Policies.AdminWrite)
            .MapPost("/covers", UploadCoverAsync)
            .WithMetadata(new RequestSizeLimitAttribute(max + MultipartOverhead))
            .WithMetadata(new RequestFormLimitsAttribute { MultipartBodyLengthLimit = max + MultipartOverhead, ValueCountLimit = 16 })
            .DisableAntiforgery()
            .WithName("UploadCover").WithSummary("Upload a campaign cover (png/jpeg/webp, multipart field `file`)");
        app.MapGet("/uploads/{**path}", Serve).WithTags("Uploads").ExcludeFromDescription();
        return app;
    }

    public static async Task<Results<Ok<UploadResponse>, ProblemHttpResult>> UploadCoverAsync(
        HttpContext http, IFileStore store, IOptions<UploadOptions> options, CancellationToken ct)
    {
        var max = options.Value.MaxCoverBytes;
        if (http.Request.ContentLength > max + MultipartOverhead)
        {
            return TooLarge(max);
        }

        if (!http.Request.HasFormContentType)
        {
            return Problems.Validation("file", "Send the image as multipart/form-data in the field 'file'.");
        }

        IFormFile? file;
        try
        {
            file = (await http.Request.ReadFormAsync(ct)).Files.GetFile("file");
        }
        catch (InvalidDataException)
        {
            // Thrown by the form reader when a multipart limit is exceeded.
            return TooLarge(max);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(max);
        }

        if (file is null || file.Length == 0)
        {
            return Problems.Validation("file", "The multipart field 'file' with an image is required.");
        }

        if (file.Length > max)
        {
            return TooLarge(max);
        }

        var bytes = new byte[file.Length];
        await using (var stream = file.OpenReadStream())
        {
            await stream.ReadExactlyAsync(bytes, ct);
        }

        if (ImageExtension(bytes) is not { } extension)
        {
            return Problems.Of(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported image type.",
                "Covers must be PNG, JPEG or WebP images.");
        }

        if (ImageHeader.Dimensions(bytes) is not var (width, height))
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, "invalid-image", "The image cannot be read.",
                "The image's header does not give its width and height.");
        }

        if ((long)width * height > options.Value.MaxCoverPixels)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, "image-too-large", "The image has too many pixels.",
                string.Create(CultureInfo.InvariantCulture, $"Covers are at most {options.Value.MaxCoverPixels:N0} pixels (width × height); this one is {width} × {height}."));
        }

        var name = "covers/" + Convert.ToHexStringLower(SHA256.HashData(bytes)) + extension;
        await store.SaveAsync(name, bytes, ct);
        return TypedResults.Ok(new UploadResponse(UrlPrefix + name));
    }

    public static Results<PhysicalFileHttpResult, ProblemHttpResult> Serve(string path, HttpContext http, IFileStore store)
    {
        if (!ContentTypes.TryGetValue(Path.GetExtension(path), out var contentType) || store.Find(path) is not { } file)
        {
            return Problems.NotFound("This file");
        }

        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        // Names are content hashes: a name never changes its bytes.
        headers.CacheControl = "public, max-age=31536000, immutable";
        var etag = new EntityTagHeaderValue("\"" + Path.GetFileNameWithoutExtension(file.Name) + "\"");
        return TypedResults.PhysicalFile(file.PhysicalPath!, contentType, lastModified: file.LastModified, entityTag: etag);
    }

    /// <summary>By magic bytes: PNG signature, JPEG SOI marker, or a RIFF container of type WEBP.</summary>
    public static string? ImageExtension(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return ".png";
        }

        if (data.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return ".jpg";
        }

        if (data.Length >= 12 && data.StartsWith("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8))
        {
            return ".webp";
        }

        return null;
    }

    private static ProblemHttpResult TooLarge(long max) =>
        Problems.Of(StatusCodes.Status413PayloadTooLarge, "payload-too-large", "The file is too large.",
            $"Covers are at most {max / 1024} KiB.");
}
