using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.Platform.Rewards;

namespace Dmh.IntegrationTests.Withdrawals;

/// <summary>Seeds participants and money through the ledger, and calls the withdrawal endpoints with a bearer token.</summary>
public sealed class WithdrawalKit(TestDatabase db, HttpClient client)
{
    private static int _phone = Random.Shared.Next(10_000_000, 50_000_000);

    public async Task<(long Id, string Phone)> ParticipantAsync(string? openid = null)
    {
        var phone = "137" + Interlocked.Increment(ref _phone).ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
        await using var c = await db.DataSource.OpenConnectionAsync();
        var id = await c.ExecuteScalarAsync<long>("""
            INSERT INTO participants (phone, openid, referral_code) VALUES (@phone, @openid, @code);
            SELECT LAST_INSERT_ID();
            """, new { phone, openid, code = "r" + Guid.NewGuid().ToString("N")[..12] });
        return (id, phone);
    }

    /// <summary>Moves <paramref name="fen"/> into (or, negative, out of) the participant's available balance with an adjustment row.</summary>
    public async Task FundAsync(long userId, long fen)
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        await using var tx = await c.BeginTransactionAsync();
        await RewardLedger.ApplyAsync(c, tx, new LedgerEntry(userId, LedgerKind.Adjustment, "test:" + Guid.NewGuid().ToString("N"), DateTime.UtcNow,
            AvailableDelta: fen, Reason: "test", Actor: "test"), CancellationToken.None);
        await tx.CommitAsync();
    }

    public async Task<(long Available, long Withdrawing, long PaidOut)> BalanceAsync(long userId)
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        return await c.QuerySingleOrDefaultAsync<(long, long, long)>(
            "SELECT available_fen, withdrawing_fen, paid_out_fen FROM user_balances WHERE user_id = @userId", new { userId });
    }

    public async Task<List<string>> LedgerKindsAsync(long userId)
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        return (await c.QueryAsync<string>("SELECT kind FROM reward_ledger WHERE user_id = @userId AND kind <> 'adjustment' ORDER BY id", new { userId })).ToList();
    }

    /// <summary>balance == sum(ledger) and version == count(ledger) for every participant.</summary>
    public async Task AssertLedgerInvariantAsync()
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        var broken = (await c.QueryAsync<long>("""
            SELECT b.user_id FROM user_balances b
            LEFT JOIN (SELECT user_id, SUM(frozen_delta_fen) AS f, SUM(available_delta_fen) AS a, SUM(withdrawing_delta_fen) AS w,
                              SUM(paid_out_delta_fen) AS p, SUM(earned_delta_fen) AS e, COUNT(*) AS n
                       FROM reward_ledger GROUP BY user_id) l ON l.user_id = b.user_id
            WHERE b.frozen_fen <> COALESCE(l.f, 0) OR b.available_fen <> COALESCE(l.a, 0) OR b.withdrawing_fen <> COALESCE(l.w, 0)
               OR b.paid_out_fen <> COALESCE(l.p, 0) OR b.total_earned_fen <> COALESCE(l.e, 0) OR b.version <> COALESCE(l.n, 0)
            """)).ToList();
        Assert.Empty(broken);
    }

    public Task<HttpResponseMessage> GetAsync(string path, string? token) => SendAsync(HttpMethod.Get, path, token, null);

    public Task<HttpResponseMessage> PostAsync(string path, string? token, object? body = null) => SendAsync(HttpMethod.Post, path, token, body);

    public async Task<JsonElement> JsonAsync(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    public async Task<string?> ProblemTypeAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("type", out var t) ? t.GetString()!.Split('/')[^1] : null;

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, object? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = body is string raw ? new StringContent(raw, System.Text.Encoding.UTF8, "application/json") : JsonContent.Create(body);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await client.SendAsync(request);
    }
}
