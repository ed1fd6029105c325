namespace Dmh.Settlement.Reconciliation;

public static class ReconciliationExtensions
{
    /// <summary>
    /// Registers the job unless <c>Reconciliation:Enabled</c> is explicitly false (issue 21: a lost notify
    /// must not leave a paid order unpaid because someone forgot a setting). It needs an
    /// <see cref="Dmh.WechatPay.IPaymentProvider"/> from DI (WeChat Pay's <c>AddWechatPay()</c>).
    /// </summary>
    public static IHostApplicationBuilder AddReconciliation(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReconciliationOptions>()
            .BindConfiguration(ReconciliationOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.ExpireAfter >= o.QueryAfter, "Reconciliation:ExpireAfter must not be shorter than Reconciliation:QueryAfter.")
            .ValidateOnStart();
        if (builder.Configuration.GetValue($"{ReconciliationOptions.SectionName}:Enabled", true))
        {
            builder.Services.AddSingleton<ReconciliationService>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<ReconciliationService>());
        }

        return builder;
    }
}
