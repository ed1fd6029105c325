using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace Dmh.Ingress.Sms;

/// <summary>
/// Tencent Cloud SMS (<c>Sms:Tencent:*</c>, used when <c>Sms:Provider</c> is <c>tencent</c>): the API
/// key pair of a CAM user allowed <c>sms:SendSms</c>, the SMS application and an approved signature and
/// verification-code template, e.g. "您的验证码为{1}，{2}分钟内有效。".
/// </summary>
public sealed partial class TencentSmsOptions
{
    public const string SectionName = "Sms:Tencent";

    /// <summary>The API endpoint; the simulator's stand-in locally.</summary>
    [Required]
    public string Endpoint { get; set; } = "https://sms.tencentcloudapi.com";

    /// <summary>Local simulator only: allow an http endpoint.</summary>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>X-TC-Region: ap-guangzhou, ap-beijing or ap-nanjing.</summary>
    [Required]
    public string Region { get; set; } = "ap-guangzhou";

    public string SecretId { get; set; } = "";

    /// <summary>Secret: from configuration (environment, a secrets store), never from the repository.</summary>
    public string SecretKey { get; set; } = "";

    /// <summary>SmsSdkAppId, the SMS application's id (1400…).</summary>
    public string SdkAppId { get; set; } = "";

    /// <summary>The approved signature's content (签名内容), e.g. 腾讯云.</summary>
    public string SignName { get; set; } = "";

    /// <summary>The approved template's id.</summary>
    public string TemplateId { get; set; } = "";

    /// <summary>
    /// What fills the template's {1}, {2}, … in order: <c>code</c> (the 6 digits) and <c>minutes</c>
    /// (the code's lifetime), comma-separated. Default <c>code,minutes</c>.
    /// </summary>
    public string TemplateParams { get; set; } = "code,minutes";

    /// <summary>Tries per code, the first included; only answers that may succeed on a retry are retried.</summary>
    [Range(1, 5)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Pause before the first retry; it doubles for each further one.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long one call may take.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    public string[] TemplateParamNames() => TemplateParams.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>What is wrong with the settings, or null.</summary>
    public string? Problem()
    {
        if (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var endpoint) || !(endpoint.Scheme == Uri.UriSchemeHttps || (AllowInsecureHttp && endpoint.Scheme == Uri.UriSchemeHttp)))
        {
            return "Sms:Tencent:Endpoint must be an https URL (http only with Sms:Tencent:AllowInsecureHttp, for the local simulator).";
        }

        if (string.IsNullOrWhiteSpace(SecretId) || string.IsNullOrWhiteSpace(SecretKey))
        {
            return "Sms:Tencent:SecretId and Sms:Tencent:SecretKey are required (a CAM API key allowed sms:SendSms).";
        }

        if (!SdkAppIdPattern().IsMatch(SdkAppId))
        {
            return "Sms:Tencent:SdkAppId must be the SMS application's id (10 digits starting 14).";
        }

        if (string.IsNullOrWhiteSpace(SignName))
        {
            return "Sms:Tencent:SignName is required (the approved signature's content).";
        }

        if (!TemplateIdPattern().IsMatch(TemplateId))
        {
            return "Sms:Tencent:TemplateId must be the approved template's numeric id.";
        }

        var names = TemplateParamNames();
        return names.Length == 0 || names.Any(n => n is not ("code" or "minutes")) || !names.Contains("code")
            ? "Sms:Tencent:TemplateParams must list code (required) and minutes, comma-separated, in the template's order."
            : null;
    }

    [GeneratedRegex("^14[0-9]{8}$")]
    private static partial Regex SdkAppIdPattern();

    [GeneratedRegex("^[0-9]{1,20}$")]
    private static partial Regex TemplateIdPattern();
}
