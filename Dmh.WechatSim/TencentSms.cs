using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Dmh.WechatSim;

/// <summary>One message the SMS stand-in accepted, as a test reads it back.</summary>
public sealed record SimSms(string PhoneNumber, string SdkAppId, string SignName, string TemplateId, string[] TemplateParams, string SerialNo, DateTimeOffset SentAt);

/// <summary>The stand-in's memory: accepted messages (newest last, bounded) and error codes queued by a test.</summary>
public sealed class SmsOutbox
{
    private const int Keep = 1000;
    private readonly ConcurrentQueue<SimSms> _messages = new();

    public ConcurrentQueue<string> Faults { get; } = new();

    public void Add(SimSms message)
    {
        _messages.Enqueue(message);
        while (_messages.Count > Keep && _messages.TryDequeue(out _))
        {
        }
    }

    public IReadOnlyList<SimSms> All() => [.. _messages];
}

/// <summary>
/// Stands in for Tencent Cloud SMS <c>SendSms</c> (API 3.0, version 2021-01-11) at <c>POST /</c>, as
/// <c>https://sms.tencentcloudapi.com/</c> is called. It checks the request as Tencent Cloud does
/// (Signature v3, TC3-HMAC-SHA256: timestamp within 5 minutes, known SecretId, credential scope of that
/// UTC date and service <c>sms</c>, content-type and host signed, signature recomputed over the headers
/// and body received) and answers in Tencent's shapes: <c>{"Response":{"Error":{"Code","Message"},
/// "RequestId"}}</c> with HTTP 200 for a refused call, <c>SendStatusSet</c> per number otherwise. Its
/// own verification, written from Tencent's documentation, so DMH's signer is checked against a second
/// implementation (both are tested on the documented example).
/// </summary>
public static partial class TencentSms
{
    public sealed record FaultCommand(string? Code, int? Count);

    private static readonly JsonSerializerOptions Pascal = new() { PropertyNamingPolicy = null };

    public static IEndpointRouteBuilder MapTencentSms(this IEndpointRouteBuilder app)
    {
        app.MapPost("/", SendSmsAsync);
        app.MapGet("/sim/sms", (SmsOutbox outbox) => Results.Ok(outbox.All()));
        app.MapGet("/sim/sms/{phone}", (string phone, SmsOutbox outbox) =>
            outbox.All().LastOrDefault(m => m.PhoneNumber == (phone.StartsWith('+') ? phone : "+86" + phone)) is { } last
                ? Results.Ok(last)
                : Results.NotFound(new { code = "NOT_FOUND", message = "no SMS for this number" }));
        app.MapGet("/sim/sms/faults", (SmsOutbox outbox) => Results.Ok(new { queued = outbox.Faults.Count }));
        // The next Count sends answer Code (e.g. InternalError.Timeout, LimitExceeded.PhoneNumberThirtySecondLimit).
        app.MapPost("/sim/sms/faults", (FaultCommand command, SmsOutbox outbox) =>
        {
            if (string.IsNullOrWhiteSpace(command.Code))
            {
                return Results.BadRequest(new { code = "PARAM_ERROR", message = "code is required" });
            }

            for (var i = 0; i < (command.Count ?? 1); i++)
            {
                outbox.Faults.Enqueue(command.Code);
            }

            return Results.Ok(new { queued = outbox.Faults.Count });
        });
        return app;
    }

    private static async Task<IResult> SendSmsAsync(HttpContext http, IOptions<SimulatorOptions> options, TimeProvider time, SmsOutbox outbox)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
        var body = buffer.ToArray();
        var account = options.Value.Sms;
        var refusal = Verify(http.Request, body, account, time.GetUtcNow());
        if (refusal is not null)
        {
            return Error(refusal.Value.Code, refusal.Value.Message);
        }

        JsonElement request;
        try
        {
            request = JsonSerializer.Deserialize<JsonElement>(body);
        }
        catch (JsonException)
        {
            return Error("FailedOperation.JsonParseFail", "解析请求包体时候失败。");
        }

        if (request.ValueKind != JsonValueKind.Object)
        {
            return Error("FailedOperation.JsonParseFail", "解析请求包体时候失败。");
        }

        var sdkAppId = Text(request, "SmsSdkAppId");
        if (sdkAppId != account.SdkAppId)
        {
            return Error("UnauthorizedOperation.SmsSdkAppIdVerifyFail", "SmsSdkAppId 校验失败。");
        }

        var phones = request.TryGetProperty("PhoneNumberSet", out var set) && set.ValueKind == JsonValueKind.Array
            ? set.EnumerateArray().Select(p => p.ValueKind == JsonValueKind.String ? p.GetString()! : "").ToList()
            : [];
        if (phones.Count == 0)
        {
            return Error("MissingParameter.EmptyPhoneNumberSet", "传入的号码列表为空。");
        }

        var templateId = Text(request, "TemplateId");
        var signName = Text(request, "SignName");
        if (templateId.Length == 0 || signName.Length == 0)
        {
            return Error("MissingParameter", "The request is missing a required parameter `TemplateId` or `SignName`.");
        }

        var parameters = request.TryGetProperty("TemplateParamSet", out var ps) && ps.ValueKind == JsonValueKind.Array
            ? ps.EnumerateArray().Select(p => p.ValueKind == JsonValueKind.String ? p.GetString()! : p.ToString()).ToArray()
            : [];

        string? fault = outbox.Faults.TryDequeue(out var queued) ? queued : null;
        if (fault is not null && !IsPerNumber(fault))
        {
            return Error(fault, "simulated fault");
        }

