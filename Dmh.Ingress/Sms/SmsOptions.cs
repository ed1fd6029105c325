using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Sms;

/// <summary>SMS sign-in codes (<c>Sms:*</c>).</summary>
public sealed class SmsOptions
{
    public const string SectionName = "Sms";

    /// <summary>How long a code stays valid.</summary>
    [Range(10, 3600)]
    public int CodeLifetimeSeconds { get; set; } = 300;

    /// <summary>At most one code per phone in this interval.</summary>
    [Range(1, 3600)]
    public int ResendIntervalSeconds { get; set; } = 60;

    /// <summary>At most this many codes per phone in any hour.</summary>
    [Range(1, 100)]
    public int MaxSendsPerHour { get; set; } = 5;

    /// <summary>Wrong guesses a code survives; it is burnt at this count.</summary>
    [Range(1, 20)]
    public int MaxVerifyAttempts { get; set; } = 5;

    /// <summary>
    /// Who delivers the codes: <c>log</c> (default: nobody, a warning per code), <c>devOutbox</c> or
    /// <c>tencent</c> (Tencent Cloud SMS, <c>Sms:Tencent:*</c>).
    /// </summary>
    public string Provider { get; set; } = Providers.Log;

    /// <summary>
    /// Local development and tests only: keep the last code per phone readable at
    /// <c>GET /api/v1/dev/sms/{phone}</c> (the same as <c>Sms:Provider=devOutbox</c>). Never on in production.
    /// </summary>
    public bool DevOutbox { get; set; }

    /// <summary>The provider in force: <see cref="DevOutbox"/> is shorthand for <c>devOutbox</c>.</summary>
    public string EffectiveProvider => DevOutbox ? Providers.DevOutbox : Providers.Known.FirstOrDefault(p => p.Equals(Provider, StringComparison.OrdinalIgnoreCase)) ?? Provider;

    public bool UsesDevOutbox => EffectiveProvider == Providers.DevOutbox;

    public static class Providers
    {
        public const string Log = "log";
        public const string DevOutbox = "devOutbox";
        public const string Tencent = "tencent";

        public static readonly string[] Known = [Log, DevOutbox, Tencent];
    }
}

/// <summary><c>Sms:Provider</c> and its settings, checked at start.</summary>
internal sealed class SmsProviderValidation(IOptions<TencentSmsOptions> tencent, IHostEnvironment environment) : IValidateOptions<SmsOptions>
{
    public ValidateOptionsResult Validate(string? name, SmsOptions options)
    {
        if (!SmsOptions.Providers.Known.Contains(options.EffectiveProvider))
        {
            return ValidateOptionsResult.Fail($"Sms:Provider '{options.Provider}' is unknown: log, devOutbox or tencent.");
        }

        if (options.DevOutbox && !options.Provider.Equals(SmsOptions.Providers.Log, StringComparison.OrdinalIgnoreCase)
            && !options.Provider.Equals(SmsOptions.Providers.DevOutbox, StringComparison.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Fail($"Sms:DevOutbox=true contradicts Sms:Provider={options.Provider}: set one of them.");
        }

        if (options.UsesDevOutbox && environment.IsProduction())
        {
            return ValidateOptionsResult.Fail("Sms:DevOutbox (Sms:Provider=devOutbox) must be off in Production: it publishes every SMS code at GET /api/v1/dev/sms/{phone}. Configure an SMS gateway instead.");
        }

        return options.EffectiveProvider == SmsOptions.Providers.Tencent && tencent.Value.Problem() is { } problem
            ? ValidateOptionsResult.Fail(problem)
            : ValidateOptionsResult.Success;
    }
}
