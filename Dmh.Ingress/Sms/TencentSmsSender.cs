using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dmh.Ingress.Participants;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Sms;

/// <summary>
/// Sends the sign-in code with Tencent Cloud SMS <c>SendSms</c> (API 3.0, version 2021-01-11,
/// https://www.tencentcloud.com/document/api/382/40536): one number, the configured template filled
/// with the code (and its lifetime in minutes), signed with TC3-HMAC-SHA256. Answers that may succeed
/// on a second try (a timeout, an internal error, the API's request limit) are retried a bounded number
/// of times, re-signed each time; the others give up at once (<see cref="SmsDeliveryException"/>).
/// The phone is logged masked, the code never.
/// </summary>
public sealed partial class TencentSmsSender(
    IHttpClientFactory httpClients, IOptions<TencentSmsOptions> options, IOptions<SmsOptions> sms, TimeProvider time, ILogger<TencentSmsSender> logger) : ISmsSender
{
    public const string ClientName = "tencent-sms";
    public const string Service = "sms";
    public const string Action = "SendSms";
    public const string Version = "2021-01-11";
    public const string ContentType = "application/json; charset=utf-8";

    // Error codes of SendSms and of API 3.0 in general (tencentcloud-sdk's sms/v20210111/errors.go and the
    // "Error Codes" page): these may pass when tried again; every other code will not.
    private static readonly HashSet<string> Transient = new(StringComparer.Ordinal)
    {
        "InternalError", "InternalError.Timeout", "InternalError.SendAndRecvFail", "InternalError.UnknownError",
        "InternalError.OtherError", "RequestLimitExceeded", "ResourceUnavailable", "ServiceUnavailable",
        // Signed too long ago, e.g. a slow network: a retry carries a fresh timestamp.
        "AuthFailure.SignatureExpire",
    };

    private static readonly HashSet<string> PhoneRejected = new(StringComparer.Ordinal)
    {
        "FailedOperation.PhoneNumberInBlacklist", "InvalidParameterValue.IncorrectPhoneNumber",
        "UnsupportedOperation.UnsuportedRegion", "FailedOperation.PhoneNumberParseFail",
    };

    public Task SendCodeAsync(string phone, string code, long? campaignId, CancellationToken ct)
    {
        var o = options.Value;
        return SendAsync(phone, RequestBody(o, phone, code, sms.Value.CodeLifetimeSeconds), "code", campaignId, ct);
    }

    /// <summary>A notice with its own approved template (issue 18), with the same signature, retries and error mapping as a code.</summary>
    public Task SendNoticeAsync(string phone, string templateId, IReadOnlyList<string> parameters, CancellationToken ct) =>
        SendAsync(phone, Body(options.Value, phone, templateId, [.. parameters]), "notice " + templateId, null, ct);

    private async Task SendAsync(string phone, byte[] body, string what, long? campaignId, CancellationToken ct)
    {
        var o = options.Value;
        var delay = o.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            var failure = await SendOnceAsync(o, body, ct);
            if (failure is null)
            {
                LogSent(logger, what, PhoneNumbers.Mask(phone), campaignId, attempt);
                return;
            }

            if (failure.Kind != SmsFailure.Unavailable || attempt >= o.MaxAttempts)
            {
                LogGaveUp(logger, what, PhoneNumbers.Mask(phone), failure.ProviderCode, failure.ProviderMessage, attempt);
                throw failure;
            }

            LogRetry(logger, PhoneNumbers.Mask(phone), failure.ProviderCode, attempt, delay);
            await Task.Delay(delay, time, ct);
            delay *= 2;
        }
    }

    /// <summary>The SendSms body for one mainland number.</summary>
    public static byte[] RequestBody(TencentSmsOptions o, string phone, string code, int lifetimeSeconds)
    {
        var minutes = Math.Max(1, lifetimeSeconds / 60).ToString(CultureInfo.InvariantCulture);
        var parameters = o.TemplateParamNames().Select(n => n == "code" ? code : minutes).ToArray();
        return Body(o, phone, o.TemplateId, parameters);
    }

    private static byte[] Body(TencentSmsOptions o, string phone, string templateId, string[] parameters) =>
        JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["PhoneNumberSet"] = new[] { "+86" + phone },
            ["SmsSdkAppId"] = o.SdkAppId,
            ["SignName"] = o.SignName,
            ["TemplateId"] = templateId,
            ["TemplateParamSet"] = parameters,
        });

    private async Task<SmsDeliveryException?> SendOnceAsync(TencentSmsOptions o, byte[] body, CancellationToken ct)
    {
        var endpoint = new Uri(o.Endpoint);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(ContentType);
        request.Headers.Add("X-TC-Action", Action);
        request.Headers.Add("X-TC-Version", Version);
        request.Headers.Add("X-TC-Timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("X-TC-Region", o.Region);
        request.Headers.TryAddWithoutValidation("Authorization", Tc3Signer.Authorization(o.SecretId, o.SecretKey, Service,
            [new("content-type", ContentType), new("host", endpoint.Authority), new("x-tc-action", Action)], body, timestamp));

        HttpResponseMessage response;
        try
        {
            response = await httpClients.CreateClient(ClientName).SendAsync(request, ct);
        }
        catch (HttpRequestException ex)
        {
            return new SmsDeliveryException(SmsFailure.Unavailable, "HttpRequestException", ex.Message);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return new SmsDeliveryException(SmsFailure.Unavailable, "Timeout", $"No answer within {o.Timeout.TotalSeconds:0.#} s.");
        }

        using (response)
        {
            JsonElement answer;
            try
            {
                answer = (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("Response");
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or NotSupportedException)
            {
                var transient = (int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests;
                return new SmsDeliveryException(transient ? SmsFailure.Unavailable : SmsFailure.Refused, "HTTP" + (int)response.StatusCode, "Not an API 3.0 answer.");
            }

            if (answer.TryGetProperty("Error", out var error))
            {
                return Classify(Text(error, "Code"), Text(error, "Message"));
            }

            var status = answer.TryGetProperty("SendStatusSet", out var set) && set.ValueKind == JsonValueKind.Array && set.GetArrayLength() > 0
                ? set[0]
                : default;
            var code = status.ValueKind == JsonValueKind.Object ? Text(status, "Code") : "MissingSendStatus";
            return code == "Ok" ? null : Classify(code, status.ValueKind == JsonValueKind.Object ? Text(status, "Message") : "No SendStatusSet in the answer.");
        }
    }

    /// <summary>What DMH does with a provider's error code: retry, refuse the phone, wait, or give up.</summary>
    public static SmsDeliveryException Classify(string code, string message) => new(
        Transient.Contains(code) ? SmsFailure.Unavailable
        : PhoneRejected.Contains(code) ? SmsFailure.PhoneRejected
        : code.StartsWith("LimitExceeded.PhoneNumber", StringComparison.Ordinal) ? SmsFailure.PhoneRateLimited
        : SmsFailure.Refused,
        code, message);

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";

    [LoggerMessage(Level = LogLevel.Information, Message = "SMS {What} for {PhoneMasked} (campaign {CampaignId}) sent by Tencent Cloud SMS (attempt {Attempt})")]
    private static partial void LogSent(ILogger logger, string what, string phoneMasked, long? campaignId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tencent Cloud SMS answered {ProviderCode} for {PhoneMasked} (attempt {Attempt}); retrying in {Delay}")]
    private static partial void LogRetry(ILogger logger, string phoneMasked, string providerCode, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tencent Cloud SMS did not send the {What} for {PhoneMasked}: {ProviderCode} {ProviderMessage} (attempt {Attempt})")]
    private static partial void LogGaveUp(ILogger logger, string what, string phoneMasked, string providerCode, string providerMessage, int attempt);
}
