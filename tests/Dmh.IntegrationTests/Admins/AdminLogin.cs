using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dmh.Ingress.Admins;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

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

    /// <summary>
    /// A bearer token of a real admin account with <paramref name="role"/> (created on first use): admin
    /// tokens are checked against admin_users on every request, so a token for a made-up account fails.
    /// </summary>
    public static async Task<string> TokenAsync(IServiceProvider services, string role)
    {
        var store = services.GetRequiredService<AdminStore>();
        var username = "test-" + role;
        var id = await store.CreateAsync(username, TestKeys.AdminPassword, role, CancellationToken.None)
            ?? (await store.FindByUsernameAsync(username, CancellationToken.None))!.Id;
        return services.GetRequiredService<TokenService>().IssueAdmin(id, username, role).Token;
    }
}
