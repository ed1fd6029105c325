using System.Globalization;
using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using System.Text.RegularExpressions;
using Dmh.Ingress.Audit;
using Dmh.Ingress.Http;
using Dmh.Ingress.Security;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dmh.Ingress.Admins;

public sealed record AdminLoginRequest(string? Username, string? Password);

public sealed record AdminUserView(long Id, string Username, string Role);

public sealed record AdminLoginResponse(string Token, DateTimeOffset ExpiresAt, AdminUserView User);

public sealed record AdminAccountView(long Id, string Username, string Role, bool Disabled, DateTimeOffset CreatedAt);

public sealed record CreateAdminRequest(string? Username, string? Password, string? Role);

public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

public sealed record ChangeRoleRequest(string? Role);

/// <summary>Admin sign-in (<c>/api/v1/auth/admin</c>) and account management (<c>/api/v1/admin-users</c>).</summary>
public static partial class AdminEndpoints
{
    private static readonly string[] Roles = [AdminRoles.Admin, AdminRoles.Operator, AdminRoles.Viewer, AdminRoles.Staff];

    public static WebApplicationBuilder AddAdmins(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdminOptions>()
            .BindConfiguration(AdminOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<AdminStore>();
        builder.Services.AddSingleton<LoginThrottle>();
        builder.Services.AddHostedService<AdminSeeder>();
        // Admin tokens live 12 h; a disabled account, one whose role changed or whose password changed
        // (session version) loses access at once rather than when its token expires. One primary-key
        // read per admin request.
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .PostConfigure<AdminStore>((o, store) =>
            {
                o.Events ??= new JwtBearerEvents();
                o.Events.OnTokenValidated = async ctx =>
                {
                    if (ctx.Principal is { } p && p.IsConsoleAccount())
                    {
                        var user = AdminId(p) is { } id ? await store.FindAsync(id, ctx.HttpContext.RequestAborted) : null;
                        if (user is not { DisabledAt: null } || !p.IsInRole(user.Role)
                            || p.FindFirstValue(TokenService.SessionVersionClaim) != user.SessionVersion.ToString(CultureInfo.InvariantCulture))
                        {
                            ctx.Fail("The admin account is disabled, or its role or password changed.");
                        }
                    }
                };
            });
        return builder;
    }

    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/v1/auth/admin").WithTags("Admin sign-in");
        auth.MapPost("/login", LoginAsync);
        auth.MapGet("/me", MeAsync).RequireAuthorization(Policies.Console);
        auth.MapPut("/password", ChangePasswordAsync).RequireAuthorization(Policies.Console);

        var users = app.MapGroup("/api/v1/admin-users").WithTags("Admin accounts").RequireAuthorization(Policies.AdminOnly);
        users.MapGet("/", ListAsync);
        users.MapPost("/", CreateAsync);
        users.MapPost("/{id:long}/disable", DisableAsync);
        users.MapPut("/{id:long}/role", ChangeRoleAsync);
        return app;
    }

    public static async Task<Results<Ok<AdminLoginResponse>, ProblemHttpResult>> LoginAsync(
        AdminLoginRequest? request, HttpContext http, AdminStore store, LoginThrottle throttle, TokenService tokens, AuditLog audit, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(request?.Username) || request.Username.Length > 64)
        {
            errors.Add("username", "Username is required (at most 64 characters).");
        }

        if (string.IsNullOrEmpty(request?.Password) || request.Password.Length > 128)
        {
            errors.Add("password", "Password is required (at most 128 characters).");
        }

        if (errors.Any)
        {
            return Problems.Validation(errors.ToDictionary());
        }

