using System.Text;
using Dmh.Ingress.Sms;
using Dmh.WechatSim;

namespace Dmh.UnitTests.Ingress;

/// <summary>
/// TC3-HMAC-SHA256 on the worked example of Tencent Cloud's "Signature v3" page
/// (https://www.tencentcloud.com/document/api/215/38340): DescribeInstances on cvm, timestamp
/// 1551113065, SecretKey Gu5t9xGARNpq86cd98joQYCN3EXAMPLE; the page prints every intermediate value.
/// </summary>
public sealed class TencentSmsSignatureTests
{
    private const string Payload = """{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}""";
    private const string SecretId = "AKID**********************0123456789EXAMPLE";
    private const string SecretKey = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
    private const long Timestamp = 1551113065;
    private const string DocumentedSignature = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168";

    private static readonly KeyValuePair<string, string>[] Headers =
        [new("Host", "cvm.tencentcloudapi.com"), new("Content-Type", "application/json; charset=utf-8")];

    [Fact]
    public void Signer_reproduces_the_documented_canonical_request_string_to_sign_and_authorization()
    {
        var (signed, canonical) = Tc3Signer.Canonical(Headers);
        var canonicalRequest = Tc3Signer.CanonicalRequest(canonical, signed, Encoding.UTF8.GetBytes(Payload));
        Assert.Equal(
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n"
            + "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064",
            canonicalRequest);
        Assert.Equal(
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031",
            Tc3Signer.StringToSign(canonicalRequest, Timestamp, "2019-02-25/cvm/tc3_request"));
        Assert.Equal(
            $"TC3-HMAC-SHA256 Credential={SecretId}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature={DocumentedSignature}",
            Tc3Signer.Authorization(SecretId, SecretKey, "cvm", Headers, Encoding.UTF8.GetBytes(Payload), Timestamp));
    }

    [Fact]
    public void The_scope_date_is_the_UTC_date_of_the_timestamp()
    {
        // 2019-02-26 00:44:25 in Beijing is still 2019-02-25 in UTC (the page's own warning).
        Assert.Equal("2019-02-25", Tc3Signer.Date(Timestamp));
    }

    [Fact]
    public void Simulator_derives_the_documented_signature_with_its_own_implementation()
    {
        Assert.Equal(DocumentedSignature, TencentSms.Signature(SecretKey, "2019-02-25", "cvm",
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"));
    }

    [Theory]
    [InlineData("InternalError.Timeout", SmsFailure.Unavailable)]
    [InlineData("InternalError.SendAndRecvFail", SmsFailure.Unavailable)]
    [InlineData("RequestLimitExceeded", SmsFailure.Unavailable)]
    [InlineData("AuthFailure.SignatureExpire", SmsFailure.Unavailable)]
    [InlineData("AuthFailure.SignatureFailure", SmsFailure.Refused)]
    [InlineData("AuthFailure.SecretIdNotFound", SmsFailure.Refused)]
    [InlineData("FailedOperation.TemplateIncorrectOrUnapproved", SmsFailure.Refused)]
    [InlineData("FailedOperation.SignatureIncorrectOrUnapproved", SmsFailure.Refused)]
    [InlineData("FailedOperation.InsufficientBalanceInSmsPackage", SmsFailure.Refused)]
    [InlineData("UnauthorizedOperation.SmsSdkAppIdVerifyFail", SmsFailure.Refused)]
    [InlineData("InvalidParameterValue.TemplateParameterFormatError", SmsFailure.Refused)]
    [InlineData("LimitExceeded.AppDailyLimit", SmsFailure.Refused)]
    [InlineData("FailedOperation.PhoneNumberInBlacklist", SmsFailure.PhoneRejected)]
    [InlineData("InvalidParameterValue.IncorrectPhoneNumber", SmsFailure.PhoneRejected)]
    [InlineData("LimitExceeded.PhoneNumberThirtySecondLimit", SmsFailure.PhoneRateLimited)]
    [InlineData("LimitExceeded.PhoneNumberOneHourLimit", SmsFailure.PhoneRateLimited)]
    [InlineData("SomethingNew.NeverSeen", SmsFailure.Refused)]
    public void Provider_error_codes_map_to_retry_or_give_up(string code, SmsFailure kind)
    {
        Assert.Equal(kind, TencentSmsSender.Classify(code, "").Kind);
    }

    [Fact]
    public void The_request_body_fills_the_template_with_the_code_and_its_minutes()
    {
        var body = TencentSmsSender.RequestBody(new TencentSmsOptions { SdkAppId = "1400000001", SignName = "DMH", TemplateId = "42" }, "13800138000", "012345", 300);
        Assert.Equal("""{"PhoneNumberSet":["\u002B8613800138000"],"SmsSdkAppId":"1400000001","SignName":"DMH","TemplateId":"42","TemplateParamSet":["012345","5"]}""",
            Encoding.UTF8.GetString(body));
    }
}
