using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dmh.IntegrationTests.Infrastructure;

namespace Dmh.IntegrationTests.Admins;

/// <summary>Signs a test client in as the seeded admin (or another account).</summary>
public static class AdminLogin
{
    public static async Task<HttpClient> SignedInAsync(HttpClient client, string username = "admin", string password = TestKeys.AdminPassword)
    {
        var login = await client.PostAsJsonAsync("/api/v1/auth/admin/login", new { username, password });
        login.EnsureSuccessStatusCode();
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
