using System.ComponentModel.DataAnnotations;

namespace Dmh.WechatSim;

/// <summary>The simulator's settings (section <c>Simulator</c>).</summary>
public sealed class SimulatorOptions
{
    public const string SectionName = "Simulator";

    /// <summary>Where the simulator keeps its key pair (created on first start) and writes wechatpay_public_key.pem.</summary>
    [Required(ErrorMessage = "Simulator:KeyDirectory is required.")]
    public string KeyDirectory { get; set; } = "";

    /// <summary>The simulator's own base URL as browsers reach it (h5_url, jsbridge.js).</summary>
    [Required]
    public string PublicUrl { get; set; } = "http://127.0.0.1:5090";

    /// <summary>The merchant's APIv3 key (32 characters), shared with DMH.</summary>
    [Required(ErrorMessage = "Simulator:ApiV3Key is required (the merchant's APIv3 key).")]
    [StringLength(32, MinimumLength = 32, ErrorMessage = "Simulator:ApiV3Key must be 32 characters.")]
    public string ApiV3Key { get; set; } = "";

    /// <summary>The merchant's public key (PEM) that checks DMH's Authorization signatures and paySign.</summary>
    [Required(ErrorMessage = "Simulator:MerchantPublicKeyFile is required.")]
    public string MerchantPublicKeyFile { get; set; } = "";

    /// <summary>When set, calls must carry this serial_no.</summary>
    public string? MerchantSerialNo { get; set; }

    /// <summary>When set, calls must carry this mchid.</summary>
    public string? MchId { get; set; }

    /// <summary>When set, prepay and OAuth must use this appid.</summary>
    public string? AppId { get; set; }

    /// <summary>When set, the OAuth code exchange must present this secret.</summary>
    public string? AppSecret { get; set; }

    /// <summary>Multiplies every delay (notify retries, refund completion): 0.001 turns 15 s into 15 ms.</summary>
    [Range(0.0, 10.0)]
    public double TimeCompression { get; set; } = 1.0;

    /// <summary>How long one notify delivery may take before it counts as failed (WeChat: 5 s).</summary>
    public TimeSpan NotifyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a refund stays PROCESSING before it succeeds (compressed).</summary>
    public TimeSpan RefundDelay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The Tencent Cloud SMS stand-in (POST /): the API key DMH must sign with, and its SMS application.</summary>
    public TencentSmsAccount Sms { get; set; } = new();

    /// <summary>expires_in of the access tokens and jsapi tickets it hands out (WeChat: 7200 s).</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromSeconds(7200);

    /// <summary><c>publickey</c> (default) or <c>certificate</c>: which serial the simulator signs under.</summary>
    public string SignWith { get; set; } = "publickey";
}

/// <summary><c>Simulator:Sms</c>: the one Tencent Cloud account the stand-in knows. Without a SecretKey every send is refused.</summary>
public sealed class TencentSmsAccount
{
    public string SecretId { get; set; } = "";

    public string SecretKey { get; set; } = "";

    public string SdkAppId { get; set; } = "";
}
