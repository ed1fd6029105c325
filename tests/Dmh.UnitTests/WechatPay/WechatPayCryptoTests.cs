using System.Security.Cryptography;
using System.Text;
using Dmh.WechatPay;

namespace Dmh.UnitTests.WechatPay;

/// <summary>Byte-level checks against docs/wechatpay-v3.md; expected signatures were made with openssl and the test key.</summary>
public sealed class WechatPayCryptoTests
{
    private const string Nonce = "593BEC0C930BF1AFEB40B4A08C8FB242";

    private static RSA Merchant()
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(WechatPayTestKeys.MerchantPrivateKey);
        return rsa;
    }

    [Fact]
    public void Post_message_is_method_path_timestamp_nonce_body_each_ending_in_LF()
    {
        var message = WechatPayCrypto.RequestMessage("POST", "/v3/pay/transactions/jsapi", "1700000000", Nonce,
            Encoding.UTF8.GetBytes("""{"appid":"wx1","mchid":"1900000001"}"""));
        Assert.Equal("POST\n/v3/pay/transactions/jsapi\n1700000000\n" + Nonce + "\n{\"appid\":\"wx1\",\"mchid\":\"1900000001\"}\n", Encoding.UTF8.GetString(message));
    }

    [Fact]
    public void Get_message_has_an_empty_body_line_still_terminated()
    {
        var message = WechatPayCrypto.RequestMessage("GET", "/v3/certificates", "1700000000", Nonce, []);
        Assert.Equal("GET\n/v3/certificates\n1700000000\n" + Nonce + "\n\n", Encoding.UTF8.GetString(message));
    }

    [Fact]
    public void Request_signatures_match_openssl_byte_for_byte()
    {
        using var key = Merchant();
        var post = WechatPayCrypto.RequestMessage("POST", "/v3/pay/transactions/jsapi", "1700000000", Nonce,
            Encoding.UTF8.GetBytes("""{"appid":"wx1","mchid":"1900000001"}"""));
        var get = WechatPayCrypto.RequestMessage("GET", "/v3/certificates", "1700000000", Nonce, []);

        Assert.Equal("EHYPlhTTG32mnHwxUTmujh0oH+CShKfwC7xh7hROAfT6wgSWYZW3kZMhSdvNYORN6s6Zp7BqVcnhgPy24VloeAvz6nR56C9mGfLDIJAailNxLrQTcL+gCsFtn4leymPOj0pGY7fVemVWmo3/S5WazgSXZezg+dNE2sKqlUYNoLyYNBdT9yxe7NKmYGpNCmgq89uRMN2TTsiARMxU+N5yq1ccFwG4TgUZiF/znJWPknPhSM/iNOKmwt32PgsEcVMn3LJ8RQQxSnPBlCYyK73xAyiZLXuII/vG5Rd2D2ZyQVbV8SrzfcRG5i4104FiLaoaA+Ub1w/i9HChOqng1XEWNg==",
            WechatPayCrypto.Sign(key, post));
        Assert.Equal("FLf1mbcM69R1WDOkHw8EPFG50u0eTi9LziqNulif1tv6MQsoaOEfc8OLIZJZ/yFUuqy/vocGI3nWN+XbWsRC4wszZrSTFQWJtgV3oxjGr/JtTVVoI5mClP2THjZWIfj4TWXnivbZcudFQmV68gUppiM2L64wcPaZpEP0SF8JawEo1jTaIDA1HVvWa1ncC2ob5A6tq7LtNnv+zz9L1qClIXuMXpmSbiBIxtGsjo6oKKxNUsJm9Xe8q6OI/tBp3V0z4Irec0K/Ic2yRXVkbBow6JaKu/3uRYmXcJloF1gX9rFi+56SvvF6EXCrf9vyU8sjujNY6WXYkWeYlmyk8Hp9sQ==",
            WechatPayCrypto.Sign(key, get));
    }

    [Fact]
    public void Authorization_header_has_the_documented_format()
    {
        Assert.Equal(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1900000001\",nonce_str=\"" + Nonce + "\",signature=\"c2ln\",timestamp=\"1700000000\",serial_no=\"ABC123\"",
            WechatPayCrypto.Authorization("1900000001", Nonce, "c2ln", "1700000000", "ABC123"));
    }

    [Fact]
    public async Task Signer_sends_exactly_the_bytes_it_signed()
    {
        using var merchant = Merchant();
        var options = Microsoft.Extensions.Options.Options.Create(new WechatPayOptions { MchId = "1900000001", MerchantSerialNo = "ABC123", AppId = "wx1" });
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1700000000));
        var signer = new WechatPaySigner(new WechatPayKeys(merchant, null, null), options, time);
        var body = Encoding.UTF8.GetBytes("""{"description":"报名费"}""");

        using var request = signer.CreateRequest(HttpMethod.Post, "/v3/pay/transactions/h5", body);

        var header = request.Headers.GetValues("Authorization").Single();
        var fields = System.Text.RegularExpressions.Regex.Matches(header, "(\\w+)=\"([^\"]*)\"").ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        Assert.StartsWith("WECHATPAY2-SHA256-RSA2048 mchid=\"1900000001\",nonce_str=\"", header, StringComparison.Ordinal);
        Assert.Equal("1700000000", fields["timestamp"]);
        Assert.Equal("ABC123", fields["serial_no"]);
        var sent = await request.Content!.ReadAsByteArrayAsync();
        Assert.Equal(body, sent);
        Assert.Equal("application/json", request.Content.Headers.ContentType!.MediaType);
        Assert.True(WechatPayCrypto.Verify(merchant,
            WechatPayCrypto.RequestMessage("POST", "/v3/pay/transactions/h5", fields["timestamp"], fields["nonce_str"], sent), fields["signature"]));
    }

    [Fact]
    public void PaySign_layout_and_signature_match_openssl()
    {
        using var key = Merchant();
        var message = WechatPayCrypto.PaySignMessage("wx1", "1700000000", Nonce, "prepay_id=wx201410272009395522657a690389285100");
        Assert.Equal("wx1\n1700000000\n" + Nonce + "\nprepay_id=wx201410272009395522657a690389285100\n", Encoding.UTF8.GetString(message));
        Assert.Equal("FncwUIELVr3iiKoV5Trrz40gXkdh/U9BMdGKoDte93Nu4sZl+RPbNHENdxtIq3jrK+rohc6zt0GBSFjxnHyv0vMBuOJYAdeTNOGJMnG2T6jcpPImeIfF94hw8eg3a5DXlYEDyBqQgOR1VnKBs1jiSEl1J7JeNMLcmg7xM/KFAbD7MiIwgm8EhyOZpUYUvRXT02sMwtM2FHNZXctLkJARK6qtrj5BdhlDBS0lC4Mbz8I5wcR/vNlfcYF9KGP+/wq43C3ehGUpihGRU7qUlR7eH7TNFTO3/aDRfVO0F37NKJhAUF7BSn5skjturliuIig2JTzRmJp2ZLvMyoHUovPpyQ==",
            WechatPayCrypto.Sign(key, message));
    }

    [Fact]
    public void Aes_gcm_decrypts_a_known_vector()
    {
        var plain = WechatPayCrypto.Decrypt(Encoding.UTF8.GetBytes(WechatPayTestKeys.ApiV3Key), "abcdef012345", "transaction",
            "+tSNe9jYMjLZPNCTpMy0myvgjjyR2ZT5e6YqxZwXLxO7hbTD1tpy8MlJ9hvTlsrrUlAXEVgXeKXUWYVzpZBj");
        Assert.Equal("""{"out_trade_no":"D1A1","amount":{"total":9900}}""", Encoding.UTF8.GetString(plain));
    }

    [Fact]
    public void Aes_gcm_accepts_empty_associated_data()
    {
        var key = Encoding.UTF8.GetBytes(WechatPayTestKeys.ApiV3Key);
        Assert.Equal("""{"out_trade_no":"D1A1"}""", Encoding.UTF8.GetString(
            WechatPayCrypto.Decrypt(key, "abcdef012345", "", "+tSNe9jYMjLZPNCTpMy0myvgjjyR2cWLKlyyp01enm38hPsMWV6Q")));
        Assert.Equal("""{"out_trade_no":"D1A1"}""", Encoding.UTF8.GetString(
            WechatPayCrypto.Decrypt(key, "abcdef012345", null, "+tSNe9jYMjLZPNCTpMy0myvgjjyR2cWLKlyyp01enm38hPsMWV6Q")));
    }

    [Fact]
    public void Aes_gcm_refuses_a_wrong_associated_data()
    {
        Assert.ThrowsAny<CryptographicException>(() => WechatPayCrypto.Decrypt(Encoding.UTF8.GetBytes(WechatPayTestKeys.ApiV3Key),
            "abcdef012345", "refund", "+tSNe9jYMjLZPNCTpMy0myvgjjyR2ZT5e6YqxZwXLxO7hbTD1tpy8MlJ9hvTlsrrUlAXEVgXeKXUWYVzpZBj"));
    }
}
