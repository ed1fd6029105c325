using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dmh.Ingress.Sms;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dmh.IntegrationTests.Sms;

/// <summary>SMS codes stay out of the logs, and the dev outbox cannot run in Production.</summary>
public sealed class SmsSecrecyTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Sending_a_code_logs_neither_the_code_nor_the_whole_phone(bool devOutbox)
    {
        const string phone = "13912345678";
        var logs = new CapturingLoggerProvider();
        string? sentCode = null;
        await using var factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Sms:DevOutbox"] = devOutbox ? "true" : "false",
            ["Logging:LogLevel:Default"] = "Debug",
        });
        await using var app = factory.WithWebHostBuilder(b => b.ConfigureServices(s =>
        {
            s.AddSingleton<ILoggerProvider>(logs);
            // The sender chosen by the options, wrapped only to learn the code it was given.
            var chosen = s.Last(d => d.ServiceType == typeof(ISmsSender));
            s.AddSingleton<ISmsSender>(sp => new SpySender((ISmsSender)chosen.ImplementationFactory!(sp), code => sentCode = code));
        }));
        using var client = app.CreateClient();

        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsJsonAsync("/api/v1/auth/sms/send", new { campaignId = 7, phone })).StatusCode);

        Assert.NotNull(sentCode);
        var records = logs.Records.ToList();
        Assert.DoesNotContain(records, r => r.Message.Contains(sentCode, StringComparison.Ordinal));
        Assert.DoesNotContain(records, r => r.Level >= LogLevel.Information && r.Message.Contains(phone, StringComparison.Ordinal));
        Assert.Contains(records, r => r.Message.Contains("139****5678", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ingress_refuses_to_start_in_production_with_the_dev_outbox_on()
    {
        await using var factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Sms:DevOutbox"] = "true",
        });
        await using var production = factory.WithWebHostBuilder(b => b.UseEnvironment("Production"));

        var error = Assert.Throws<OptionsValidationException>(() => production.CreateClient());
        Assert.Contains("Sms:DevOutbox", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingress_starts_in_development_with_the_dev_outbox_and_warns()
    {
        var logs = new CapturingLoggerProvider();
        await using var factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Sms:DevOutbox"] = "true",
        });
        await using var development = factory.WithWebHostBuilder(b => b.UseEnvironment("Development")
            .ConfigureServices(s => s.AddSingleton<ILoggerProvider>(logs)));
        using var client = development.CreateClient();

        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsJsonAsync("/api/v1/auth/sms/send", new { phone = "13912340000" })).StatusCode);
        var outbox = await client.GetFromJsonAsync<JsonElement>("/api/v1/dev/sms/13912340000");
        Assert.Matches("^[0-9]{6}$", outbox.GetProperty("code").GetString());
        Assert.Contains(logs.Records, r => r.Level == LogLevel.Warning && r.Message.Contains("Sms:DevOutbox", StringComparison.Ordinal));
    }

    private sealed class SpySender(ISmsSender inner, Action<string> onCode) : ISmsSender
    {
        public Task SendCodeAsync(string phone, string code, long? campaignId, CancellationToken ct)
        {
            onCode(code);
            return inner.SendCodeAsync(phone, code, campaignId, ct);
        }

        public Task SendNoticeAsync(string phone, string templateId, IReadOnlyList<string> parameters, CancellationToken ct) =>
            inner.SendNoticeAsync(phone, templateId, parameters, ct);
    }
}

/// <summary>Keeps every formatted log record (with its exception text) for assertions.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message)> Records { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                // Structured values reach JSON logs even when the template does not print them.
                message += " " + string.Join(" ", values.Select(v => v.Key + "=" + v.Value));
            }

            owner.Records.Enqueue((logLevel, category, message + (exception is null ? "" : " " + exception)));
        }
    }
}
