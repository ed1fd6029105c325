using System.Net;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Dmh.IntegrationTests.WechatDomain;

/// <summary>WeChat's domain-verification files (<c>MP_verify_*.txt</c>) served at the site root from configuration.</summary>
public sealed class WechatDomainFileTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private ServiceFactory<Dmh.Ingress.EntryPoint> Factory(params (string Name, string Content)[] files)
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i < files.Length; i++)
        {
            settings[$"WechatDomain:VerifyFiles:{i}:Name"] = files[i].Name;
            settings[$"WechatDomain:VerifyFiles:{i}:Content"] = files[i].Content;
        }

        return new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), settings);
    }

    [Fact]
    public async Task Configured_verification_files_are_served_at_the_site_root_as_plain_text()
    {
        await using var factory = Factory(("MP_verify_AbC123dEf456GhI7.txt", "AbC123dEf456GhI7"), ("MP_verify_Second2.txt", "Second2"));
        using var client = factory.CreateClient();

        var first = await client.GetAsync("/MP_verify_AbC123dEf456GhI7.txt");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("text/plain", first.Content.Headers.ContentType?.MediaType);
        Assert.Equal("AbC123dEf456GhI7", await first.Content.ReadAsStringAsync());
        Assert.Equal("Second2", await client.GetStringAsync("/MP_verify_Second2.txt"));
    }

    [Theory]
    [InlineData("/MP_verify_Unknown1.txt")]
    [InlineData("/MP_verify_AbC123dEf456GhI7.txt%2F..%2Fappsettings.json")]
    [InlineData("/..%2Fappsettings.json")]
    [InlineData("/MP_verify_..%2F..%2Fappsettings.json")]
    public async Task Other_names_and_traversal_attempts_are_not_found(string path)
    {
        await using var factory = Factory(("MP_verify_AbC123dEf456GhI7.txt", "AbC123dEf456GhI7"));
        using var client = factory.CreateClient();

        var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("AbC123dEf456GhI7", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_is_served_when_no_file_is_configured()
    {
        await using var factory = Factory();
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/MP_verify_AbC123dEf456GhI7.txt")).StatusCode);
    }

    [Theory]
    [InlineData("../appsettings.json", "abc")]
    [InlineData("MP_verify_abc/../../etc/passwd.txt", "abc")]
    [InlineData("MP_verify_abc.txt.html", "abc")]
    [InlineData("MP_verify_.txt", "abc")]
    [InlineData("index.html", "abc")]
    [InlineData("MP_verify_abc.txt", "<script>alert(1)</script>")]
    [InlineData("MP_verify_abc.txt", "abc\r\nSet-Cookie: x=1")]
    [InlineData("MP_verify_abc.txt", "")]
    public async Task Ingress_refuses_to_start_with_a_name_or_content_outside_WeChats_pattern(string name, string content)
    {
        await using var factory = Factory((name, content));
        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());
        Assert.Contains("WechatDomain:VerifyFiles", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingress_refuses_to_start_with_the_same_file_twice()
    {
        await using var factory = Factory(("MP_verify_Same1.txt", "Same1"), ("MP_verify_same1.txt", "Other"));
        Assert.Throws<OptionsValidationException>(() => factory.CreateClient());
    }
}
