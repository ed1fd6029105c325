namespace Dmh.TestSupport;

/// <summary>Fixed RSA keys for tests only (never used outside tests; real keys come from .dmh/keys or the deployment).</summary>
public static class WechatPayTestKeys
{
    public const string MerchantPrivateKey = """
-----BEGIN PRIVATE KEY-----
MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQCodTF8lrs8A6CX
frhpL2X8FfJwFroEsClr1wWZJ8VTTjfYAKIedJ3p/At1Ea6StWL58Dyg6Xg1PB0g
opzD3HevyAiEo6K1rIpRwZsUwLXlnpXNGtrjtiiSzg9LDotIxk9Vml+DUR0SIFWf
hxXAvYKrilMj+X+zCkkIAhH9kGdEJKFilv+FQ9tstx7GPsJ7tiCuPtPamZUGg96q
5XfHELxb55frfG01sL+F5DpGaPEvAB44ykneOVAvAzO5b55hXNqKzfY4QZU/PFhR
6knDEpfyJrVfVCtyWddt8BUL4zVB6DhvE46DOS5yC5vM2O4rSbAUOKhYLd/n+AXa
A++3+A5fAgMBAAECggEAANaEZoBBciz6cYZ52FwZ/8UELbaPOlK+AgFRz8841g8/
i92E8O3Xk0BjtjNeUPCCC4g8ZPiEVo9z/aORcA/6sG8oS7CcsJapIXr7EIFc5kWB
rUGC8TsIvKI1xUPPQY9q+ZwI+Zg/ssViZ6a+XvUSX1QS0cz966ATeOy5ti8vtFEQ
QGPCqkYcUoRuHkknR7TqBEpoB3qhbMgkbHvERF+XL1TqenUvkMOC+kSBnAv3RbvF
jvFyXcx0xbRdQeUQHYTU65k6evHQrBqEugjioUPLndbKYbf+Eej+aGqENNv55z48
Yn4bqWZxPcTjDpr6Qmm54lPNjKER0HgX9ZuFVqY1IQKBgQDnpWJkkU1tALK5KK5N
778kHEBZgqCUjkqlaLUrVDprxn3BRDXiuuS4R2NXtquBsUFoX2fdN6TsJcoSONWa
dzo48SV2hOwnhTQvnHaNhr2wGo+INc+aqrCuyULg5GSmCRtJBznple6DCbsTSltQ
6m0V1ySbhPRVyjMOLih4deQzpwKBgQC6KyKAOgc9PeFYfSeRtjeYre6FbXE5eJA6
VnTQQ9UXUczutBqMFwGhVOV/LrL575NKfYDOnhS6Sks423EsSsQNoWTnOJlDYrdo
qsNPv+yOm5cAyWuaR5xYOSc3yR4oLbKHLVpO7sfPXThTgnanJ76HWZgSxJqQwr/r
V3SjGZmGiQKBgQC0D/PG1sfHplZG5Z9wR59ds3Q13/tw3paZsyW405VB954DIEF+
x+ZIdH19TipM+vsr5ZV3+OwDAHDt7y3jDzC72H9VfIeRRNLG+6mP46AJhuvxZlrF
EE+c3idVZ1PxWHzULIDQ2NH5HBRGL3OCF2fKJV14YkYHddBwAmNFF+bWWwKBgQCr
JDIwPKghBXzeUxeIHUHYyrRF1olKsumrp4T1XBZNvLYvDkSFWjT2ccwT8gM4PqRh
yyQZTTty0g96skjE1eqLOT5ATUifqOVAhBLOgnnd02yqnX+csY4pkEjcQLfHadL/
75Jgk6P9ng3Ev1+CZMgDNzrUrgYFY/L4T0p7EXKQOQKBgQCvMs9YnoxYL+A1ontL
vvYkQo/k75XSWA3mrLxe6wSkhrpaGMNhrkxKa3ZZbe7odb1czoswazy4G6E8b9aH
z0jiltZFrYnLlKpDhrMhMew/aIpzxX9egYEAVcHpSdJawI7lELjAa8NUQ50oCQQK
EpTY4JEW51BvVzm0WZnRmAeJrA==
-----END PRIVATE KEY-----
""";

