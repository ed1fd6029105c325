using System.Net.Sockets;
using System.Text.Json.Serialization;
using Dmh.Platform.Wechat;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Notices;

/// <summary>What became of one subscribe notice sent to WeChat.</summary>
public enum SubscribeOutcome
{
    Sent,

    /// <summary>Not sent, and may pass later (system busy, a quota, WeChat or the token unreachable).</summary>
    Retry,

    /// <summary>43101: the user's consent is not there (used up, or withdrawn in WeChat's settings).</summary>
    NoConsent,

    /// <summary>Refused for good (a bad template, data or openid): an operator must look.</summary>
    Refused,

    /// <summary>No answer after the request went out: it may have been sent, so it is not sent again.</summary>
    Unknown,
}

public sealed record SubscribeResult(SubscribeOutcome Outcome, string? Error = null);

/// <summary>
/// Sends an official account's subscribe notice (订阅通知): <c>POST /cgi-bin/message/subscribe/bizsend</c>
/// (docs/wechat-subscribe-notices.md; <c>/cgi-bin/message/subscribe/send</c> is the mini program's),
/// with the access_token shared through <see cref="WechatCredentials"/>. A token WeChat calls stale is
/// dropped and the call made once more with a fresh one.
/// </summary>
public sealed class SubscribeMessageClient(HttpClient http, WechatCredentials credentials, IOptions<WechatApiOptions> api)
{
    // 40001 invalid, 40014 malformed, 42001 expired access_token.
    private static readonly int[] StaleToken = [40001, 40014, 42001];

    // -1 system busy; 45009 the API's daily quota; 45047 too many messages to the user for now.
    private static readonly int[] Transient = [-1, 45009, 45047];

    private sealed record Answer([property: JsonPropertyName("errcode")] int? Errcode, [property: JsonPropertyName("errmsg")] string? Errmsg);

    public async Task<SubscribeResult> SendAsync(string openid, string templateId, string page, IReadOnlyDictionary<string, string> data, CancellationToken ct)
    {
        var body = new Dictionary<string, object>
        {
            ["touser"] = openid,
            ["template_id"] = templateId,
            ["page"] = page,
            ["data"] = data.ToDictionary(d => d.Key, d => new { value = d.Value }),
        };
        for (var tries = 1; ; tries++)
        {
            string token;
            try
            {
                token = await credentials.AccessTokenAsync(ct);
            }
            catch (WechatApiException ex)
            {
                return new SubscribeResult(SubscribeOutcome.Retry, ex.Message);
            }

            Answer? answer;
            try
            {
                using var response = await http.PostAsJsonAsync(
                    api.Value.OAuthBaseUrl.TrimEnd('/') + "/cgi-bin/message/subscribe/bizsend?access_token=" + Uri.EscapeDataString(token), body, ct);
                if (!response.IsSuccessStatusCode)
                {
                    return new SubscribeResult(SubscribeOutcome.Retry, $"HTTP {(int)response.StatusCode}");
                }

                answer = await response.Content.ReadFromJsonAsync<Answer>(ct);
            }
            catch (HttpRequestException ex) when (ex.InnerException is SocketException)
            {
                // Refused or unreachable: nothing reached WeChat.
                return new SubscribeResult(SubscribeOutcome.Retry, ex.Message);
            }
            catch (Exception ex) when (ex is HttpRequestException or System.Text.Json.JsonException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                return new SubscribeResult(SubscribeOutcome.Unknown, "No answer from WeChat: " + ex.Message);
            }

            var code = answer?.Errcode ?? 0;
            var error = $"{code}: {answer?.Errmsg}";
            if (code == 0)
            {
                return new SubscribeResult(SubscribeOutcome.Sent);
            }

            if (StaleToken.Contains(code) && tries == 1)
            {
                await credentials.InvalidateAsync(WechatCredentials.AccessTokenName, token);
                continue;
            }

            return new SubscribeResult(
                code == 43101 ? SubscribeOutcome.NoConsent : Transient.Contains(code) || StaleToken.Contains(code) ? SubscribeOutcome.Retry : SubscribeOutcome.Refused,
                error);
        }
    }
}
