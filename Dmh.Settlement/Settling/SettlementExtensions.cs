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
        return builder;
    }
}
