using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Dmh.IntegrationTests.Infrastructure;

namespace Dmh.IntegrationTests.Admins;

/// <summary>Admin sign-in, first-admin seeding, throttling and account management against the real servers.</summary>
public sealed class AdminSignInTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _factory = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _factory = Create();
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task First_admin_is_seeded_once_even_when_several_instances_start()
    {
        await using var second = Create();
        await using var third = Create();
        _ = _factory.CreateClient();
        _ = second.CreateClient();
        _ = third.CreateClient();

        await using var connection = await _db.DataSource.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<(string Username, string Role, string Hash)>(
            "SELECT username, role, password_hash FROM admin_users")).ToList();
        var row = Assert.Single(rows);
        Assert.Equal(("admin", "admin"), (row.Username, row.Role));
        Assert.NotEqual(TestKeys.AdminPassword, row.Hash);
    }

    [Fact]
    public async Task Admin_signs_in_and_reads_me()
    {
        using var client = _factory.CreateClient();
        var login = await LoginAsync(client, "admin", TestKeys.AdminPassword);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var body = await login.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("admin", body.GetProperty("user").GetProperty("role").GetString());

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body.GetProperty("token").GetString());
        var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/auth/admin/me");
        Assert.Equal("admin", me.GetProperty("username").GetString());
    }

    [Fact]
    public async Task Wrong_password_is_401_problem_and_me_without_token_is_401()
    {
        using var client = _factory.CreateClient();
        var login = await LoginAsync(client, "admin", "wrong-password");
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        Assert.Equal("application/problem+json", login.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/auth/admin/me")).StatusCode);
    }

    [Fact]
    public async Task Repeated_failures_for_a_username_from_one_ip_back_off_even_with_the_right_password()
    {
        await using var factory = Create(new() { ["Admin:FailuresBeforeBackoff"] = "3", ["Admin:BackoffBaseSeconds"] = "60" });
        using var client = factory.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(client, "admin", "nope-" + i)).StatusCode);
        }

        var blocked = await LoginAsync(client, "admin", TestKeys.AdminPassword);
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.Equal("application/problem+json", blocked.Content.Headers.ContentType?.MediaType);
        Assert.True(blocked.Headers.RetryAfter is not null);
    }

    [Fact]
    public async Task Repeated_failures_from_one_ip_are_throttled_across_usernames()
    {
        await using var factory = Create(new() { ["Admin:MaxFailuresPerIp"] = "4" });
        using var client = factory.CreateClient();
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(client, "user" + i, "whatever-pw")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await LoginAsync(client, "someone-else", "whatever-pw")).StatusCode);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("{\"username\": 5, \"password\": []}")]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("null")]
    public async Task Malformed_login_bodies_are_400_problems(string body)
    {
        using var client = _factory.CreateClient();
        var response = await client.PostAsync("/api/v1/auth/admin/login", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Admin_creates_lists_and_disables_accounts_and_roles_are_enforced()
    {
        using var admin = await SignedInAsync("admin", TestKeys.AdminPassword);
        var created = await admin.PostAsJsonAsync("/api/v1/admin-users", new { username = "viewer1", password = "viewer-pass-1", role = "viewer" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var viewerId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        var duplicate = await admin.PostAsJsonAsync("/api/v1/admin-users", new { username = "viewer1", password = "viewer-pass-1", role = "viewer" });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        var invalid = await admin.PostAsJsonAsync("/api/v1/admin-users", new { username = "x", password = "short", role = "root" });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await invalid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("username", out _) && errors.TryGetProperty("password", out _) && errors.TryGetProperty("role", out _));

        var list = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin-users");
        Assert.Equal(2, list.GetArrayLength());

        using var viewer = await SignedInAsync("viewer1", "viewer-pass-1");
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/v1/auth/admin/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync("/api/v1/admin-users")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"/api/v1/admin-users/{viewerId}/disable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await viewer.GetAsync("/api/v1/auth/admin/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await viewer.GetAsync("/api/v1/campaigns")).StatusCode);
        using var anonymous = _factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(anonymous, "viewer1", "viewer-pass-1")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/admin-users")).StatusCode);
    }

    [Fact]
    public async Task Admin_changes_own_password()
    {
        using var admin = await SignedInAsync("admin", TestKeys.AdminPassword);
        await admin.PostAsJsonAsync("/api/v1/admin-users", new { username = "op1", password = "op-pass-0001", role = "operator" });
        using var op = await SignedInAsync("op1", "op-pass-0001");

        var wrong = await op.PutAsJsonAsync("/api/v1/auth/admin/password", new { currentPassword = "nope-nope", newPassword = "op-pass-0002" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrong.StatusCode);
        var ok = await op.PutAsJsonAsync("/api/v1/auth/admin/password", new { currentPassword = "op-pass-0001", newPassword = "op-pass-0002" });
        Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);

        using var anonymous = _factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(anonymous, "op1", "op-pass-0001")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(anonymous, "op1", "op-pass-0002")).StatusCode);
    }

    private async Task<HttpClient> SignedInAsync(string username, string password)
    {
        var client = _factory.CreateClient();
        var login = await LoginAsync(client, username, password);
        login.EnsureSuccessStatusCode();
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static Task<HttpResponseMessage> LoginAsync(HttpClient client, string username, string password) =>
        client.PostAsJsonAsync("/api/v1/auth/admin/login", new { username, password });

    private ServiceFactory<Dmh.Ingress.EntryPoint> Create(Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?> { ["Admin:BcryptWorkFactor"] = "4" };
        foreach (var (k, v) in extra ?? [])
        {
            settings[k] = v;
        }

        return new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), settings);
    }
}