        var username = request!.Username!.Trim();
        var ip = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (await throttle.BeginAttemptAsync(username, ip) is { } wait)
        {
            http.Response.Headers.RetryAfter = ((long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return Problems.TooManyRequests("Too many failed sign-ins; try again later.");
        }

        // The attempt already counts as a failure; only a success takes it back.
        var user = await store.VerifyAsync(username, request.Password!, ct);
        if (user is null)
        {
            await audit.WriteAsync(new AuditEntry(new AuditActor(null, username, null, ClientAddress.Of(http)), AuditActions.SignInFailed), ct);
            return Problems.Of(StatusCodes.Status401Unauthorized, "invalid-credentials", "Wrong username or password.");
        }

        await throttle.SucceededAsync(username, ip);
        await audit.WriteAsync(new AuditEntry(new AuditActor(user.Id, user.Username, user.Role, ClientAddress.Of(http)), AuditActions.SignIn, "admin-user",
            user.Id.ToString(CultureInfo.InvariantCulture)), ct);
        var (token, expiresAt) = tokens.IssueAdmin(user.Id, user.Username, user.Role, user.SessionVersion);
        return TypedResults.Ok(new AdminLoginResponse(token, expiresAt, new AdminUserView(user.Id, user.Username, user.Role)));
    }

    public static async Task<Results<Ok<AdminUserView>, ProblemHttpResult>> MeAsync(ClaimsPrincipal principal, AdminStore store, CancellationToken ct)
    {
        var user = await CurrentAsync(principal, store, ct);
        return user is null
            ? Problems.Of(StatusCodes.Status401Unauthorized, "account-disabled", "The account no longer exists or is disabled.")
            : TypedResults.Ok(new AdminUserView(user.Id, user.Username, user.Role));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> ChangePasswordAsync(
        ChangePasswordRequest? request, HttpContext http, AdminStore store, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrEmpty(request?.CurrentPassword))
        {
            errors.Add("currentPassword", "Current password is required.");
        }

        ValidatePassword(request?.NewPassword, "newPassword", errors);
        if (errors.Any)
        {
            return Problems.Validation(errors.ToDictionary());
        }

        var user = await CurrentAsync(http.User, store, ct);
        if (user is null)
        {
            return Problems.Of(StatusCodes.Status401Unauthorized, "account-disabled", "The account no longer exists or is disabled.");
        }

        if (await store.VerifyAsync(user.Username, request!.CurrentPassword!, ct) is null)
        {
            return Problems.Validation("currentPassword", "Current password is wrong.", StatusCodes.Status422UnprocessableEntity);
        }

        await store.SetPasswordAsync(user.Id, request.NewPassword!, ct, AuditEntry.Of(http, AuditActions.PasswordChange, "admin-user", user.Id));
        return TypedResults.NoContent();
    }

    public static async Task<Ok<AdminAccountView[]>> ListAsync(AdminStore store, CancellationToken ct) =>
        TypedResults.Ok((await store.ListAsync(ct)).Select(ToView).ToArray());

    public static async Task<Results<Created<AdminAccountView>, ProblemHttpResult>> CreateAsync(
        CreateAdminRequest? request, HttpContext http, AdminStore store, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (request?.Username is null || !UsernamePattern().IsMatch(request.Username))
        {
            errors.Add("username", "Username is required: 3-64 letters, digits, '.', '_' or '-'.");
        }

        if (request?.Role is null || !Roles.Contains(request.Role, StringComparer.Ordinal))
        {
            errors.Add("role", "Role must be admin, operator, viewer or staff.");
        }

        ValidatePassword(request?.Password, "password", errors);
        if (errors.Any)
        {
            return Problems.Validation(errors.ToDictionary());
        }

        var id = await store.CreateAsync(request!.Username!, request.Password!, request.Role!, ct,
            AuditEntry.Of(http, AuditActions.AccountCreate, "admin-user", detail: new { username = request.Username, role = request.Role }));
        if (id is null)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "username-taken", "The username is taken.");
        }

        var created = await store.FindAsync(id.Value, ct);
        return TypedResults.Created($"/api/v1/admin-users/{id}", ToView(created!));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DisableAsync(long id, HttpContext http, AdminStore store, CancellationToken ct)
    {
        if (AdminId(http.User) == id)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "cannot-disable-self", "You cannot disable your own account.");
        }

        if (await store.FindAsync(id, ct) is not { } target)
        {
            return Problems.NotFound("The admin account");
        }

        await store.DisableAsync(id, ct, AuditEntry.Of(http, AuditActions.AccountDisable, "admin-user", id, new { username = target.Username }));
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<AdminAccountView>, ProblemHttpResult>> ChangeRoleAsync(
        long id, ChangeRoleRequest? request, HttpContext http, AdminStore store, CancellationToken ct)
    {
        if (request?.Role is null || !Roles.Contains(request.Role, StringComparer.Ordinal))
        {
            return Problems.Validation("role", "Role must be admin, operator, viewer or staff.");
        }

        // An admin who demotes themselves could leave no admin at all.
        if (AdminId(http.User) == id)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "cannot-change-own-role", "You cannot change your own role.");
        }

        if (await store.FindAsync(id, ct) is not { } target)
        {
            return Problems.NotFound("The admin account");
        }

        if (target.DisabledAt is not null)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "account-disabled", "A disabled account keeps its role.");
        }

        await store.SetRoleAsync(id, request.Role, ct,
            AuditEntry.Of(http, AuditActions.AccountRole, "admin-user", id, new { username = target.Username, from = target.Role, to = request.Role }));
        return TypedResults.Ok(ToView((await store.FindAsync(id, ct))!));
    }

    private static void ValidatePassword(string? password, string field, FieldErrors errors)
    {
        if (password is null || password.Length < AdminStore.MinPasswordLength || password.Length > 128)
        {
            errors.Add(field, $"Password must have {AdminStore.MinPasswordLength} to 128 characters.");
        }
    }

    private static long? AdminId(ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirstValue(JwtRegisteredClaimNames.Sub), CultureInfo.InvariantCulture, out var id) ? id : null;

    private static async Task<AdminUser?> CurrentAsync(ClaimsPrincipal principal, AdminStore store, CancellationToken ct)
    {
        var user = AdminId(principal) is { } id ? await store.FindAsync(id, ct) : null;
        return user is { DisabledAt: null } ? user : null;
    }

    private static AdminAccountView ToView(AdminUser u) =>
        new(u.Id, u.Username, u.Role, u.DisabledAt is not null, new DateTimeOffset(DateTime.SpecifyKind(u.CreatedAt, DateTimeKind.Utc)));

    [GeneratedRegex("^[A-Za-z0-9._-]{3,64}$")]
    private static partial Regex UsernamePattern();
}
