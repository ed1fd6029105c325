using Dmh.Platform.Withdrawals;

namespace Dmh.Settlement.Withdrawals;

public static class TransferReconciliationExtensions
{
    /// <summary>
    /// The transfer reconciliation job, running in <c>wechat</c> mode (<c>Withdrawals:Mode</c>). It needs <see cref="Dmh.WechatPay.ITransferProvider"/> (<c>AddWechatPay()</c>).
    /// </summary>
    public static IHostApplicationBuilder AddTransferReconciliation(this IHostApplicationBuilder builder)
    {
        builder.AddWithdrawalOptions();
        builder.Services.AddSingleton<TransferReconciliationService>();
        if (builder.Configuration[$"{WithdrawalOptions.SectionName}:Mode"] == WithdrawalModes.Wechat)
        {
            builder.Services.AddHostedService(sp => sp.GetRequiredService<TransferReconciliationService>());
        }

        return builder;
    }
}
