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

    // Read checks signature, order and expiry only (no I/O): the version is compared with MySQL by IsValidAsync.
    private static OrderAccessTokens Tokens(TimeProvider time) => new(Options, time, new MySqlConnector.MySqlDataSource("Server=127.0.0.1"));

    [Fact]
    public void An_order_token_opens_its_own_order_only()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-25T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var tokens = Tokens(time);
        var expires = time.GetUtcNow().AddDays(1);
        var token = tokens.Issue(42, 3, expires);
        Assert.Equal(new OrderToken(42, 3, expires), tokens.Read(token, 42));
        Assert.Null(tokens.Read(token, 43));
        Assert.Null(tokens.Read(tokens.Issue(43, 3, expires), 42));
        Assert.Null(tokens.Read(token[..^1] + (token[^1] == 'A' ? 'B' : 'A'), 42));
        Assert.Null(tokens.Read(token.Replace("42.3.", "42.4.", StringComparison.Ordinal), 42));
        Assert.Null(tokens.Read(null, 42));
        Assert.Null(tokens.Read("", 42));
        Assert.Null(tokens.Read("42.forged", 42));
    }

    [Fact]
    public void An_order_token_expires_at_the_campaign_end_plus_30_days()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-25T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var tokens = Tokens(time);
        var end = new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);
        var expires = tokens.ExpiryFor(end);
        Assert.Equal(new DateTimeOffset(end).AddDays(30), expires);
        Assert.Equal(time.GetUtcNow() + OrderAccessTokens.WithoutCampaignEnd, tokens.ExpiryFor(null));

        var token = tokens.Issue(7, 1, expires);
        time.SetUtcNow(expires.AddSeconds(-1));
        Assert.NotNull(tokens.Read(token, 7));
        time.SetUtcNow(expires);
        Assert.Null(tokens.Read(token, 7));
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
