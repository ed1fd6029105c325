using System.IdentityModel.Tokens.Jwt;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Dmh.IntegrationTests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace Dmh.IntegrationTests.Admins;

/// <summary>Admin session tokens: the signing algorithm is pinned, and a password change ends every earlier session.</summary>
public sealed class AdminSessionTests : IAsyncLifetime
{
    // Long enough that HS384 and HS512 can be computed with it too, as with any key of 64+ bytes.
    private static readonly string JwtKey = Convert.ToBase64String(Enumerable.Range(1, 64).Select(i => (byte)i).ToArray());
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _factory = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Admin:BcryptWorkFactor"] = "4",
            ["Security:JwtKey"] = JwtKey,
        });
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Theory]
    [InlineData(SecurityAlgorithms.HmacSha384)]
    [InlineData(SecurityAlgorithms.HmacSha512)]
    public async Task A_token_signed_with_another_algorithm_is_refused(string algorithm)
    {
        using var client = _factory.CreateClient();
        var claims = await AdminClaimsAsync(client);

        Assert.Equal(HttpStatusCode.OK, await MeAsync(client, Sign(claims, SecurityAlgorithms.HmacSha256)));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(client, Sign(claims, algorithm)));
    }

    [Fact]
    public async Task An_unsigned_token_is_refused()
    {
        using var client = _factory.CreateClient();
        var claims = await AdminClaimsAsync(client);
        var payload = new JwtPayload("dmh", "dmh", claims, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddHours(1));
        var unsigned = Base64Url("""{"alg":"none","typ":"JWT"}""") + "." + Base64Url(payload.SerializeToJson()) + ".";

        Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(client, unsigned));
    }

    [Fact]
    public async Task Changing_the_password_ends_every_earlier_session_of_the_account()
    {
        using var admin = await SignedInAsync("admin", TestKeys.AdminPassword);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/admin-users", new { username = "op1", password = "op-pass-0001", role = "operator" })).StatusCode);
        using var laptop = await SignedInAsync("op1", "op-pass-0001");
        using var phone = await SignedInAsync("op1", "op-pass-0001");

        var changed = await laptop.PutAsJsonAsync("/api/v1/auth/admin/password", new { currentPassword = "op-pass-0001", newPassword = "op-pass-0002" });
        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await phone.GetAsync("/api/v1/auth/admin/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await phone.GetAsync("/api/v1/orders")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await laptop.GetAsync("/api/v1/auth/admin/me")).StatusCode);
        using var again = await SignedInAsync("op1", "op-pass-0002");
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("/api/v1/auth/admin/me")).StatusCode);
        // Other accounts keep their sessions.
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/auth/admin/me")).StatusCode);
    }

    private async Task<List<Claim>> AdminClaimsAsync(HttpClient client)
    {
        // The claims of a real session of the seeded admin, so only the algorithm differs.
        var login = await client.PostAsJsonAsync("/api/v1/auth/admin/login", new { username = "admin", password = TestKeys.AdminPassword });
        login.EnsureSuccessStatusCode();
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        var registered = new HashSet<string> { "iss", "aud", "exp", "nbf", "iat" };
        return new JwtSecurityTokenHandler().ReadJwtToken(token).Claims.Where(c => !registered.Contains(c.Type)).ToList();
    }

    private static string Sign(IEnumerable<Claim> claims, string algorithm)
    {
        var key = new SymmetricSecurityKey(Convert.FromBase64String(JwtKey));
        var jwt = new JwtSecurityToken("dmh", "dmh", claims, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddHours(1), new SigningCredentials(key, algorithm));
        return new JwtSecurityTokenHandler().WriteToken(jwt);
    }

    private static async Task<HttpStatusCode> MeAsync(HttpClient client, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/admin/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (await client.SendAsync(request)).StatusCode;
    }

    private async Task<HttpClient> SignedInAsync(string username, string password)
    {
        var client = _factory.CreateClient();
        return await AdminLogin.SignedInAsync(client, username, password);
    }

    private static string Base64Url(string json) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
