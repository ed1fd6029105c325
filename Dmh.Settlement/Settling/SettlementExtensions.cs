using Dmh.Platform.Database;
using Dmh.Platform.Streams;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Dmh.Settlement.Settling;

public static class SettlementExtensions
{
    public static IHostApplicationBuilder AddSettlement(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SettlementOptions>()
            .BindConfiguration(SettlementOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<SettlementStore>();
        // One handler serves the stream's consumer and reconciliation (which settles directly: the
        // settlement service has no right to publish to the payments stream).
        builder.Services.TryAddSingleton<PaymentSettlementHandler>();
        builder.Services.AddSingleton<IPaymentSettler>(sp => sp.GetRequiredService<PaymentSettlementHandler>());
        // Settling publishes the sync requests; entries given up on go to the dead_letters table.
        builder.AddStreamPublisher();
        builder.AddDeadLetterTable();
        return builder;
    }
}
