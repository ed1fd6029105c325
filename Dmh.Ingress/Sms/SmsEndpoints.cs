using Dmh.Ingress.Http;
using Dmh.Ingress.Orders;
using Dmh.Ingress.Participants;
using Dmh.Ingress.Security;
using Dmh.Platform.Redis;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.Ingress.Sms;

public sealed record SmsSendRequest(long? CampaignId, string? Phone);

public sealed record SmsLoginRequest(string? Phone, string? Code);

public sealed record SmsLoginResponse(string SessionToken, long ParticipantId, DateTimeOffset ExpiresAt);

public sealed record DevSmsView(string Phone, string Code);

/// <summary>SMS sign-in for the H5 pages (<c>/api/v1/auth/sms</c>) and, in development only, the outbox.</summary>
public static partial class SmsEndpoints
{
    public static WebApplicationBuilder AddSms(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SmsOptions>()
            .BindConfiguration(SmsOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SmsOptions>, SmsProviderValidation>();
        builder.Services.AddOptions<TencentSmsOptions>()
            .BindConfiguration(TencentSmsOptions.SectionName)
            .ValidateDataAnnotations();
        builder.Services.AddHttpClient(TencentSmsSender.ClientName, (sp, client) =>
            client.Timeout = sp.GetRequiredService<IOptions<TencentSmsOptions>>().Value.Timeout);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SmsCodes>();
        builder.Services.AddSingleton<SmsSendBudget>();
        // Campaigns with require_sms check the registrant's code through this at order creation.
        builder.Services.AddSingleton<ISmsCodeVerifier>(sp => sp.GetRequiredService<SmsCodes>());
        builder.Services.AddSingleton<LogSmsSender>();
        builder.Services.TryAddSingleton<ParticipantStore>();
        // Decided from the bound options, not builder.Configuration: hosts may add configuration after this call.
        builder.Services.AddSingleton<ISmsSender>(sp => sp.GetRequiredService<IOptions<SmsOptions>>().Value.EffectiveProvider switch
        {
            SmsOptions.Providers.DevOutbox => ActivatorUtilities.CreateInstance<DevOutboxSmsSender>(sp),
            SmsOptions.Providers.Tencent => ActivatorUtilities.CreateInstance<TencentSmsSender>(sp),
            _ => sp.GetRequiredService<LogSmsSender>(),
        });
        return builder;
    }

    public static IEndpointRouteBuilder MapSmsEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/auth/sms").WithTags("SMS sign-in");
        group.MapPost("/send", SendAsync).WithName("SendSmsCode").WithSummary("Send a 6-digit sign-in code to a phone");
        group.MapPost("/login", LoginAsync).WithName("SmsLogin").WithSummary("Sign in with a phone and its SMS code");

        if (app.ServiceProvider.GetRequiredService<IOptions<SmsOptions>>().Value.UsesDevOutbox)
        {
            LogDevOutboxOn(app.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SmsEndpoints)));
            app.MapGet("/api/v1/dev/sms/{phone}", ReadOutboxAsync).WithTags("Development")
                .WithName("ReadDevSmsOutbox").WithSummary("The last SMS code sent to a phone (Sms:DevOutbox only)");
        }

        return app;
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> SendAsync(
        SmsSendRequest? request, HttpContext http, SmsCodes codes, SmsSendBudget budget, IOptions<SmsOptions> options, CancellationToken ct)
    {
        if (!PhoneNumbers.IsMainlandMobile(request?.Phone))
        {
            return Problems.Validation("phone", "A mainland mobile number (11 digits, 1[3-9]…) is required.", StatusCodes.Status422UnprocessableEntity);
        }

        var (reservation, wait) = await budget.TryReserveAsync(request!.Phone!);
        if (reservation is null)
        {
            return PublicLimits.TooManyRequests(http, wait, $"Too many codes are being sent; try again in {Seconds(wait)} s.");
        }

        try
        {
            await codes.SendAsync(request.Phone!, request.CampaignId, ct);
            return TypedResults.NoContent();
        }
        catch (SmsRateLimitedException ex)
        {
            await budget.ReleaseAsync(reservation);
            return PublicLimits.TooManyRequests(http, ex.RetryAfter, $"Too many codes for this phone; try again in {Seconds(ex.RetryAfter)} s.");
        }
        catch (SmsDeliveryException ex)
        {
            // Not sent: the global budget gets the send back; the phone's own resend interval still counts
            // (a failing gateway must not be hammered through one number).
            await budget.ReleaseAsync(reservation);
            return ex.Kind switch
            {
                SmsFailure.PhoneRejected => Problems.Validation("phone", "The SMS gateway refuses this number.", StatusCodes.Status422UnprocessableEntity),
                SmsFailure.PhoneRateLimited => PublicLimits.TooManyRequests(http, TimeSpan.FromSeconds(options.Value.ResendIntervalSeconds),
                    "The SMS gateway limits codes to this number; try again later."),
                _ => Problems.Of(StatusCodes.Status502BadGateway, "sms-provider-error", "The SMS code could not be sent.",
                    "The SMS gateway did not send it; try again later."),
            };
        }
    }

    private static long Seconds(TimeSpan wait) => Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));

    public static async Task<Results<Ok<SmsLoginResponse>, ProblemHttpResult>> LoginAsync(
        SmsLoginRequest? request, SmsCodes codes, ParticipantStore participants, TokenService tokens, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (!PhoneNumbers.IsMainlandMobile(request?.Phone))
        {
            errors.Add("phone", "A mainland mobile number (11 digits, 1[3-9]…) is required.");
        }

        if (request?.Code is not { Length: 6 } code || !code.All(char.IsAsciiDigit))
        {
            errors.Add("code", "The code is 6 digits.");
        }

        if (errors.Any)
        {
            return Problems.Validation(errors.ToDictionary(), StatusCodes.Status422UnprocessableEntity);
        }

        if (!await codes.VerifyAsync(request!.Phone!, request.Code!, ct))
        {
            return Problems.Of(StatusCodes.Status401Unauthorized, "invalid-sms-code", "The SMS code is wrong or expired.",
                "Request a new code if this one has expired or was tried too often.");
        }

        var participant = await participants.UpsertAsync(request.Phone!, null, ct);
        var (token, expiresAt) = tokens.IssueParticipant(participant.Id, participant.Openid);
        return TypedResults.Ok(new SmsLoginResponse(token, participant.Id, expiresAt));
    }

    public static async Task<Results<Ok<DevSmsView>, ProblemHttpResult>> ReadOutboxAsync(string phone, IConnectionMultiplexer redis, RedisKeys keys) =>
        await DevOutboxSmsSender.ReadAsync(redis, keys, phone) is { } code
            ? TypedResults.Ok(new DevSmsView(phone, code))
            : Problems.NotFound("An SMS code for this phone");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sms:DevOutbox is on: SMS codes are NOT delivered, and anyone who reaches this server reads them at GET /api/v1/dev/sms/<phone>. Local development only; refused in Production.")]
    private static partial void LogDevOutboxOn(ILogger logger);
}
