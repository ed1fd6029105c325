using System.ComponentModel.DataAnnotations;

namespace Dmh.Ingress.Notices;

/// <summary>Reward notices (issue 18), bound from <c>Notices</c>. The stream consumer's own settings are under <c>Notices:Consumer</c>.</summary>
public sealed class NoticeOptions
{
    public const string SectionName = "Notices";

    /// <summary>Runs the notifier (the stream consumer and the retry sweep) in this process.</summary>
    public bool Enabled { get; set; } = true;

    public WechatNoticeOptions Wechat { get; set; } = new();

    public SmsNoticeOptions Sms { get; set; } = new();

    /// <summary>Tries per notice, the first included; then it is <c>failed</c>.</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Pause before the first retry; doubled for each further one up to <see cref="MaxRetryDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// A notice claimed for sending longer than this belongs to a notifier that stopped mid-send: it may
    /// have been sent, so it is marked <c>failed</c>, never sent again (at most once per event).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ClaimTime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the retry sweep looks for notices due again (and for events that never arrived).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A published notice nobody claimed within this (its event was lost) is sent by the retry sweep.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromMinutes(1);

    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>Unused subscription consents kept per participant at most (each allows one message).</summary>
    [Range(1, 1000)]
    public int MaxOpenSubscriptions { get; set; } = 20;

    /// <summary>The zone of the times in the notices.</summary>
    [Required]
    public string TimeZone { get; set; } = "Asia/Shanghai";
}

/// <summary>
/// The official account's subscribe notice (订阅通知, one-time): its template and which of DMH's values
/// fill which of the template's keywords.
/// </summary>
public sealed class WechatNoticeOptions
{
    /// <summary>The template id (公众号 → 订阅通知 → 我的模板); empty turns WeChat notices off.</summary>
    [RegularExpression("^[A-Za-z0-9_-]{0,128}$")]
    public string TemplateId { get; set; } = "";

    /// <summary>
    /// Keyword → value, e.g. <c>thing1=event</c>, <c>amount2=amount</c>, <c>thing3=campaign</c>, <c>time4=time</c>
    /// (the defaults when empty). Values: <see cref="NoticeText.Sources"/>.
    /// </summary>
    public Dictionary<string, string> Fields { get; set; } = [];

    /// <summary>Where a tap on the notice leads, relative to <c>Public:BaseUrl</c>.</summary>
    [Required]
    public string Page { get; set; } = "/h5/#/pages/rewards/index";

    public static readonly IReadOnlyDictionary<string, string> DefaultFields = new Dictionary<string, string>
    {
        ["thing1"] = NoticeText.Event,
        ["amount2"] = NoticeText.Amount,
        ["thing3"] = NoticeText.Campaign,
        ["time4"] = NoticeText.Time,
    };

    public IReadOnlyDictionary<string, string> EffectiveFields => Fields.Count > 0 ? Fields : DefaultFields;
}

/// <summary>The SMS fallback: an approved notice template of the SMS gateway (<c>Sms:Tencent:*</c> account).</summary>
public sealed class SmsNoticeOptions
{
    /// <summary>The approved template's id, e.g. for "您的推广奖励有新变动：{1} {2}，详情请查看我的奖励。"; empty turns SMS notices off.</summary>
    [RegularExpression("^[0-9]{0,20}$")]
    public string TemplateId { get; set; } = "";

    /// <summary>What fills {1}, {2}, … in order, comma-separated (<see cref="NoticeText.Sources"/>).</summary>
    public string Params { get; set; } = "event,amount";

    /// <summary>Payouts belong to no campaign: they go by SMS only when this is on.</summary>
    public bool Payouts { get; set; }

    public string[] ParamNames() => Params.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
