using System.ComponentModel.DataAnnotations;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Dmh.Platform.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.Platform.Wechat;

/// <summary>
/// The official account's API credentials. They are the settings WeChat Pay already holds (section
/// <c>WechatPay</c>: <c>AppId</c>, <c>AppSecret</c>, <c>OAuthBaseUrl</c> = api.weixin.qq.com or the
/// simulator), read here without a reference to the WeChat Pay library.
/// </summary>
public sealed class WechatApiOptions
{
    public const string SectionName = "WechatPay";

    public string AppId { get; set; } = "";

    public string? AppSecret { get; set; }

    /// <summary>api.weixin.qq.com (or the simulator): <c>/cgi-bin/token</c> and <c>/cgi-bin/ticket/getticket</c>.</summary>
    public string OAuthBaseUrl { get; set; } = "https://api.weixin.qq.com";

    /// <summary>A cached credential is renewed by one caller once less than this is left (the others keep using it meanwhile).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan CredentialRefreshBefore { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long one refresher holds the refresh lock at most (a crashed one blocks no longer than this).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan CredentialLockTime { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>WeChat answered a credential call with an <c>errcode</c>, or not at all.</summary>
public sealed class WechatApiException(string message, int? errcode = null, Exception? inner = null) : Exception(message, inner)
{
    public int? Errcode { get; } = errcode;
}

/// <summary>
/// WeChat's <c>access_token</c> and JS-SDK <c>jsapi_ticket</c>, shared by every DMH process through Redis
/// (keys <c>wechat:credential:*</c>). Both live 7200 s and WeChat limits how often they may be fetched,
/// and a new access_token fetched by <c>/cgi-bin/token</c> ends the previous one after 5 minutes, so only
/// one caller at a time may fetch (a Redis lock), the others wait for its result or keep using the still
/// valid old value. Issue 18's notifier takes its access_token from here too.
/// </summary>
public sealed class WechatCredentials(
    HttpClient http,
    IConnectionMultiplexer redis,
    RedisKeys keys,
    IOptions<WechatApiOptions> options,
    TimeProvider time,
    ILogger<WechatCredentials> logger)
{
    public const string AccessTokenName = "access_token";
    public const string JsapiTicketName = "jsapi_ticket";

    /// <summary>errcodes of an access_token WeChat no longer accepts (40001 invalid, 40014 malformed, 42001 expired).</summary>
    private static readonly int[] StaleTokenCodes = [40001, 40014, 42001];

    private static readonly TimeSpan WaitStep = TimeSpan.FromMilliseconds(50);

    private const string ReleaseScript = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

    private sealed record Answer(
        [property: JsonPropertyName("errcode")] int? Errcode,
        [property: JsonPropertyName("errmsg")] string? Errmsg,
        [property: JsonPropertyName("access_token")] string? AccessToken,
        [property: JsonPropertyName("ticket")] string? Ticket,
        [property: JsonPropertyName("expires_in")] int? ExpiresIn);

    public Task<string> AccessTokenAsync(CancellationToken ct = default) => GetAsync(AccessTokenName, FetchAccessTokenAsync, ct);

    /// <summary>The jsapi_ticket; an access_token WeChat calls stale is dropped and fetched again once.</summary>
    public async Task<string> JsapiTicketAsync(CancellationToken ct = default) =>
        await GetAsync(JsapiTicketName, async c =>
        {
            var token = await AccessTokenAsync(c);
            try
            {
                return await FetchTicketAsync(token, c);
            }
            catch (WechatApiException ex) when (ex.Errcode is { } code && StaleTokenCodes.Contains(code))
            {
                await InvalidateAsync(AccessTokenName, token);
                return await FetchTicketAsync(await AccessTokenAsync(c), c);
            }
        }, ct);

    /// <summary>Drops a cached value WeChat refused, unless another caller has replaced it already.</summary>
    public Task InvalidateAsync(string name, string value) =>
        redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, [ValueKey(name)], [value]);

    private RedisKey ValueKey(string name) => keys.For("wechat:credential:" + name);

    private RedisKey LockKey(string name) => keys.For("wechat:credential:" + name + ":refresh");

