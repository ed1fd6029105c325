using Dmh.Contracts;
using Dmh.Platform.Streams;

namespace Dmh.Settlement.Tracking;

public static class TrackingExtensions
{
    /// <summary>The tracking rollup consumer: group <c>tracking</c> on <c>dmh:track</c>, settings in <c>Tracking:Consumer</c>.</summary>
    public static IHostApplicationBuilder AddTracking(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TrackingOptions>()
            .BindConfiguration(TrackingOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o =>
            {
                try
                {
                    o.ResolveZone();
                    return true;
                }
                catch (InvalidOperationException)
                {
                    return false;
                }
            }, "Tracking:TimeZone must be a known IANA time zone.")
            .ValidateOnStart();
        builder.Services.AddSingleton<TrackRollupStore>();
        builder.AddStreamConsumer<TrackRollupHandler>("Tracking:Consumer", StreamNames.Track, GroupNames.Tracking);
        return builder;
    }
}
