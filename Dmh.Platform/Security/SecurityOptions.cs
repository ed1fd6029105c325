using System.ComponentModel.DataAnnotations;

namespace Dmh.Platform.Security;

/// <summary>Keys from configuration (./dmh writes them to .dmh/keys); never in the repository.</summary>
public sealed class SecurityOptions
{
    public const string SectionName = "Security";

    /// <summary>Base64, at least 32 bytes: HMAC key of order access tokens.</summary>
    [Required(ErrorMessage = "Security:TokenKey is required (base64, 32+ bytes).")]
    public string TokenKey { get; set; } = "";

    /// <summary>Base64, at least 32 bytes: signs admin and participant session JWTs.</summary>
    [Required(ErrorMessage = "Security:JwtKey is required (base64, 32+ bytes).")]
    public string JwtKey { get; set; } = "";

    /// <summary>Base64, 32 bytes: AES-256 key that encrypts stored secrets (the customer DB password).</summary>
    public string DataKey { get; set; } = "";

    public static bool IsKey(string value, int minBytes)
    {
        try
        {
            return Convert.FromBase64String(value).Length >= minBytes;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