    private async Task<string> GetAsync(string name, Func<CancellationToken, Task<(string Value, TimeSpan Lifetime)>> fetch, CancellationToken ct)
    {
        var db = redis.GetDatabase();
        var o = options.Value;
        var deadline = time.GetUtcNow() + o.CredentialLockTime + o.CredentialLockTime;
        while (true)
        {
            var cached = await db.StringGetWithExpiryAsync(ValueKey(name));
            if (cached.Value.HasValue && cached.Expiry is { } left && left > o.CredentialRefreshBefore)
            {
                return cached.Value!;
            }

            var owner = Guid.NewGuid().ToString("N");
            if (await db.StringSetAsync(LockKey(name), owner, o.CredentialLockTime, When.NotExists))
            {
                try
                {
                    // Another process may have refreshed between our read and our lock.
                    var again = await db.StringGetWithExpiryAsync(ValueKey(name));
                    if (again.Value.HasValue && again.Expiry is { } fresh && fresh > o.CredentialRefreshBefore)
                    {
                        return again.Value!;
                    }

                    var (value, lifetime) = await fetch(ct);
                    // Kept until a minute before WeChat's own expiry; renewed from CredentialRefreshBefore on.
                    var keep = lifetime - TimeSpan.FromMinutes(1);
                    await db.StringSetAsync(ValueKey(name), value, keep > TimeSpan.FromSeconds(1) ? keep : lifetime);
                    logger.LogInformation("Fetched WeChat {Credential}, valid for {Seconds} s", name, (int)lifetime.TotalSeconds);
                    return value;
                }
                finally
                {
                    await db.ScriptEvaluateAsync(ReleaseScript, [LockKey(name)], [owner]);
                }
            }

            // Someone else is refreshing: an old value that still works is good enough meanwhile.
            if (cached.Value.HasValue)
            {
                return cached.Value!;
            }

            if (time.GetUtcNow() > deadline)
            {
                throw new WechatApiException($"Timed out waiting for another process to fetch the WeChat {name}.");
            }

            await Task.Delay(WaitStep, time, ct);
        }
    }

    private async Task<(string, TimeSpan)> FetchAccessTokenAsync(CancellationToken ct)
    {
        var o = options.Value;
        var answer = await CallAsync(
            $"/cgi-bin/token?grant_type=client_credential&appid={Uri.EscapeDataString(o.AppId)}&secret={Uri.EscapeDataString(o.AppSecret ?? "")}", ct);
        return (answer.AccessToken ?? throw new WechatApiException("WeChat answered without an access_token."), Lifetime(answer));
    }

    private async Task<(string, TimeSpan)> FetchTicketAsync(string accessToken, CancellationToken ct)
    {
        var answer = await CallAsync($"/cgi-bin/ticket/getticket?access_token={Uri.EscapeDataString(accessToken)}&type=jsapi", ct);
        return (answer.Ticket ?? throw new WechatApiException("WeChat answered without a ticket."), Lifetime(answer));
    }

    private static TimeSpan Lifetime(Answer answer) => TimeSpan.FromSeconds(answer.ExpiresIn is > 0 ? answer.ExpiresIn.Value : 7200);

    private async Task<Answer> CallAsync(string pathAndQuery, CancellationToken ct)
    {
        Answer? answer;
        try
        {
            answer = await http.GetFromJsonAsync<Answer>(options.Value.OAuthBaseUrl.TrimEnd('/') + pathAndQuery, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or System.Text.Json.JsonException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new WechatApiException("WeChat did not answer the credential call.", null, ex);
        }

        if (answer is null || answer.Errcode is { } code and not 0)
        {
            throw new WechatApiException($"WeChat refused the credential call ({answer?.Errcode}: {answer?.Errmsg}).", answer?.Errcode);
        }

        return answer;
    }
}

public static class WechatCredentialsExtensions
{
    /// <summary>The shared access_token / jsapi_ticket cache (needs <c>AddDmhRedis</c>).</summary>
    public static IHostApplicationBuilder AddWechatCredentials(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<WechatApiOptions>().BindConfiguration(WechatApiOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHttpClient<WechatCredentials>(c => c.Timeout = TimeSpan.FromSeconds(10));
        return builder;
    }
}
