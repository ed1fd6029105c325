using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dmh.Platform.Withdrawals;

/// <summary>Withdrawals (issue 18), bound from <c>Withdrawals</c> by Ingress and Settlement alike.</summary>
public sealed class WithdrawalOptions
{
    public const string SectionName = "Withdrawals";

    /// <summary><c>manual</c> (the operator pays outside DMH and records it) or <c>wechat</c> (WeChat Pay merchant transfer).</summary>
    [RegularExpression("^(manual|wechat)$")]
    public string Mode { get; set; } = WithdrawalModes.Manual;

    [Range(1, 100_000_000)]
    public long MinFen { get; set; } = 100;

    [Range(1, 100_000_000)]
    public long MaxFenPerRequest { get; set; } = 20_000;

    /// <summary>Requests per participant and Beijing day (rejected and failed ones do not count).</summary>
    [Range(1, 1000)]
    public int DailyCount { get; set; } = 3;

    [Range(1, 1_000_000_000)]
    public long DailyTotalFen { get; set; } = 50_000;

    /// <summary>Larger amounts need the admin role to approve; operators approve the rest. Below the per-request maximum by default, or no request would ever need an admin.</summary>
    [Range(0, 1_000_000_000)]
    public long AdminApprovalAboveFen { get; set; } = 10_000;

    [Required, RegularExpression("^[0-9]{1,16}$")]
    public string TransferSceneId { get; set; } = "1000";

    /// <summary>Shown to the user in WeChat (at most 32 characters).</summary>
    [Required, StringLength(32, MinimumLength = 1)]
    public string TransferRemark { get; set; } = "推广奖励提现";

    /// <summary>What the user sees as the reason; must fit the scene (scene 1000: 现金奖励).</summary>
    [StringLength(32)]
    public string? UserRecvPerception { get; set; } = "现金奖励";

    /// <summary>The transfer notify's URL; empty: WechatPay:NotifyUrl's origin + <c>/api/v1/withdrawals/transfer/notify</c>.</summary>
    public string? NotifyUrl { get; set; }

    /// <summary>A bill not final this long after it was created (or last queried) is asked about.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan ReconcileAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a bill may wait for the user's confirmation before DMH cancels it (WeChat's own limit is 24 h).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "2.00:00:00")]
    public TimeSpan ConfirmTimeout { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Pause between two reconciliation sweeps.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(1);

    public bool IsWechat => Mode == WithdrawalModes.Wechat;

    public const string NotifyPath = "/api/v1/withdrawals/transfer/notify";

    /// <summary>The transfer notify URL: <see cref="NotifyUrl"/>, or the payment notify's origin with <see cref="NotifyPath"/>.</summary>
    public string TransferNotifyUrl(string paymentNotifyUrl) =>
        !string.IsNullOrWhiteSpace(NotifyUrl) ? NotifyUrl
        : Uri.TryCreate(paymentNotifyUrl, UriKind.Absolute, out var u) ? u.GetLeftPart(UriPartial.Authority) + NotifyPath
        : NotifyPath;
}

public static class WithdrawalExtensions
{
    /// <summary>Binds and validates <see cref="WithdrawalOptions"/> (at start).</summary>
    public static IHostApplicationBuilder AddWithdrawalOptions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WithdrawalOptions>()
            .BindConfiguration(WithdrawalOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.MaxFenPerRequest >= o.MinFen, "Withdrawals:MaxFenPerRequest must not be below Withdrawals:MinFen.")
            .Validate(o => o.DailyTotalFen >= o.MinFen, "Withdrawals:DailyTotalFen must not be below Withdrawals:MinFen.")
            .ValidateOnStart();
        return builder;
    }
}

public static class WithdrawalModes
{
    public const string Manual = "manual";
    public const string Wechat = "wechat";
}

/// <summary><c>withdrawals.status</c>.</summary>
public static class WithdrawalStatus
{
    public const string Pending = "pending";
    public const string Rejected = "rejected";
    public const string Approved = "approved";
    public const string Transferring = "transferring";
    public const string Paid = "paid";
    public const string Failed = "failed";

    public static readonly string[] All = [Pending, Rejected, Approved, Transferring, Paid, Failed];

    public static bool IsOpen(string status) => status is Pending or Approved or Transferring;
}

/// <summary>WeChat's transfer bill states (docs/wechatpay-v3-transfers.md §3).</summary>
public static class BillStates
{
    public const string WaitUserConfirm = "WAIT_USER_CONFIRM";
    public const string Success = "SUCCESS";
    public const string Fail = "FAIL";
    public const string Cancelled = "CANCELLED";
    public const string Canceling = "CANCELING";

    public static bool IsFinal(string? state) => state is Success or Fail or Cancelled;
}
