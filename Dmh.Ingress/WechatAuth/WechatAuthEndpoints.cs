using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Dmh.Ingress.Http;
using Dmh.Ingress.Security;
using Dmh.WechatPay;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Ingress.WechatAuth;

public sealed record WechatLoginRequest(string? Code, string? State);

public sealed record WechatLoginResponse(string SessionToken, string Openid, DateTimeOffset ExpiresAt, long? ParticipantId);

public sealed record WechatStateResponse(string State, DateTimeOffset ExpiresAt);

public sealed record H5Config(string WechatAppId, string OauthAuthorizeUrl, string? JsBridgeShimUrl, string JsSdkUrl);

/// <summary>The code → openid exchange at api.weixin.qq.com (or the simulator), server side only.</summary>
public sealed class WechatOAuthClient(HttpClient http, IOptions<WechatPayOptions> options)
{
    public const int InvalidCode = 40029;

    public sealed record Answer(
        [property: JsonPropertyName("openid")] string? Openid,
        [property: JsonPropertyName("errcode")] int? Errcode,
        [property: JsonPropertyName("errmsg")] string? Errmsg,
        [property: JsonPropertyName("is_snapshotuser")] int? IsSnapshotuser,
        [property: JsonPropertyName("unionid")] string? Unionid);

    public async Task<Answer> ExchangeAsync(string code, CancellationToken ct)
    {
        var o = options.Value;
        var url = $"{o.OAuthBaseUrl.TrimEnd('/')}/sns/oauth2/access_token?appid={Uri.EscapeDataString(o.AppId)}&secret={Uri.EscapeDataString(o.AppSecret ?? "")}"
            + $"&code={Uri.EscapeDataString(code)}&grant_type=authorization_code";
        using var response = await http.GetAsync(url, ct);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<Answer>(ct) ?? throw new JsonException("Empty OAuth answer");
    }
}

/// <summary>WeChat web OAuth for the H5 page (docs/wechatpay-v3.md §7) and the page's WeChat settings.</summary>
public static class WechatAuthEndpoints
{
    public static WebApplicationBuilder AddWechatAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddHttpClient<WechatOAuthClient>(c => c.Timeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton<OAuthStates>();
        return builder;
    }

    public static IEndpointRouteBuilder MapWechatAuthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/auth/wechat/state", IssueState).WithTags("Auth");
        app.MapPost("/api/v1/auth/wechat", LoginAsync).WithTags("Auth");
        app.MapGet("/api/v1/h5/config", Config).WithTags("H5");
        return app;
    }

    private static Ok<H5Config> Config(IOptions<WechatPayOptions> options)
    {
        var o = options.Value;
        var simulator = o.IsSimulator ? o.BaseUrl.TrimEnd('/') : null;
        return TypedResults.Ok(new H5Config(o.AppId, o.OAuthAuthorizeUrl, simulator is null ? null : simulator + "/jsbridge.js",
            simulator is null ? WechatJsSdk.ScriptUrl : simulator + "/jweixin.js"));
    }

    /// <summary>The state for the authorize URL, bound to this browser by an HttpOnly cookie.</summary>
    private static Ok<WechatStateResponse> IssueState(HttpContext http, OAuthStates states)
    {
        var (state, expires) = states.Issue(http);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new WechatStateResponse(state, expires));
    }

    private static async Task<Results<Ok<WechatLoginResponse>, ProblemHttpResult>> LoginAsync(
        WechatLoginRequest? request, HttpContext http, OAuthStates states, WechatOAuthClient oauth, TokenService tokens, MySqlDataSource dataSource,
        ILogger<WechatOAuthClient> logger, CancellationToken ct)
    {
        var code = request?.Code?.Trim();
        if (string.IsNullOrEmpty(code) || code.Length > 128)
        {
            return Problems.Validation("code", "The OAuth code is required (at most 128 characters).");
        }

        // Before the code is exchanged: a code that arrives with a state this browser was not given
        // (someone else's sign-in link) must not sign this browser in.
        var check = await states.UseAsync(request!.State, http);
        if (check != OAuthStates.Check.Valid)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "invalid-state", "The sign-in state is not valid here.", check switch
            {
                OAuthStates.Check.Expired => "The sign-in took too long; start the WeChat sign-in again.",
                OAuthStates.Check.Used => "This sign-in was already completed; start the WeChat sign-in again.",
                _ => "This sign-in was not started in this browser (GET /api/v1/auth/wechat/state first); start the WeChat sign-in again.",
            });
        }

        WechatOAuthClient.Answer answer;
        try
        {
            answer = await oauth.ExchangeAsync(code, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            logger.LogWarning(ex, "WeChat OAuth exchange failed");
            return Problems.Of(StatusCodes.Status502BadGateway, "wechat-unavailable", "WeChat sign-in unavailable", "WeChat did not answer the sign-in; try again.");
        }

        if (answer.Errcode is { } errcode and not 0)
        {
            if (errcode == WechatOAuthClient.InvalidCode)
            {
                return Problems.Of(StatusCodes.Status400BadRequest, "invalid-code", "Invalid WeChat code",
                    "The sign-in code was already used or has expired; start the WeChat sign-in again.");
            }

            logger.LogWarning("WeChat OAuth exchange answered {Errcode} {Errmsg}", errcode, answer.Errmsg);
            return Problems.Of(StatusCodes.Status502BadGateway, "wechat-error", "WeChat sign-in failed", $"WeChat refused the sign-in ({errcode}).");
        }

        if (string.IsNullOrEmpty(answer.Openid))
        {
            return Problems.Of(StatusCodes.Status502BadGateway, "wechat-error", "WeChat sign-in failed", "WeChat answered without an openid.");
        }

        if (answer.IsSnapshotuser == 1)
        {
            // A page shared as a "snapshot" (朋友圈快照页): no real user behind it.
            return Problems.Of(StatusCodes.Status403Forbidden, "snapshot-user", "Snapshot page",
                "Open the page in WeChat (not the snapshot preview) to sign in.");
        }

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var participantId = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT id FROM participants WHERE openid = @openid", new { openid = answer.Openid }, cancellationToken: ct));
        var (token, expires) = tokens.IssueWechatSession(answer.Openid, participantId);
        return TypedResults.Ok(new WechatLoginResponse(token, answer.Openid, expires, participantId));
    }
}
