using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dmh.WechatPay;

/// <summary>
/// WeChat Pay v3 merchant settings (section <c>WechatPay</c>). The local default points at the
/// simulator (<c>Dmh.WechatSim</c>), which speaks the same protocol with its own key.
/// </summary>
public sealed class WechatPayOptions
{
    public const string SectionName = "WechatPay";

    /// <summary>API host, e.g. https://api.mch.weixin.qq.com (backup https://api2.mch.weixin.qq.com).</summary>
    public string BaseUrl { get; set; } = "https://api.mch.weixin.qq.com";

    public string AppId { get; set; } = "";

    public string MchId { get; set; } = "";

    /// <summary>Serial number of the merchant API certificate (Authorization serial_no).</summary>
    public string MerchantSerialNo { get; set; } = "";

    /// <summary>apiclient_key.pem: the merchant private key, PKCS#8 PEM.</summary>
    public string MerchantPrivateKeyFile { get; set; } = "";

    /// <summary>The APIv3 key: exactly 32 characters (AES-256-GCM key of notify resources).</summary>
    public string ApiV3Key { get; set; } = "";

    /// <summary>Public-key mode: the id WeChat signs with (<c>PUB_KEY_ID_…</c>).</summary>
    public string? PublicKeyId { get; set; }

    /// <summary>Public-key mode: WeChat Pay's public key (SPKI PEM).</summary>
    public string? PublicKeyFile { get; set; }

    /// <summary>Platform-certificate mode: download and keep WeChat's platform certificates from <c>GET /v3/certificates</c>.</summary>
    public bool UsePlatformCertificates { get; set; }

    /// <summary>Payment and refund notifications are posted here: https, no query string, at most 255 characters.</summary>
    public string NotifyUrl { get; set; } = "";

    /// <summary>The official account's secret, for the OAuth code exchange.</summary>
    public string? AppSecret { get; set; }

    /// <summary>Where <c>/sns/oauth2/access_token</c> lives (api.weixin.qq.com, or the simulator).</summary>
    public string OAuthBaseUrl { get; set; } = "https://api.weixin.qq.com";

    /// <summary>The authorize page the H5 page sends the browser to (open.weixin.qq.com, or the simulator).</summary>
    public string OAuthAuthorizeUrl { get; set; } = "https://open.weixin.qq.com/connect/oauth2/authorize";

    /// <summary>Lets BaseUrl/NotifyUrl/OAuth URLs be http: only outside Production or on loopback hosts.</summary>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>How long a prepay stays payable (time_expire).</summary>
    public TimeSpan PrepayLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Timeout of one call to WeChat.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Notify signatures older or newer than this are refused (WeChat: 5 minutes).</summary>
    public TimeSpan TimestampTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Unknown certificate serials trigger at most one download per this interval.</summary>
    public TimeSpan CertificateRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>True when the provider is the local simulator (its key ids start with PUB_KEY_ID_SIM).</summary>
    public bool IsSimulator => PublicKeyId?.StartsWith("PUB_KEY_ID_SIM", StringComparison.Ordinal) == true;
}

/// <summary>Start-up validation: every setting named in its message, key files parsed once here.</summary>
public sealed class WechatPayOptionsValidator(IHostEnvironment? environment = null) : IValidateOptions<WechatPayOptions>
{
    public ValidateOptionsResult Validate(string? name, WechatPayOptions o)
    {
        var errors = new List<string>();
        void Require(string value, string key)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                errors.Add($"WechatPay:{key} is required.");
            }
        }

        Require(o.AppId, nameof(o.AppId));
        Require(o.MchId, nameof(o.MchId));
        Require(o.MerchantSerialNo, nameof(o.MerchantSerialNo));
        Require(o.NotifyUrl, nameof(o.NotifyUrl));
        if (Encoding.UTF8.GetByteCount(o.ApiV3Key) != 32)
        {
            errors.Add("WechatPay:ApiV3Key must be exactly 32 bytes.");
        }

        if (string.IsNullOrWhiteSpace(o.MerchantPrivateKeyFile) || !File.Exists(o.MerchantPrivateKeyFile))
        {
            errors.Add($"WechatPay:MerchantPrivateKeyFile must name an existing PKCS#8 PEM file (got '{o.MerchantPrivateKeyFile}').");
        }
        else if (WechatPayCrypto.TryLoadPrivateKey(File.ReadAllText(o.MerchantPrivateKeyFile)) is null)
        {
            errors.Add("WechatPay:MerchantPrivateKeyFile is not an RSA private key in PEM.");
        }

        var publicKeyMode = !string.IsNullOrWhiteSpace(o.PublicKeyId) || !string.IsNullOrWhiteSpace(o.PublicKeyFile);
        if (publicKeyMode)
        {
            if (o.PublicKeyId is null || !o.PublicKeyId.StartsWith("PUB_KEY_ID_", StringComparison.Ordinal))
            {
                errors.Add("WechatPay:PublicKeyId must start with PUB_KEY_ID_.");
            }

            if (string.IsNullOrWhiteSpace(o.PublicKeyFile) || !File.Exists(o.PublicKeyFile))
            {
                errors.Add($"WechatPay:PublicKeyFile must name an existing PEM file (got '{o.PublicKeyFile}').");
            }
            else if (WechatPayCrypto.TryLoadPublicKey(File.ReadAllText(o.PublicKeyFile)) is null)
            {
                errors.Add("WechatPay:PublicKeyFile is not an RSA public key (SPKI PEM).");
            }
        }

        if (!publicKeyMode && !o.UsePlatformCertificates)
        {
            errors.Add("WechatPay: configure PublicKeyId + PublicKeyFile, or UsePlatformCertificates=true (or both during a migration).");
        }

        CheckUrl(o.BaseUrl, nameof(o.BaseUrl), o, errors);
        CheckUrl(o.NotifyUrl, nameof(o.NotifyUrl), o, errors);
        CheckUrl(o.OAuthBaseUrl, nameof(o.OAuthBaseUrl), o, errors);
        CheckUrl(o.OAuthAuthorizeUrl, nameof(o.OAuthAuthorizeUrl), o, errors);
        if (Uri.TryCreate(o.NotifyUrl, UriKind.Absolute, out var notify) && (notify.Query.Length > 0 || o.NotifyUrl.Length > 255))
        {
            errors.Add("WechatPay:NotifyUrl must have no query string and at most 255 characters.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private void CheckUrl(string value, string key, WechatPayOptions o, List<string> errors)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            errors.Add($"WechatPay:{key} must be an absolute http(s) URL (got '{value}').");
            return;
        }

        if (uri.Scheme == Uri.UriSchemeHttps)
        {
            return;
        }

        if (!o.AllowInsecureHttp)
        {
            errors.Add($"WechatPay:{key} must use https (set WechatPay:AllowInsecureHttp only for local runs).");
        }
        else if (environment?.IsProduction() == true && !uri.IsLoopback)
        {
            errors.Add($"WechatPay:{key}: AllowInsecureHttp is for local runs; in Production http is allowed only to loopback hosts.");
        }
    }
}
