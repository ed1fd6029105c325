namespace Dmh.Settlement.Reconciliation;

public static class ReconciliationExtensions
{
    /// <summary>
    /// Registers the job when <c>Reconciliation:Enabled</c> is true. It needs an
    /// <see cref="Dmh.WechatPay.IPaymentProvider"/> from DI (WeChat Pay's <c>AddWechatPay()</c>).
    /// </summary>
    public static IHostApplicationBuilder AddReconciliation(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReconciliationOptions>()
            .BindConfiguration(ReconciliationOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.ExpireAfter >= o.QueryAfter, "Reconciliation:ExpireAfter must not be shorter than Reconciliation:QueryAfter.")
            .ValidateOnStart();
        if (builder.Configuration.GetValue<bool>($"{ReconciliationOptions.SectionName}:Enabled"))
        {
            builder.Services.AddSingleton<ReconciliationService>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<ReconciliationService>());
        }

        return builder;
    }
}
