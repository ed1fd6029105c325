using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Posters;

public sealed class PosterOptions
{
    public const string SectionName = "Posters";

    /// <summary>CJK font collection for regular text (the Simplified Chinese face is picked from it).</summary>
    public string FontFile { get; set; } = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

    /// <summary>CJK font collection for the title; falls back to <see cref="FontFile"/> when empty.</summary>
    public string? BoldFontFile { get; set; } = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc";

    /// <summary>Where rendered posters are kept, one file per content hash.</summary>
    public string CacheDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "dmh-posters");

    /// <summary>A cached poster older than this is deleted (and rendered again, identical, when asked for).</summary>
    public TimeSpan CacheRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often the cache is swept.</summary>
    public TimeSpan CacheSweepInterval { get; set; } = TimeSpan.FromHours(1);
}

internal sealed class PosterOptionsValidator : IValidateOptions<PosterOptions>
{
    public ValidateOptionsResult Validate(string? name, PosterOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.FontFile) || !File.Exists(options.FontFile))
        {
            failures.Add($"Posters:FontFile '{options.FontFile}' does not exist: install fonts-noto-cjk or point Posters:FontFile at a CJK font.");
        }

        if (!string.IsNullOrWhiteSpace(options.BoldFontFile) && !File.Exists(options.BoldFontFile))
        {
            failures.Add($"Posters:BoldFontFile '{options.BoldFontFile}' does not exist: install fonts-noto-cjk or clear Posters:BoldFontFile.");
        }

        if (string.IsNullOrWhiteSpace(options.CacheDirectory))
        {
            failures.Add("Posters:CacheDirectory is required.");
        }

        if (options.CacheRetention <= TimeSpan.Zero || options.CacheSweepInterval <= TimeSpan.Zero)
        {
            failures.Add("Posters:CacheRetention and Posters:CacheSweepInterval must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
