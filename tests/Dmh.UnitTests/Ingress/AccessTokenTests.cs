using System.IdentityModel.Tokens.Jwt;
using Dmh.Ingress.Security;
using Dmh.Platform.Security;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Dmh.UnitTests.Ingress;

public sealed class AccessTokenTests
{
    private static readonly IOptions<SecurityOptions> Options = Microsoft.Extensions.Options.Options.Create(new SecurityOptions
    {
        TokenKey = Convert.ToBase64String(new byte[32]),
        JwtKey = Convert.ToBase64String(Enumerable.Repeat((byte)7, 32).ToArray()),
    });

    [Fact]
    public void An_order_token_opens_its_own_order_only()
    {
        var tokens = new OrderAccessTokens(Options);
        var token = tokens.Issue(42);
        Assert.True(tokens.IsValid(token, 42));
        Assert.False(tokens.IsValid(token, 43));
        Assert.False(tokens.IsValid(tokens.Issue(43), 42));
        Assert.False(tokens.IsValid(token[..^1] + (token[^1] == 'A' ? 'B' : 'A'), 42));
        Assert.False(tokens.IsValid(null, 42));
        Assert.False(tokens.IsValid("", 42));
    }

    [Fact]
    public void Session_tokens_carry_role_and_subject_and_expire()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-25T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var service = new TokenService(Options, time);
        var (token, expires) = service.IssueParticipant(9, "openid-1");
        Assert.Equal(time.GetUtcNow() + TokenService.ParticipantLifetime, expires);

        var jwt = new JwtSecurityTokenHandler().ReadJwtToken(token);
        Assert.Equal("9", jwt.Subject);
        Assert.Contains(jwt.Claims, c => c.Type == "role" && c.Value == Policies.ParticipantRole);
        Assert.Contains(jwt.Claims, c => c.Type == "openid" && c.Value == "openid-1");

        var (admin, _) = service.IssueAdmin(1, "alice", "viewer");
        Assert.Contains(new JwtSecurityTokenHandler().ReadJwtToken(admin).Claims, c => c.Type == "role" && c.Value == "viewer");
    }
}
