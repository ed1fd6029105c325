using System.Net;
using System.Security.Cryptography;
using System.Text;
using Dmh.IntegrationTests.Infrastructure;

namespace Dmh.IntegrationTests.Foundation;

/// <summary>The served front ends carry a CSP that their build passes, no-framing and referrer headers; HSTS on https.</summary>
public sealed class SecurityHeadersTests : IAsyncLifetime
{
    private const string InlineScript = "\n      window.__dmhPrefetch = 1\n    ";
    private readonly string _dist = Path.Combine(Path.GetTempPath(), "dmh-dist-" + Guid.NewGuid().ToString("N"));
    private TestDatabase _db = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(_dist, "assets"));
        await File.WriteAllTextAsync(Path.Combine(_dist, "index.html"),
            $"<html><head><script>{InlineScript}</script><script type=\"module\" src=\"/h5/assets/app-1a2b.js\"></script></head><body>报名</body></html>");
        await File.WriteAllTextAsync(Path.Combine(_dist, "assets", "app-1a2b.js"), "console.log('app')");
        _db = await TestDatabase.CreateAsync();
    }

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        Directory.Delete(_dist, recursive: true);
    }

    private ServiceFactory<Dmh.Ingress.EntryPoint> Factory(Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Frontends:AdminDist"] = _dist,
            ["Frontends:H5Dist"] = _dist,
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), settings);
    }

    private static Dictionary<string, string> Directives(HttpResponseMessage response)
    {
        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        return csp.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(d => d.Split(' ')[0], d => d, StringComparer.Ordinal);
    }

    [Theory]
    [InlineData("/admin/")]
    [InlineData("/h5/")]
    [InlineData("/h5/assets/app-1a2b.js")]
    public async Task Front_end_responses_carry_csp_no_framing_referrer_and_nosniff(string path)
    {
        await using var factory = Factory();
        using var client = factory.CreateClient();
        var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var csp = Directives(response);
        Assert.Equal("default-src 'self'", csp["default-src"]);
        Assert.StartsWith("script-src 'self' ", csp["script-src"], StringComparison.Ordinal);
        Assert.DoesNotContain("'unsafe-inline'", csp["script-src"], StringComparison.Ordinal);
        Assert.StartsWith("img-src 'self' data: blob:", csp["img-src"], StringComparison.Ordinal);
        Assert.Equal("frame-ancestors 'none'", csp["frame-ancestors"]);
        Assert.Equal("object-src 'none'", csp["object-src"]);
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("strict-origin-when-cross-origin", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task Csp_allows_the_inline_scripts_of_the_build_by_hash_and_configured_origins_only()
    {
        await using var factory = Factory(new() { ["Frontends:ScriptSources:0"] = "https://res.wx.qq.com" });
        using var client = factory.CreateClient();
        var hash = "'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(InlineScript))) + "'";

        var admin = Directives(await client.GetAsync("/admin/"))["script-src"];
        Assert.Equal($"script-src 'self' {hash} https://res.wx.qq.com", admin);
        // Ajv (the H5 form validator) compiles schemas to functions; the simulator is not configured here.
        var h5 = Directives(await client.GetAsync("/h5/"))["script-src"];
        Assert.Equal($"script-src 'self' {hash} https://res.wx.qq.com 'unsafe-eval'", h5);
        Assert.Equal("connect-src 'self'", Directives(await client.GetAsync("/h5/"))["connect-src"]);
        // Neither app loads images from elsewhere (the H5 build drops uni-h5's CDN shadow images).
        Assert.Equal("img-src 'self' data: blob:", Directives(await client.GetAsync("/h5/"))["img-src"]);
        Assert.Equal("img-src 'self' data: blob:", Directives(await client.GetAsync("/admin/"))["img-src"]);
    }

    [Fact]
    public async Task H5_csp_allows_the_simulator_when_it_stands_in_for_wechat()
    {
        await using var factory = Factory(new()
        {
            ["WechatPay:BaseUrl"] = "http://127.0.0.1:5090",
            ["WechatPay:PublicKeyId"] = "PUB_KEY_ID_SIM0000000000000000000000000",
        });
        using var client = factory.CreateClient();
        var h5 = Directives(await client.GetAsync("/h5/"));
        Assert.Contains(" http://127.0.0.1:5090", h5["script-src"], StringComparison.Ordinal);
        Assert.Equal("connect-src 'self' http://127.0.0.1:5090", h5["connect-src"]);
        Assert.DoesNotContain("5090", Directives(await client.GetAsync("/admin/"))["script-src"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hsts_is_sent_on_https_and_through_a_known_proxy_that_says_https_only()
    {
        await using var factory = Factory(new() { ["ForwardedHeaders:KnownProxies:0"] = "10.0.0.5" });
        await using var app = factory.WithTestConnection();

        using var https = app.CreateClient(new() { BaseAddress = new Uri("https://dmh.example.com") });
        Assert.Contains("max-age=", Assert.Single((await https.GetAsync("/h5/")).Headers.GetValues("Strict-Transport-Security")), StringComparison.Ordinal);

        using var http = app.CreateClient(new() { BaseAddress = new Uri("http://dmh.example.com") });
        Assert.False((await http.GetAsync("/h5/")).Headers.Contains("Strict-Transport-Security"));

        async Task<bool> HstsAsync(string peer)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/h5/").From(peer);
            request.Headers.Add("X-Forwarded-Proto", "https");
            request.Headers.Add("X-Forwarded-For", "198.51.100.1");
            return (await http.SendAsync(request)).Headers.Contains("Strict-Transport-Security");
        }

        Assert.True(await HstsAsync("10.0.0.5"));
        Assert.False(await HstsAsync("203.0.113.1"));
    }
}
