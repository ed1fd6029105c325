using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Dmh.IntegrationTests.Campaigns;

/// <summary>Campaign CRUD, status derivation on a fake clock, schema validation and the public form.</summary>
public sealed class CampaignApiTests : IAsyncLifetime
{
    // The JWT handler checks token lifetimes on the real clock, so the fake clock starts at the real time.
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private readonly FakeTimeProvider _time = new(Now);
    private TestDatabase _db = null!;
    private IAsyncDisposable _factory = null!;
    private WebApplicationFactory<Dmh.Ingress.EntryPoint> _app = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        var factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Admin:BcryptWorkFactor"] = "4",
            ["Public:BaseUrl"] = "https://dmh.example.com",
        });
        _factory = factory;
        _app = factory.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<TimeProvider>(_time)));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
    }

    private static object Body(string name = "春季训练营", long priceFen = 9900, object? reward = null, object? formSchema = null,
        DateTimeOffset? start = null, DateTimeOffset? end = null) => new
        {
            name,
            description = "描述",
            startTime = start ?? Now.AddDays(-1),
            endTime = end ?? Now.AddDays(5),
            priceFen,
            reward = reward ?? new { type = "fixed", amountFen = 1000 },
            payment = new { description = "报名费" },
            requireSms = false,
            formSchema = formSchema ?? JsonDocument.Parse("""
            {"type":"object","required":["name"],"properties":{"name":{"type":"string","title":"姓名","maxLength":20,"x-widget":"text","x-order":1}}}
            """).RootElement,
        };

    [Fact]
    public async Task Admin_creates_reads_updates_publishes_disables_and_deletes_a_campaign()
    {
        using var client = await AdminLogin.SignedInAsync(_app.CreateClient());
        var created = await client.PostAsJsonAsync("/api/v1/campaigns", Body());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var campaign = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = campaign.GetProperty("id").GetInt64();
        Assert.Equal("draft", campaign.GetProperty("status").GetString());
        Assert.Equal(9900, campaign.GetProperty("priceFen").GetInt64());
        Assert.Equal(1000, campaign.GetProperty("reward").GetProperty("amountFen").GetInt64());
        Assert.Equal("报名费", campaign.GetProperty("payment").GetProperty("description").GetString());
        Assert.Equal($"https://dmh.example.com/h5/#/pages/campaign/index?id={id}", campaign.GetProperty("h5Url").GetString());

        await using (var connection = await _db.DataSource.OpenConnectionAsync())
        {
            Assert.Equal(99.00m, await connection.ExecuteScalarAsync<decimal>("SELECT price FROM campaigns WHERE id = @id", new { id }));
        }

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/campaigns/{id}/form")).StatusCode);

        var updated = await client.PutAsJsonAsync($"/api/v1/campaigns/{id}", Body(name: "秋季训练营", reward: new { type = "percentage", basisPoints = 1500 }));
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var u = await updated.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1500, u.GetProperty("reward").GetProperty("basisPoints").GetInt32());

        var published = await client.PostAsync($"/api/v1/campaigns/{id}/publish", null);
        Assert.Equal("active", (await published.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        var form = await _app.CreateClient().GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}/form");
        Assert.Equal("live", form.GetProperty("state").GetString());
        Assert.Equal("秋季训练营", form.GetProperty("name").GetString());
        Assert.Equal("姓名", form.GetProperty("formSchema").GetProperty("properties").GetProperty("name").GetProperty("title").GetString());

        // A published change shows on the public endpoint at once.
        await client.PutAsJsonAsync($"/api/v1/campaigns/{id}", Body(name: "冬季训练营"));
        form = await _app.CreateClient().GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}/form");
        Assert.Equal("冬季训练营", form.GetProperty("name").GetString());

        await client.PostAsync($"/api/v1/campaigns/{id}/disable", null);
        form = await _app.CreateClient().GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}/form");
        Assert.Equal("disabled", form.GetProperty("state").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/campaigns/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/campaigns/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/campaigns/{id}/form")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/v1/campaigns/{id}")).StatusCode);
    }

    [Fact]
    public async Task Status_is_derived_from_the_window_as_the_clock_moves_and_the_list_filters_by_it()
    {
        using var client = await AdminLogin.SignedInAsync(_app.CreateClient());
        var start = _time.GetUtcNow().AddHours(1);
        var created = await client.PostAsJsonAsync("/api/v1/campaigns", Body(name: "时间窗-" + Guid.NewGuid().ToString("N")[..6], start: start, end: start.AddHours(2)));
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        await client.PostAsync($"/api/v1/campaigns/{id}/publish", null);

        async Task<string?> StatusAsync() => (await client.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}")).GetProperty("status").GetString();
        async Task<bool> ListedAsync(string status) => (await client.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns?status={status}&q=时间窗&pageSize=100"))
            .GetProperty("items").EnumerateArray().Any(i => i.GetProperty("id").GetInt64() == id);

        Assert.Equal("scheduled", await StatusAsync());
        Assert.True(await ListedAsync("scheduled"));
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal("active", await StatusAsync());
        Assert.True(await ListedAsync("active"));
        Assert.False(await ListedAsync("scheduled"));
        _time.Advance(TimeSpan.FromHours(2));
        Assert.Equal("ended", await StatusAsync());
        Assert.True(await ListedAsync("ended"));
    }

    [Fact]
    public async Task List_pages_and_searches_by_name()
    {
        using var client = await AdminLogin.SignedInAsync(_app.CreateClient());
        var tag = Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < 3; i++)
        {
            (await client.PostAsJsonAsync("/api/v1/campaigns", Body(name: $"分页{tag}-{i}"))).EnsureSuccessStatusCode();
        }

        var page = await client.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns?q={tag}&page=2&pageSize=2");
        Assert.Equal(3, page.GetProperty("total").GetInt64());
        Assert.Equal(1, page.GetProperty("items").GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/v1/campaigns?pageSize=1000")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/v1/campaigns?status=weird")).StatusCode);
    }

    [Fact]
    public async Task Invalid_schemas_and_rules_are_422_with_field_errors_and_store_nothing()
    {
        using var client = await AdminLogin.SignedInAsync(_app.CreateClient());
        var badSchema = JsonDocument.Parse("""{"type":"object","properties":{"phone":{"type":"string","title":"手机"},"x":{"type":"string","title":"X","pattern":"(["}}}""").RootElement;
        var response = await client.PostAsJsonAsync("/api/v1/campaigns", Body(formSchema: badSchema, reward: new { type = "fixed", amountFen = 10_000 }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("formSchema.properties.phone", out _));
        Assert.True(errors.TryGetProperty("formSchema.properties.x.pattern", out _));
        Assert.True(errors.TryGetProperty("reward.amountFen", out _));

        var missing = await client.PostAsJsonAsync("/api/v1/campaigns", new { description = "no name" });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var malformed = await client.PostAsync("/api/v1/campaigns", new StringContent("{\"name\": ", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);
        var wrongType = await client.PostAsync("/api/v1/campaigns", new StringContent("{\"name\":\"a\",\"priceFen\":\"lots\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);

        await using var connection = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM campaigns WHERE name = '春季训练营' AND price = 99.00 AND reward_rule = 100.00"));
    }

    [Fact]
    public async Task Anonymous_is_401_and_viewer_cannot_write()
    {
        using var anonymous = _app.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/campaigns")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/v1/campaigns", Body())).StatusCode);

        using var admin = await AdminLogin.SignedInAsync(_app.CreateClient());
        var name = "viewer" + Guid.NewGuid().ToString("N")[..6];
        (await admin.PostAsJsonAsync("/api/v1/admin-users", new { username = name, password = "viewer-pass-1", role = "viewer" })).EnsureSuccessStatusCode();
        using var viewer = await AdminLogin.SignedInAsync(_app.CreateClient(), name, "viewer-pass-1");
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/v1/campaigns")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/v1/campaigns", Body())).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync("/api/v1/campaigns/1/publish", null)).StatusCode);
    }
}
