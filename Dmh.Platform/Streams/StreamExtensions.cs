using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Dmh.Platform.Streams;

public static class StreamExtensions
{
    /// <summary>The <see cref="StreamPublisher"/> (needs <c>AddDmhRedis()</c>).</summary>
    public static IHostApplicationBuilder AddStreamPublisher(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<StreamPublisher>();
        return builder;
    }

    /// <summary>
    /// Runs <typeparamref name="THandler"/> on a consumer group, and the stream's trim and consumer
    /// pruning job, with settings bound from <paramref name="section"/> (e.g. <c>Settlement:Consumer</c>)
    /// over the given defaults. The host provides the <see cref="IDeadLetterStore"/>.
    /// </summary>
    public static IHostApplicationBuilder AddStreamConsumer<THandler>(this IHostApplicationBuilder builder, string section, string stream, string group)
        where THandler : class, IStreamHandler
    {
        builder.Services.AddOptions<StreamConsumerOptions>(typeof(THandler).FullName)
            .Configure(o =>
            {
                o.Stream = stream;
                o.Group = group;
            })
            .BindConfiguration(section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton<THandler>();
        builder.Services.TryAddSingleton<StreamMaintenance>();
        builder.Services.AddHostedService<StreamConsumerService<THandler>>();
        builder.Services.AddHostedService<StreamMaintenanceService<THandler>>();
        return builder;
    }
}
