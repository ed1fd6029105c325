using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using Dmh.Platform.Security;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Dmh.Ingress.Security;

/// <summary>Authorization policies. Admin roles: admin ⊃ operator ⊃ viewer.</summary>
public static class Policies
{
    /// <summary>Any admin role: read-only admin endpoints.</summary>
    public const string AdminRead = "admin-read";

    /// <summary>admin or operator: campaigns, orders, sync changes.</summary>
    public const string AdminWrite = "admin-write";

    /// <summary>admin only: admin accounts.</summary>
    public const string AdminOnly = "admin-only";

    /// <summary>admin, operator or staff: look up a registration code, check in, undo a check-in.</summary>
    public const string CheckIn = "check-in";

    /// <summary>Any admin-console account, staff included: who am I, change my password, the check-in list.</summary>
    public const string Console = "console";

    /// <summary>An H5 session of a participant (claim <c>sub</c> = participants.id).</summary>
    public const string Participant = "participant";

    /// <summary>The role claim value of participant sessions.</summary>
    public const string ParticipantRole = "participant";
}

/// <summary>
/// One JWT bearer scheme for both admin sign-in and H5 participant sessions; the <c>role</c> claim
/// tells them apart. Tokens are signed with <c>Security:JwtKey</c> (HS256).
/// </summary>
public sealed class TokenService(IOptions<SecurityOptions> options, TimeProvider time)
{
    public const string Issuer = "dmh";
    public const string SigningAlgorithm = SecurityAlgorithms.HmacSha256;
    public static readonly TimeSpan AdminLifetime = TimeSpan.FromHours(12);
    public static readonly TimeSpan ParticipantLifetime = TimeSpan.FromDays(7);
    public static readonly TimeSpan WechatSessionLifetime = TimeSpan.FromHours(2);

    private readonly SymmetricSecurityKey _key = new(Convert.FromBase64String(options.Value.JwtKey));

    /// <summary>The claim with the admin account's session version; a token whose version is not the account's current one is refused.</summary>
    public const string SessionVersionClaim = "sv";

    public (string Token, DateTimeOffset ExpiresAt) IssueAdmin(long adminId, string username, string role, int sessionVersion = 0) =>
        Issue([new(JwtRegisteredClaimNames.Sub, adminId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
               new(JwtRegisteredClaimNames.UniqueName, username), new("role", role),
               new(SessionVersionClaim, sessionVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), ClaimValueTypes.Integer32)], AdminLifetime);

    public (string Token, DateTimeOffset ExpiresAt) IssueParticipant(long participantId, string? openid = null)
    {
        var claims = new List<Claim>
        {
            new(JwtRegisteredClaimNames.Sub, participantId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("role", Policies.ParticipantRole),
        };
        if (openid is not null)
        {
            claims.Add(new Claim("openid", openid));
        }

        return Issue(claims, ParticipantLifetime);
    }

    /// <summary>
    /// A short H5 session from WeChat OAuth. <c>sub</c> is the participant's id when one has this openid;
    /// a visitor not registered yet gets no <c>sub</c> (so <see cref="AuthExtensions.ParticipantId"/> is null), only the openid.
    /// </summary>
    public (string Token, DateTimeOffset ExpiresAt) IssueWechatSession(string openid, long? participantId)
    {
        var claims = new List<Claim> { new("role", Policies.ParticipantRole), new("openid", openid) };
        if (participantId is { } id)
        {
            claims.Add(new Claim(JwtRegisteredClaimNames.Sub, id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        return Issue(claims, WechatSessionLifetime);
    }

    public TokenValidationParameters ValidationParameters() => new()
    {
        ValidIssuer = Issuer,
        ValidAudience = Issuer,
        IssuerSigningKey = _key,
        // Only what DMH signs with: a token with "alg":"none" or another algorithm is refused.
        ValidAlgorithms = [SigningAlgorithm],
        RoleClaimType = "role",
        NameClaimType = JwtRegisteredClaimNames.UniqueName,
        ClockSkew = TimeSpan.FromSeconds(30),
    };

    private (string, DateTimeOffset) Issue(IEnumerable<Claim> claims, TimeSpan lifetime)
    {
        var now = time.GetUtcNow();
        var expires = now + lifetime;
        var token = new JwtSecurityToken(Issuer, Issuer, claims, now.UtcDateTime, expires.UtcDateTime,
            new SigningCredentials(_key, SigningAlgorithm));
        return (new JwtSecurityTokenHandler().WriteToken(token), expires);
    }
}

public static class AuthExtensions
{
    public static WebApplicationBuilder AddDmhAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SecurityOptions>()
            .BindConfiguration(SecurityOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => SecurityOptions.IsKey(o.TokenKey, 32), "Security:TokenKey must be base64 of at least 32 bytes.")
            .Validate(o => SecurityOptions.IsKey(o.JwtKey, 32), "Security:JwtKey must be base64 of at least 32 bytes.")
            .ValidateOnStart();
        builder.Services.AddSingleton<TokenService>();
        builder.Services.AddSingleton<OrderAccessTokens>();
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<TokenService>((o, tokens) =>
            {
                o.MapInboundClaims = false;
                o.TokenValidationParameters = tokens.ValidationParameters();
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.AdminRead, p => p.RequireRole(AdminRoles.Admin, AdminRoles.Operator, AdminRoles.Viewer))
            .AddPolicy(Policies.AdminWrite, p => p.RequireRole(AdminRoles.Admin, AdminRoles.Operator))
            .AddPolicy(Policies.AdminOnly, p => p.RequireRole(AdminRoles.Admin))
            .AddPolicy(Policies.CheckIn, p => p.RequireRole(AdminRoles.Admin, AdminRoles.Operator, AdminRoles.Staff))
            .AddPolicy(Policies.Console, p => p.RequireRole(AdminRoles.Admin, AdminRoles.Operator, AdminRoles.Viewer, AdminRoles.Staff))
            .AddPolicy(Policies.Participant, p => p.RequireRole(Policies.ParticipantRole));
        return builder;
    }

    /// <summary>participants.id of an H5 session, or null.</summary>
    public static long? ParticipantId(this ClaimsPrincipal user) =>
        user.IsInRole(Policies.ParticipantRole) && long.TryParse(user.FindFirstValue(JwtRegisteredClaimNames.Sub), out var id) ? id : null;

    /// <summary>
    /// The openid of an H5 session, or null. Only <c>/api/v1/auth/wechat</c> puts an openid WeChat
    /// confirmed into a token (SMS sign-in copies the one already bound): never take one from a body.
    /// </summary>
    public static string? WechatOpenid(this ClaimsPrincipal user) =>
        user.IsInRole(Policies.ParticipantRole) && user.FindFirstValue("openid") is { Length: > 0 } openid ? openid : null;

    /// <summary>True for any admin-console account, staff included (the account checks apply to all of them).</summary>
    public static bool IsConsoleAccount(this ClaimsPrincipal user) => user.IsAdmin() || user.IsInRole(AdminRoles.Staff);

    /// <summary>True for any admin role (staff is not one: it reads no orders).</summary>
    public static bool IsAdmin(this ClaimsPrincipal user) =>
        user.IsInRole(AdminRoles.Admin) || user.IsInRole(AdminRoles.Operator) || user.IsInRole(AdminRoles.Viewer);
}
