using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.Ingress.Orders;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dmh.IntegrationTests.Orders;

/// <summary>
/// Issue 15 H3: an operator's form pattern must not let a registrant stall Ingress (ReDoS), posted over
/// HTTP as an attacker would.
/// </summary>
public sealed class FormPatternAttackTests : IAsyncLifetime
{
    // Backtracking takes exponential time on a run of word characters that ends in a non-match.
    private const string EvilPattern = @"^(\w+\s?)*$";

    // Generous: the old code never answers; the fixed code answers in milliseconds.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _app = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _app = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Admin:BcryptWorkFactor"] = "4",
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    private static object Campaign(string name, object formSchema) => new
    {
        name,
        startTime = DateTimeOffset.UtcNow.AddDays(-1),
        endTime = DateTimeOffset.UtcNow.AddDays(5),
        priceFen = 9900,
        reward = new { type = "fixed", amountFen = 1000 },
        payment = new { description = "报名费" },
        requireSms = false,
        formSchema,
    };

    private async Task<long> PublishCampaignAsync(HttpClient admin, string formSchema)
    {
        var created = await admin.PostAsJsonAsync("/api/v1/campaigns", Campaign("模式攻击", JsonDocument.Parse(formSchema).RootElement));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        (await admin.PostAsync($"/api/v1/campaigns/{id}/publish", null)).EnsureSuccessStatusCode();
        return id;
    }

    private async Task<long> OrderCountAsync(long campaignId)
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM orders WHERE campaign_id = @campaignId", new { campaignId });
    }

    [Fact]
    public async Task A_backtracking_pattern_with_a_body_sized_value_is_refused_at_once_and_Ingress_stays_responsive()
    {
        using var admin = await AdminLogin.SignedInAsync(_app.CreateClient());
        var campaignId = await PublishCampaignAsync(admin, """
            {"type":"object","required":["name"],"properties":{
              "name":{"type":"string","title":"姓名","maxLength":20},
              "nickname":{"type":"string","title":"昵称","pattern":EVIL}}}
            """.Replace("EVIL", JsonSerializer.Serialize(EvilPattern), StringComparison.Ordinal));

        // Just under the body limit, so the pattern (not the size check) is what meets the value.
        var limit = _app.Services.GetRequiredService<IOptions<RateLimitOptions>>().Value.MaxJsonBodyBytes;
        var value = new string('a', limit - 1024) + "!";
        using var registrant = _app.CreateClient();
        registrant.Timeout = Timeout.InfiniteTimeSpan;
        var attack = registrant.PostAsJsonAsync("/api/v1/orders",
            new { campaignId, phone = "13800138000", formData = new { name = "张三", nickname = value } });

        using var other = _app.CreateClient();
        var form = await other.GetAsync($"/api/v1/campaigns/{campaignId}/form").WaitAsync(Bound);
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);

        var response = await attack.WaitAsync(Bound);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal("The format is not valid.", errors.GetProperty("formData.nickname")[0].GetString());
        Assert.Equal(0, await OrderCountAsync(campaignId));
    }

    [Fact]
    public async Task A_value_over_maxLength_is_refused_as_too_long_without_meeting_the_pattern()
    {
        using var admin = await AdminLogin.SignedInAsync(_app.CreateClient());
        var campaignId = await PublishCampaignAsync(admin, """
            {"type":"object","required":["name"],"properties":{
              "name":{"type":"string","title":"姓名","maxLength":20,"pattern":EVIL}}}
            """.Replace("EVIL", JsonSerializer.Serialize(EvilPattern), StringComparison.Ordinal));

        using var registrant = _app.CreateClient();
        registrant.Timeout = Timeout.InfiniteTimeSpan;
        var response = await registrant.PostAsJsonAsync("/api/v1/orders",
            new { campaignId, phone = "13800138000", formData = new { name = new string('a', 40_000) + "!" } }).WaitAsync(Bound);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal(["Too long."], errors.GetProperty("formData.name").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(0, await OrderCountAsync(campaignId));
    }

    [Theory]
    [InlineData(@"^(a+)\1$")]
    [InlineData(@"^(?=.*\d).+$")]
    [InlineData(@"^(?>a+)b$")]
    public async Task Patterns_that_need_backtracking_are_refused_on_save(string pattern)
    {
        using var admin = await AdminLogin.SignedInAsync(_app.CreateClient());
        var response = await admin.PostAsJsonAsync("/api/v1/campaigns",
            Campaign("模式保存", new { type = "object", properties = new { code = new { type = "string", title = "编号", pattern } } }));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("formSchema.properties.code.pattern", out _));
    }
}
