namespace Dmh.Settlement.Rewards;

public static class HoldReleaseExtensions
{
    /// <summary>Registers the hold job (on unless <c>Rewards:Hold:Enabled</c> is false).</summary>
    public static IHostApplicationBuilder AddRewardHold(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<HoldReleaseOptions>()
            .BindConfiguration(HoldReleaseOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<HoldReleaseService>();
        if (builder.Configuration.GetValue($"{HoldReleaseOptions.SectionName}:Enabled", true))
        {
            builder.Services.AddHostedService(sp => sp.GetRequiredService<HoldReleaseService>());
        }

        return builder;
    }
}
