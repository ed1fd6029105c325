using Dmh.Platform.Streams;

namespace Dmh.Settlement.Notices;

public static class RewardChangeExtensions
{
    /// <summary>Registers the sweeper that publishes <c>RewardChanged</c> (on unless <c>Notices:Sweeper:Enabled</c> is false).</summary>
    public static IHostApplicationBuilder AddRewardChanges(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RewardChangeOptions>()
            .BindConfiguration(RewardChangeOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.AddStreamPublisher();
        builder.Services.AddSingleton<RewardChangeSweeper>();
        if (builder.Configuration.GetValue($"{RewardChangeOptions.SectionName}:Enabled", true))
        {
            builder.Services.AddHostedService(sp => sp.GetRequiredService<RewardChangeSweeper>());
        }

        return builder;
    }
}
