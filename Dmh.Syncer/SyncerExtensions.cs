using Dmh.Contracts;
using Dmh.Platform.Database;
using Dmh.Platform.Hosting;
using Dmh.Platform.Security;
using Dmh.Platform.Streams;
using Dmh.Syncer.Sync;
using Dmh.Syncer.Target;
using Microsoft.Extensions.Options;

namespace Dmh.Syncer;

public static class SyncerExtensions
{
    /// <summary>Options (validated at start, including the password and the Oracle provider), the consumer, the sweeper and the target health check.</summary>
    public static WebApplicationBuilder AddSyncer(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.SectionName);
        builder.Services.AddOptions<ExternalSyncOptions>()
            .BindConfiguration(ExternalSyncOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // A validator rather than Validate(...) lambdas, so the start-up failure says exactly what is wrong.
        builder.Services.AddSingleton<IValidateOptions<ExternalSyncOptions>, ExternalSyncValidator>();
        builder.Services.AddHealthChecks().AddCheck<TargetHealthCheck>("target", tags: [ServiceDefaults.ReadyTag]);

        builder.Services.AddSingleton(sp => new TargetConnectionFactory(
            sp.GetRequiredService<IOptions<ExternalSyncOptions>>().Value,
            sp.GetRequiredService<IOptions<SecurityOptions>>().Value.DataKey));
        builder.Services.AddSingleton(sp => new TargetWriter(
            sp.GetRequiredService<TargetConnectionFactory>(),
            sp.GetRequiredService<IOptions<ExternalSyncOptions>>().Value.Resilience,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<TargetWriter>>()));
        builder.Services.AddSingleton<SyncStore>();

        builder.AddStreamConsumer<SyncHandler>("Syncer:Consumer", StreamNames.Sync, GroupNames.Syncer);
        builder.AddDeadLetterTable();
        // Whether sync runs is decided from the final configuration when the host starts (test hosts
        // and later configuration sources are applied after this method runs), so the consumer loop
        // and the stream's maintenance job are started by SyncWorkers rather than registered as hosted services of their own.
        foreach (var worker in new[] { typeof(StreamConsumerService<SyncHandler>), typeof(StreamMaintenanceService<SyncHandler>) })
        {
            builder.Services.Remove(builder.Services.Last(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == worker));
        }

        builder.Services.AddHostedService<SyncWorkers>();

        return builder;
    }

    /// <summary>The consumer loop, the stream's maintenance and the outbox sweeper, when ExternalSync:Enabled.</summary>
    private sealed class SyncWorkers(IServiceProvider services, IOptions<ExternalSyncOptions> options) : IHostedService
    {
        private List<IHostedService> _workers = [];

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            if (!options.Value.Enabled)
            {
                return;
            }

            services.GetRequiredService<TargetConnectionFactory>().LogTransport(services.GetRequiredService<ILogger<TargetConnectionFactory>>());
            List<IHostedService> workers =
            [
                ActivatorUtilities.CreateInstance<StreamConsumerService<SyncHandler>>(services),
                ActivatorUtilities.CreateInstance<StreamMaintenanceService<SyncHandler>>(services),
                ActivatorUtilities.CreateInstance<OutboxSweeper>(services),
            ];
            _workers = workers;
            foreach (var worker in workers)
            {
                await worker.StartAsync(cancellationToken);
            }
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            // The host may stop twice (StopAsync, then Dispose): the first caller takes the workers.
            foreach (var worker in Interlocked.Exchange(ref _workers, []))
            {
                await worker.StopAsync(cancellationToken);
                (worker as IDisposable)?.Dispose();
            }
        }
    }

    private sealed class ExternalSyncValidator(IOptions<SecurityOptions> security) : IValidateOptions<ExternalSyncOptions>
    {
        public ValidateOptionsResult Validate(string? name, ExternalSyncOptions options)
        {
            if (!options.Enabled)
            {
                return ValidateOptionsResult.Success;
            }

            var error = options.Check() ?? TargetConnectionFactory.Check(options, security.Value.DataKey);
            return error is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(error);
        }
    }
}
