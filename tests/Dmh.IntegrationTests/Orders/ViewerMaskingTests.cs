using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;

namespace Dmh.IntegrationTests.Orders;

/// <summary>The viewer role sees masked phones in the order list, detail and CSV export; admin and operator see them whole.</summary>
public sealed class ViewerMaskingTests : IAsyncLifetime
{
    private const string Phone = "13812345678";
    private const string Masked = "138****5678";
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _factory = null!;
    private long _orderId;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?> { ["Admin:BcryptWorkFactor"] = "4" });
        var campaignId = await OrderApiTests.SeedCampaignAsync(_db);
        using var client = _factory.CreateClient();
        var created = await client.PostAsJsonAsync("/api/v1/orders", new { campaignId, phone = Phone, formData = new { name = "王五" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        _orderId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        using var admin = await AdminLogin.SignedInAsync(_factory.CreateClient());
        foreach (var role in new[] { "viewer", "operator" })
        {
            var account = await admin.PostAsJsonAsync("/api/v1/admin-users", new { username = "the-" + role, password = "password-" + role, role });
            Assert.Equal(HttpStatusCode.Created, account.StatusCode);
        }
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task A_viewer_sees_masked_phones_in_the_list_the_detail_and_the_export()
    {
        using var viewer = await AdminLogin.SignedInAsync(_factory.CreateClient(), "the-viewer", "password-viewer");

        var list = await viewer.GetStringAsync("/api/v1/orders");
        Assert.DoesNotContain(Phone, list);
        Assert.Equal(Masked, JsonDocument.Parse(list).RootElement.GetProperty("items")[0].GetProperty("phone").GetString());

        var detail = await viewer.GetStringAsync($"/api/v1/orders/{_orderId}/detail");
        Assert.DoesNotContain(Phone, detail);
        Assert.Equal(Masked, JsonDocument.Parse(detail).RootElement.GetProperty("order").GetProperty("phone").GetString());

        var order = await viewer.GetStringAsync($"/api/v1/orders/{_orderId}");
        Assert.DoesNotContain(Phone, order);
        Assert.Equal(Masked, JsonDocument.Parse(order).RootElement.GetProperty("phone").GetString());

        var csv = Encoding.UTF8.GetString(await viewer.GetByteArrayAsync("/api/v1/orders/export.csv"));
        Assert.DoesNotContain(Phone, csv);
        Assert.Contains(Masked, csv);
    }

    [Theory]
    [InlineData("admin", "admin", TestKeys.AdminPassword)]
    [InlineData("operator", "the-operator", "password-operator")]
    public async Task Admins_and_operators_see_whole_phones(string role, string username, string password)
    {
        using var client = await AdminLogin.SignedInAsync(_factory.CreateClient(), username, password);
        Assert.Equal(role, (await client.GetFromJsonAsync<JsonElement>("/api/v1/auth/admin/me")).GetProperty("role").GetString());

        var list = await client.GetFromJsonAsync<JsonElement>("/api/v1/orders");
        Assert.Equal(Phone, list.GetProperty("items")[0].GetProperty("phone").GetString());
        var detail = await client.GetFromJsonAsync<JsonElement>($"/api/v1/orders/{_orderId}/detail");
        Assert.Equal(Phone, detail.GetProperty("order").GetProperty("phone").GetString());
        Assert.Contains(Phone, Encoding.UTF8.GetString(await client.GetByteArrayAsync("/api/v1/orders/export.csv")));
    }

    [Fact]
    public async Task A_viewer_filters_by_a_whole_phone_number_only()
    {
        using var viewer = await AdminLogin.SignedInAsync(_factory.CreateClient(), "the-viewer", "password-viewer");

        // A prefix search would reveal the hidden digits one at a time.
        var prefix = await viewer.GetAsync("/api/v1/orders?phone=13812");
        Assert.Equal(HttpStatusCode.BadRequest, prefix.StatusCode);
        Assert.Equal("application/problem+json", prefix.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, (await viewer.GetAsync("/api/v1/orders/export.csv?phone=13812")).StatusCode);

        var whole = await viewer.GetFromJsonAsync<JsonElement>($"/api/v1/orders?phone={Phone}");
        Assert.Equal(1, whole.GetProperty("total").GetInt64());
        Assert.Equal(Masked, whole.GetProperty("items")[0].GetProperty("phone").GetString());
    }
}
