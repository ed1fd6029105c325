using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dmh.WechatPay;

public static class WechatPayExtensions
{
    /// <summary>
    /// WeChat Pay v3 for any host (Ingress, Settlement's reconciliation): validated options, parsed keys,
    /// the signer, the verifier, notify reading and <see cref="IPaymentProvider"/>.
    /// </summary>
    public static IHostApplicationBuilder AddWechatPay(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<WechatPayOptions>()
            .BindConfiguration(WechatPayOptions.SectionName)
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WechatPayOptions>, WechatPayOptionsValidator>());
        builder.Services.AddHttpClient(WechatPayCertificateDownloader.ClientName, (sp, client) =>
        {
            var o = sp.GetRequiredService<IOptions<WechatPayOptions>>().Value;
            client.BaseAddress = new Uri(o.BaseUrl.TrimEnd('/') + "/");
            client.Timeout = o.RequestTimeout;
        });
        builder.Services.TryAddSingleton<WechatPayKeys>();
        builder.Services.TryAddSingleton<WechatPaySigner>();
        builder.Services.TryAddSingleton<WechatPayCertificateDownloader>();
        builder.Services.TryAddSingleton<WechatPayVerifier>();
        builder.Services.TryAddSingleton<WechatPayNotifications>();
        builder.Services.TryAddSingleton<WechatPayClient>();
        builder.Services.TryAddSingleton<IPaymentProvider>(sp => sp.GetRequiredService<WechatPayClient>());
        builder.Services.TryAddSingleton<ITransferProvider>(sp => sp.GetRequiredService<WechatPayClient>());
        return builder;
    }
}
