using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Admins;

/// <summary>
/// Creates the first admin from <c>Admin:InitialUser</c>/<c>Admin:InitialPassword</c>. Tried once
/// before the host serves requests; if MySQL is down then, retried in the background so start-up
/// does not fail (/readyz reports the database meanwhile).
/// </summary>
public sealed partial class AdminSeeder(AdminStore store, IOptions<AdminOptions> options, TimeProvider time, ILogger<AdminSeeder> logger)
    : BackgroundService
{
    private bool _done;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _done = await TrySeedAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!_done && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(delay, time, stoppingToken);
            _done = await TrySeedAsync(stoppingToken);
            delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 30));
        }
    }

    private async Task<bool> TrySeedAsync(CancellationToken ct)
    {
        var o = options.Value;
        if (string.IsNullOrWhiteSpace(o.InitialUser) || string.IsNullOrEmpty(o.InitialPassword))
        {
            return true;
        }

        try
        {
            if (await store.SeedInitialAsync(o.InitialUser.Trim(), o.InitialPassword, ct))
            {
                LogSeeded(logger, o.InitialUser);
            }

            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogSeedFailed(logger, ex);
            return false;
        }
    }

    [LoggerMessage(LogLevel.Information, "Created the initial admin {Username}")]
    private static partial void LogSeeded(ILogger logger, string username);

    [LoggerMessage(LogLevel.Warning, "Could not create the initial admin yet; retrying")]
    private static partial void LogSeedFailed(ILogger logger, Exception ex);
}
