using System.Collections.Concurrent;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Dmh.IntegrationTests.Syncer;

/// <summary>Issue 15 M11: the syncer starts only with a verified customer DB connection or an explicit, logged opt-out.</summary>
public sealed class TargetTlsStartTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private TargetDatabase _target = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _target = await TargetDatabase.CreateAsync(TargetKind.MySql);
    }

    public async Task DisposeAsync()
    {
        await _target.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task A_plain_connection_without_the_opt_out_fails_start_up_naming_the_setting()
    {
        var settings = _target.SyncSettings();
        settings.Remove("ExternalSync:Database:AllowInsecureConnection");

        Exception ex;
        var attempt = 0;
        do
        {
            await using var syncer = new ServiceFactory<Dmh.Syncer.EntryPoint>(_db, TestKeys.NewRedisPrefix(), settings);
            ex = Assert.ThrowsAny<Exception>(() => syncer.Services);
        }
        // WebApplicationFactory now and then reports the disposed failed host instead (dotnet/aspnetcore#33494).
        while (ex is ObjectDisposedException && ++attempt < 5);

        Assert.True(ex.ToString().Contains("ExternalSync:Database:AllowInsecureConnection", StringComparison.Ordinal), ex.ToString());
    }

    [Fact]
    public async Task The_explicit_opt_out_is_logged_at_start_as_a_warning_naming_the_target_and_the_mode()
    {
        var logs = new CapturingLoggerProvider();
        await using var factory = new ServiceFactory<Dmh.Syncer.EntryPoint>(_db, TestKeys.NewRedisPrefix(), _target.SyncSettings());
        await using var syncer = factory.WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(logs)));
        _ = syncer.Services;

        var warning = Assert.Single(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("Customer database", StringComparison.Ordinal));
        Assert.Contains($"{_target.Host}:{_target.Port}", warning.Message, StringComparison.Ordinal);
        Assert.Contains("SslMode None", warning.Message, StringComparison.Ordinal);
        Assert.Contains("NOT encrypted", warning.Message, StringComparison.Ordinal);
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(Entries);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<(LogLevel, string)> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue((logLevel, formatter(state, exception)));
        }
    }
}