    public const string MerchantPublicKey = """
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqHUxfJa7PAOgl364aS9l
/BXycBa6BLApa9cFmSfFU0432ACiHnSd6fwLdRGukrVi+fA8oOl4NTwdIKKcw9x3
r8gIhKOitayKUcGbFMC15Z6VzRra47Yoks4PSw6LSMZPVZpfg1EdEiBVn4cVwL2C
q4pTI/l/swpJCAIR/ZBnRCShYpb/hUPbbLcexj7Ce7Ygrj7T2pmVBoPequV3xxC8
W+eX63xtNbC/heQ6RmjxLwAeOMpJ3jlQLwMzuW+eYVzais32OEGVPzxYUepJwxKX
8ia1X1QrclnXbfAVC+M1Qeg4bxOOgzkucgubzNjuK0mwFDioWC3f5/gF2gPvt/gO
XwIDAQAB
-----END PUBLIC KEY-----
""";

    /// <summary>Stands in for WeChat Pay's own key in unit tests.</summary>
    public const string PlatformPrivateKey = """
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDGN7l56IYrZ6lC
ZFwEQdnWhxmPpXqJmWbh+SEp3gfrUXQhtW/eMfVxGA+lSNBtcS8nwTkQm7mBsZCI
Eo4BFme1Enb7t/uAehmwxkZfedKhdf4aP2lTInJV/QadWXk2yysela3XwKHXSL8A
0LQPUIuebLAcWMxQp+we/yNbzQe6/nTAzlJwgnxtwbfmpOTKWsEY0N4XQjtFILsr
hlRugF3RNP33O/BjDdCzUZ7WyopqoSc1MyN93h0Xa9FAU0YPmGSbZEeS3cf9tMk7
oKLHKefUmiGtNAsVXWFyZWydR2qWHCg01p7aw+4GzBKZ+CQyS7LwzJFCy/y2bVQJ
MJXmLfb5AgMBAAECggEAChNnU9t2ZYKwk4nFNSixRXLK4XbKkK/J72rx7P5Gtgcn
EXcW+4sb1D7CPddClAuct2c+qrnVv1Jau9YAnqzIQwewIWnH6K8cOvSLO3t2ceNs
8iHezV1rBTS2Vz2G+Dpx4809P+JAf9BoeCbDvmMMY9ZXyesYILH2gllbD2Wv0skZ
VLdG3YO4EDTD0Bik/Op6H0qo7iou91FogVrhuZ5fNbFq+Vv2x0cuRtFFTiBaHzPb
FvmMZXYEH93k2n8eJkdAuNx8bDfMHlJWG8YHbJKhoUs7tsfYsfJasv1f6VWxU1FD
U9Sod6oC3Bk/D1T32tylNxe9fzkholAlgt8QU1GDMQKBgQDptSXgbGTPU3lQa9wF
tSE8d5CvZpU3J7bHRERQSnVhrlUD4+wcalu3vpj0pGBwHP1n6ZOOIoL0qmwUMlXT
JwO9AziAwjEa8+ZtBVR62Kic305PIDnoVAtKmmIq8e2cdgZCOD4Ou4VmxBNtqeUM
wYYjD3zAM1FXYx+h9lHBqtXtKQKBgQDZH/S/EcJSDnizLsm/qIBHqVObbg1NdqZ9
0fYT0TJGi9D9IzbEEyIw7ogbxblg1VSmsGyKEcsOnWQK++oXhNB6hBa81qHfX1Gq
RMqb01YF48bBP/bJBoj+VSPHeqRmX7602L07zsn9qTSQagQckskIiZsoCtlSBRoC
86zV818lUQKBgQCpu5tXo8GPZbOMudkg+Ay8aqXVDa6/UQOJM0Zd/cXEfKVX3vfD
J2eXSkCyJJO5uQQ9rMEykFQFt6QpAumcIhCv/J/Tu7WIOq0WbrGNSr8it3ebNe94
kVlmBDvZrr0ATiN7gndnob9gBHWLxsEIg6CU5BGZUWv5CI+XxFpaSmV2CQKBgEGn
aRFxpEm9uH+uETFUGV4R9IcWUw1uaE+5cmhxpHsyggJZaJEHnBohtqR3OGPwfgVd
aaSiVr1XmE29+P4dmhDB6kI1wILTxtTusjlGQUfMpWgAGHaW9Eu7oPMLwbR3FSqI
M0hnciqyxIM6m32sYP+k5HbKOQaVJlVoK4YSbl3RAoGASCZd98Hm8E3rQV9sWr1o
Xuf3NSNCIL5zKxfXKcT0MXW+HNtJiJKn4zmFI4AM2VR/NIYVNjbYKeuC2dHuKD7U
nxMviuEonvdih7COAReJApjDy+WA8unvZKTMz4wYl3zeX/M20XjwMxLdAdkfhJZE
UQ+Ynk5L0XN4U0dSN3OTKHo=
-----END PRIVATE KEY-----
""";

