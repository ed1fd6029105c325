using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.Ingress.Withdrawals;
using Dmh.Perf;
using Dmh.Platform.Withdrawals;
using MySqlConnector;

namespace Dmh.Chaos;

/// <summary>
/// Withdrawals in the journeys (issue 18, WeChat merchant transfer through the simulator): one referrer in
/// every <c>--withdraw-every</c>, while the journeys run, signs in to the H5 page through WeChat's
/// OAuth, asks to withdraw part of their available balance, an admin reviews it and, once approved, the
/// referrer confirms the receipt on WeChat's sheet (the simulator's <c>/sim/transfers/confirm</c>) and the
/// page tells DMH so, until the withdrawal is final. In turn a withdrawal is rejected, fails at WeChat, has
/// its notify delivered twice, has it lost (only the query finds it), or is simply paid. What DMH
/// answered is recorded for the checks; after the journeys every referrer's open withdrawal is driven
/// to its end, as a person would.
/// </summary>
public sealed class WithdrawalLoad(PerfSystem system, HttpClient client, Uri simulator, IReadOnlyList<Referrer> referrers, int every, TimeSpan spread, TimeSpan deadline)
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromMilliseconds(500);
    private static readonly string[] Plans = ["reject", TransferFaults.Fail, TransferFaults.DuplicateNotify, TransferFaults.LoseNotify, TransferFaults.None, TransferFaults.None];

    private readonly ConcurrentDictionary<long, long> _requested = new();
    private readonly ConcurrentDictionary<long, string> _outcomes = new();
    private int _next = -1;

    /// <summary>The simulator's fault names (Dmh.WechatSim's TransferFaults, which the runner does not reference).</summary>
    private static class TransferFaults
    {
        public const string None = "none";
        public const string Fail = "fail";
        public const string DuplicateNotify = "duplicate-notify";
        public const string LoseNotify = "lose-notify";
    }

    /// <summary>Withdrawals DMH answered 201 for: id → the referrer's participant id.</summary>
    public IReadOnlyDictionary<long, long> Requested => _requested;

    /// <summary>The final state the referrer saw for each withdrawal ("unfinished" when it gave up).</summary>
    public IReadOnlyDictionary<long, string> Outcomes => _outcomes;

    public IReadOnlyList<Referrer> Withdrawing { get; } = every <= 0 ? [] : referrers.Where((_, i) => i % every == 0).ToList();

    /// <summary>WeChat openids for the withdrawing referrers (a WeChat sign-in binds one; these referrers were made in the database).</summary>
    public async Task BindOpenidsAsync(CancellationToken ct)
    {
        if (Withdrawing.Count == 0)
        {
            return;
        }

        await using var connection = await system.Db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE participants SET openid = CONCAT('oCHAOS', id) WHERE id IN @ids", new { ids = Withdrawing.Select(r => r.Id).ToList() }, cancellationToken: ct));
    }

    /// <summary>Each withdrawing referrer's requests, spread over the journeys; returns once every one of them is final (or its deadline passed).</summary>
    public Task RunAsync(Task journeysDone, CancellationToken ct) =>
        Task.WhenAll(Withdrawing.Select(r => Task.Run(() => ReferrerAsync(r, journeysDone, ct), CancellationToken.None)));

    /// <summary>WeChat's record of the referrers' transfer bills: out_bill_no → state, as the simulator keeps them.</summary>
    public async Task<Dictionary<string, string>> TransfersAtWechatAsync(CancellationToken ct)
    {
        var known = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Withdrawing.Count == 0)
        {
            return known;
        }

        await using var connection = await system.Db.OpenConnectionAsync(ct);
        var bills = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT out_bill_no FROM withdrawals WHERE user_id IN @ids AND out_bill_no IS NOT NULL", new { ids = Withdrawing.Select(r => r.Id).ToList() }, cancellationToken: ct));
        foreach (var outBillNo in bills)
        {
            using var answer = await client.GetAsync(new Uri(simulator, $"/sim/transfers/{outBillNo}"), ct);
            if (answer.StatusCode != HttpStatusCode.NotFound)
            {
                answer.EnsureSuccessStatusCode();
                known[outBillNo] = (await answer.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("state").GetString()!;
            }
        }

        return known;
    }

    private async Task ReferrerAsync(Referrer referrer, Task journeysDone, CancellationToken ct)
    {
        var random = new Random(unchecked((int)referrer.Id * 7919));
        var until = DateTimeOffset.UtcNow + spread + deadline;
        string? session = null;
        var requests = 0;
        var dailyCount = int.MaxValue;
        while (!journeysDone.IsCompleted && requests < dailyCount && DateTimeOffset.UtcNow < until)
        {
            // Spread over the journeys: about one request per quarter of their duration.
            await Task.WhenAny(Task.Delay(TimeSpan.FromMilliseconds(spread.TotalMilliseconds / 4 * (0.5 + random.NextDouble())), ct), journeysDone);
            if (journeysDone.IsCompleted)
            {
                break;
            }

            session ??= await SignInAsync(referrer, ct);
            var mine = session is null ? null : await MineAsync(session, ct);
            if (mine is null)
            {
                continue;
            }

            dailyCount = mine.Limits.DailyCount;
            if (mine.Items.FirstOrDefault(w => WithdrawalStatus.IsOpen(w.Status)) is { } open)
            {
                // A request whose answer was lost (or one left open): finished first.
                await DriveAsync(session!, open.Id, until, ct);
                continue;
            }

            if (!mine.CanRequest)
            {
                if (mine.BlockedReason == BlockedReasons.DailyLimit)
                {
                    break;
                }

                continue;
            }

            // canRequest: available ≥ the minimum (and the maximum per request is not below it).
            var amount = random.NextInt64(mine.Limits.MinFen, Math.Min(mine.AvailableFen, mine.Limits.MaxFenPerRequest) + 1);
            var id = await RequestAsync(session!, referrer, amount, ct);
            if (id is { } created)
            {
                requests++;
                await DriveAsync(session!, created, until, ct);
            }
        }

        // After the journeys: whatever is still open (a request answered after a timeout, one given up on) is finished.
        while (DateTimeOffset.UtcNow < until)
        {
            session ??= await SignInAsync(referrer, ct);
            var mine = session is null ? null : await MineAsync(session, ct);
            if (mine is not null)
            {
                foreach (var item in mine.Items)
                {
                    _outcomes[item.Id] = item.Status;
                }

                if (mine.Items.FirstOrDefault(w => WithdrawalStatus.IsOpen(w.Status)) is not { } open)
                {
                    return;
                }

                await DriveAsync(session!, open.Id, until, ct);
                continue;
            }

            await Task.Delay(RetryEvery, ct);
        }
    }

    /// <summary>POST /api/v1/me/withdrawals: the new id, or null when DMH refused it or did not answer.</summary>
    private async Task<long?> RequestAsync(string session, Referrer referrer, long amountFen, CancellationToken ct)
    {
        try
        {
            using var request = Authorized(HttpMethod.Post, "/api/v1/me/withdrawals", session);
            request.Content = JsonContent.Create(new { amountFen });
            using var answer = await client.SendAsync(request, ct);
            if (answer.StatusCode != HttpStatusCode.Created)
            {
                return null;
            }

            var id = (await answer.Content.ReadFromJsonAsync<MyWithdrawal>(ct))!.Id;
            _requested.TryAdd(id, referrer.Id);
            return id;
        }
        catch (Exception ex) when (IsTransient(ex, ct))
        {
            return null;
        }
    }

    /// <summary>Review (its plan: reject, or approve with a WeChat fault set first), then the user's confirmation, until final.</summary>
    private async Task DriveAsync(string session, long id, DateTimeOffset until, CancellationToken ct)
    {
        var plan = Plans[(int)((uint)Interlocked.Increment(ref _next) % Plans.Length)];
        var outBillNo = WithdrawalLedger.OutBillNo(id);
        if (plan != "reject" && !await TryUntilAsync(until, () => PostAsync(client, new Uri(simulator, $"/sim/transfers/{outBillNo}/fault"), new { fault = plan }, ct), ct))
        {
            return;
        }

        // 409: reviewed already (an earlier try whose answer was lost).
        var reviewed = await TryUntilAsync(until, async () =>
        {
            using var answer = plan == "reject"
                ? await system.Admin.PostAsJsonAsync(new Uri(system.BaseUrl, $"/api/v1/withdrawals/{id}/reject"), new { reason = "chaos" }, ct)
                : await system.Admin.PostAsync(new Uri(system.BaseUrl, $"/api/v1/withdrawals/{id}/approve"), null, ct);
            return answer.IsSuccessStatusCode || answer.StatusCode == HttpStatusCode.Conflict;
        }, ct);
        if (!reviewed)
        {
            _outcomes[id] = "unfinished";
            return;
        }

        var final = await TryUntilAsync(until, async () =>
        {
            var item = (await MineAsync(session, ct))?.Items.FirstOrDefault(w => w.Id == id);
            if (item is null)
            {
                return false;
            }

            if (!WithdrawalStatus.IsOpen(item.Status))
            {
                _outcomes[id] = item.Status;
                return true;
            }

            if (item.Status == WithdrawalStatus.Approved)
            {
                // Manual mode (Withdrawals:Mode): the operator pays outside DMH and records it (409: recorded already).
                using var recorded = await system.Admin.PostAsJsonAsync(new Uri(system.BaseUrl, $"/api/v1/withdrawals/{id}/payout"),
                    new { reference = "chaos-" + id.ToString(CultureInfo.InvariantCulture) }, ct);
            }
            else if (item.Confirm is { } confirm)
            {
                // The user taps 确认收款 on WeChat's sheet; the page then tells DMH (only a hint: the notify is the truth).
                await PostAsync(client, new Uri(simulator, "/sim/transfers/confirm"), new { package = confirm.Package, mchId = confirm.MchId, appId = confirm.AppId }, ct);
                using var hint = Authorized(HttpMethod.Post, $"/api/v1/me/withdrawals/{id}/confirmed", session);
                using var told = await client.SendAsync(hint, ct);
            }

            return false;
        }, ct);
        if (!final)
        {
            _outcomes[id] = "unfinished";
        }
    }

    /// <summary>As the H5 page inside WeChat: a state bound to this "browser", WeChat's authorize (silent), the code exchanged for a session.</summary>
    private async Task<string?> SignInAsync(Referrer referrer, CancellationToken ct)
    {
        try
        {
            var config = await client.GetFromJsonAsync<JsonElement>(new Uri(system.BaseUrl, "/api/v1/h5/config"), ct);
            using var stateAnswer = await client.GetAsync(new Uri(system.BaseUrl, "/api/v1/auth/wechat/state"), ct);
            stateAnswer.EnsureSuccessStatusCode();
            var state = (await stateAnswer.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("state").GetString()!;
            var cookie = stateAnswer.Headers.GetValues("Set-Cookie").First().Split(';')[0];
            var authorize = config.GetProperty("oauthAuthorizeUrl").GetString() + "?appid=" + Uri.EscapeDataString(config.GetProperty("wechatAppId").GetString()!)
                + "&redirect_uri=" + Uri.EscapeDataString(new Uri(system.BaseUrl, "/h5/").ToString()) + "&response_type=code&scope=snsapi_base"
                + "&state=" + Uri.EscapeDataString(state) + "&sim_openid=" + Uri.EscapeDataString("oCHAOS" + referrer.Id.ToString(CultureInfo.InvariantCulture));
            using var authorized = await client.GetAsync(new Uri(authorize), ct);
            var location = authorized.Headers.Location?.OriginalString ?? throw new HttpRequestException("WeChat's authorize did not redirect");
            var code = location.Split('?', 2)[1].Split('#')[0].Split('&').Select(p => p.Split('=', 2)).First(p => p[0] == "code")[1];
            using var login = new HttpRequestMessage(HttpMethod.Post, new Uri(system.BaseUrl, "/api/v1/auth/wechat"))
            {
                Content = JsonContent.Create(new { code = Uri.UnescapeDataString(code), state }),
            };
            login.Headers.Add("Cookie", cookie);
            using var signedIn = await client.SendAsync(login, ct);
            signedIn.EnsureSuccessStatusCode();
            return (await signedIn.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("sessionToken").GetString();
        }
        catch (Exception ex) when (IsTransient(ex, ct) || ex is InvalidOperationException or JsonException or KeyNotFoundException)
        {
            return null;
        }
    }

    private async Task<MyWithdrawals?> MineAsync(string session, CancellationToken ct)
    {
        try
        {
            using var request = Authorized(HttpMethod.Get, "/api/v1/me/withdrawals", session);
            using var answer = await client.SendAsync(request, ct);
            return answer.IsSuccessStatusCode ? await answer.Content.ReadFromJsonAsync<MyWithdrawals>(ct) : null;
        }
        catch (Exception ex) when (IsTransient(ex, ct) || ex is JsonException)
        {
            return null;
        }
    }

    private HttpRequestMessage Authorized(HttpMethod method, string path, string session)
    {
        var request = new HttpRequestMessage(method, new Uri(system.BaseUrl, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", session);
        return request;
    }

    private static async Task<bool> PostAsync(HttpClient client, Uri uri, object body, CancellationToken ct)
    {
        using var answer = await client.PostAsJsonAsync(uri, body, ct);
        return answer.IsSuccessStatusCode;
    }

    private static bool IsTransient(Exception ex, CancellationToken ct) => ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested;

    private static async Task<bool> TryUntilAsync(DateTimeOffset until, Func<Task<bool>> step, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                if (await step())
                {
                    return true;
                }
            }
            catch (Exception ex) when (IsTransient(ex, ct) || ex is MySqlException or JsonException)
            {
            }

            if (DateTimeOffset.UtcNow >= until)
            {
                return false;
            }

            await Task.Delay(RetryEvery, ct);
        }
    }
}