        var statuses = new List<object>();
        foreach (var phone in phones)
        {
            var normalized = phone.StartsWith('+') ? phone : "+86" + phone;
            var code = fault ?? (MainlandMobile().IsMatch(normalized) ? "Ok" : "InvalidParameterValue.IncorrectPhoneNumber");
            var serial = code == "Ok" ? "2645:" + Guid.NewGuid().ToString("N")[..20] : "";
            if (code == "Ok")
            {
                outbox.Add(new SimSms(normalized, sdkAppId, signName, templateId, parameters, serial, time.GetUtcNow()));
            }

            statuses.Add(new
            {
                SerialNo = serial,
                PhoneNumber = normalized,
                Fee = code == "Ok" ? 1 : 0,
                SessionContext = "",
                Code = code,
                Message = code == "Ok" ? "send success" : "simulated: " + code,
                IsoCode = "CN",
            });
        }

        return Results.Json(new { Response = new { SendStatusSet = statuses, RequestId = Guid.NewGuid().ToString() } }, Pascal);
    }

    /// <summary>The error Tencent Cloud answers for this request's authentication and common headers, or null when it passes.</summary>
    public static (string Code, string Message)? Verify(HttpRequest request, byte[] body, TencentSmsAccount account, DateTimeOffset now)
    {
        var match = AuthorizationHeader().Match(request.Headers.Authorization.ToString());
        if (!match.Success)
        {
            return ("AuthFailure.InvalidAuthorization", "Authorization 不符合腾讯云标准。");
        }

        if (!long.TryParse(request.Headers["X-TC-Timestamp"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp)
            || Math.Abs(now.ToUnixTimeSeconds() - timestamp) > 300)
        {
            return ("AuthFailure.SignatureExpire", "Signature expired. Timestamp must be within 5 minutes of the server's time.");
        }

        if (account.SecretKey.Length == 0 || match.Groups["id"].Value != account.SecretId)
        {
            return ("AuthFailure.SecretIdNotFound", "The SecretId is not found, please ensure that your SecretId is correct.");
        }

        var date = match.Groups["date"].Value;
        var service = match.Groups["service"].Value;
        var signed = match.Groups["headers"].Value.Split(';');
        var dateOfTimestamp = DateTimeOffset.FromUnixTimeSeconds(timestamp).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        if (date != dateOfTimestamp || service != "sms" || !signed.Contains("content-type") || !signed.Contains("host")
            || !signed.SequenceEqual(signed.Order(StringComparer.Ordinal)))
        {
            return SignatureFailure;
        }

        var canonicalHeaders = new StringBuilder();
        foreach (var name in signed)
        {
            var value = name == "host" ? request.Host.Value : request.Headers[name].ToString();
            if (string.IsNullOrEmpty(value))
            {
                return SignatureFailure;
            }

            canonicalHeaders.Append(name).Append(':').Append(value.Trim().ToLowerInvariant()).Append('\n');
        }

        var canonicalRequest = request.Method + "\n/\n" + request.QueryString.Value?.TrimStart('?') + "\n" + canonicalHeaders + "\n"
            + match.Groups["headers"].Value + "\n" + Hex(SHA256.HashData(body));
        var expected = Signature(account.SecretKey, date, service, "TC3-HMAC-SHA256\n" + timestamp.ToString(CultureInfo.InvariantCulture) + "\n"
            + $"{date}/{service}/tc3_request\n" + Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest))));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(match.Groups["signature"].Value)))
        {
            return SignatureFailure;
        }

        if (request.Headers["X-TC-Action"].ToString() != "SendSms")
        {
            return ("InvalidAction", "The action requested is invalid for this service.");
        }

        if (request.Headers["X-TC-Version"].ToString() != "2021-01-11")
        {
            return ("NoSuchVersion", "The API version requested does not exist.");
        }

        return string.IsNullOrEmpty(request.Headers["X-TC-Region"].ToString())
            ? ("MissingParameter", "The request is missing a required parameter `Region`.")
            : null;
    }

    /// <summary>HexEncode(HMAC_SHA256(SecretSigning, StringToSign)), SecretSigning derived from the key through date, service and tc3_request.</summary>
    public static string Signature(string secretKey, string date, string service, string stringToSign)
    {
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("TC3" + secretKey), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        key = HMACSHA256.HashData(key, "tc3_request"u8);
        return Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
    }

    private static readonly (string, string) SignatureFailure =
        ("AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct.");

    private static bool IsPerNumber(string code) =>
        code.StartsWith("LimitExceeded.PhoneNumber", StringComparison.Ordinal)
        || code is "FailedOperation.PhoneNumberInBlacklist" or "InvalidParameterValue.IncorrectPhoneNumber";

    private static IResult Error(string code, string message) =>
        Results.Json(new { Response = new { Error = new { Code = code, Message = message }, RequestId = Guid.NewGuid().ToString() } }, Pascal);

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    [GeneratedRegex("^TC3-HMAC-SHA256 Credential=(?<id>[^/ ]+)/(?<date>[0-9]{4}-[0-9]{2}-[0-9]{2})/(?<service>[a-z]+)/tc3_request, SignedHeaders=(?<headers>[a-z0-9;-]+), Signature=(?<signature>[0-9a-f]{64})$")]
    private static partial Regex AuthorizationHeader();

    [GeneratedRegex("^\\+861[3-9][0-9]{9}$")]
    private static partial Regex MainlandMobile();
}
