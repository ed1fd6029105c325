using System.ComponentModel.DataAnnotations;

namespace Dmh.Ingress.Uploads;

/// <summary>Uploaded files (<c>Uploads:*</c>); the Posters feature reads covers from the same directory.</summary>
public sealed class UploadOptions
{
    public const string SectionName = "Uploads";

    /// <summary>Root of the stored files; <c>/uploads/&lt;relative path&gt;</c> serves them.</summary>
    [Required]
    public string Directory { get; set; } = ".dmh/data/uploads";

    [Range(1024, 64 * 1024 * 1024)]
    public long MaxCoverBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>Width × height a cover may declare in its header (decoded, 4 bytes a pixel: 160 MB at the default).</summary>
    [Range(1, 100_000_000)]
    public long MaxCoverPixels { get; set; } = 40_000_000;
}