    public const string PlatformPublicKey = """
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxje5eeiGK2epQmRcBEHZ
1ocZj6V6iZlm4fkhKd4H61F0IbVv3jH1cRgPpUjQbXEvJ8E5EJu5gbGQiBKOARZn
tRJ2+7f7gHoZsMZGX3nSoXX+Gj9pUyJyVf0GnVl5NssrHpWt18Ch10i/ANC0D1CL
nmywHFjMUKfsHv8jW80Huv50wM5ScIJ8bcG35qTkylrBGNDeF0I7RSC7K4ZUboBd
0TT99zvwYw3Qs1Ge1sqKaqEnNTMjfd4dF2vRQFNGD5hkm2RHkt3H/bTJO6Cixynn
1JohrTQLFV1hcmVsnUdqlhwoNNae2sPuBswSmfgkMkuy8MyRQsv8tm1UCTCV5i32
+QIDAQAB
-----END PUBLIC KEY-----
""";

    public const string ApiV3Key = "0123456789abcdef0123456789abcdef";

    /// <summary>The simulator's merchant (scripts/services.conf): WeChat's sample ids.</summary>
    public static string AppId => DefaultSettings()["WechatPay:AppId"]!;

    public static string MchId => DefaultSettings()["WechatPay:MchId"]!;

    public const string MerchantSerialNo = "3775B6A45ACD588826D15E583A95F5DD4B2A2B11";
    public const string PublicKeyId = "PUB_KEY_ID_0114232134912410000000000000";
    public const string AppSecret = "test-app-secret";

    private static readonly Lazy<string> Directory = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), "dmh-test-wechatpay-keys");
        System.IO.Directory.CreateDirectory(dir);
        WriteIfChanged(Path.Combine(dir, "apiclient_key.pem"), MerchantPrivateKey);
        WriteIfChanged(Path.Combine(dir, "apiclient_public_key.pem"), MerchantPublicKey);
        WriteIfChanged(Path.Combine(dir, "wechatpay_public_key.pem"), PlatformPublicKey);
        return dir;
    });

    public static string KeyDirectory => Directory.Value;

    /// <summary>
    /// WechatPay settings every hosted service gets by default (a valid configuration that is never called);
    /// tests that talk to the simulator override them.
    /// </summary>
    public static Dictionary<string, string?> DefaultSettings() => ServiceSettings.Section("wechatpay", new Dictionary<string, string>
    {
        ["sim"] = "http://127.0.0.1:1",
        ["ingress"] = "http://127.0.0.1:1",
        ["apiV3Key"] = ApiV3Key,
        ["merchantSerialNo"] = MerchantSerialNo,
        ["merchantKeys"] = KeyDirectory,
        ["simKeys"] = KeyDirectory,
        ["simPublicKeyId"] = PublicKeyId,
        ["appSecret"] = AppSecret,
    });

    private static void WriteIfChanged(string path, string content)
    {
        // Several test processes may run at once: write to a unique temp file, then move it in place.
        if (File.Exists(path) && File.ReadAllText(path) == content)
        {
            return;
        }

        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temp, content);
        File.Move(temp, path, overwrite: true);
    }
}
