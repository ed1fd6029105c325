using System.Net;
using System.Text.Json;
using Dapper;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.Platform.Rewards;
using Microsoft.Extensions.DependencyInjection;

namespace Dmh.IntegrationTests.Withdrawals;

/// <summary>Withdrawals in manual mode (issue 18): request, review, payout, limits, races, and who may do what.</summary>
public sealed class WithdrawalApiTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _factory = null!;
    private HttpClient _client = null!;
    private WithdrawalKit _kit = null!;
    private readonly Dictionary<string, string> _admin = [];

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Withdrawals:Mode"] = "manual",
            ["Withdrawals:MinFen"] = "100",
            ["Withdrawals:MaxFenPerRequest"] = "20000",
            ["Withdrawals:DailyCount"] = "3",
            ["Withdrawals:DailyTotalFen"] = "30000",
            ["Withdrawals:AdminApprovalAboveFen"] = "10000",
        });
        _client = _factory.CreateClient();
        _kit = new WithdrawalKit(_db, _client);
        foreach (var role in new[] { AdminRoles.Admin, AdminRoles.Operator, AdminRoles.Viewer })
        {
            _admin[role] = await AdminLogin.TokenAsync(_factory.Services, role);
        }
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
    }

    private string Me(long id) => _factory.Services.GetRequiredService<TokenService>().IssueParticipant(id).Token;

    private async Task<long> RequestAsync(long user, long amountFen)
    {
        var created = await _kit.PostAsync("/api/v1/me/withdrawals", Me(user), new { amountFen });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await _kit.JsonAsync(created)).GetProperty("id").GetInt64();
    }

    private async Task PayAsync(long id, string role = AdminRoles.Admin)
    {
        Assert.Equal(HttpStatusCode.OK, (await _kit.PostAsync($"/api/v1/withdrawals/{id}/approve", _admin[role])).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _kit.PostAsync($"/api/v1/withdrawals/{id}/payout", _admin[role], new { reference = "BANK-" + id })).StatusCode);
    }

    [Fact]
    public async Task Request_approve_and_manual_payout_move_the_money_through_the_ledger()
    {
        var (user, _) = await _kit.ParticipantAsync();
        await _kit.FundAsync(user, 5000);

        var created = await _kit.PostAsync("/api/v1/me/withdrawals", Me(user), new { amountFen = 3000 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var item = await _kit.JsonAsync(created);
        var id = item.GetProperty("id").GetInt64();
        Assert.Equal("pending", item.GetProperty("status").GetString());
        Assert.Equal((2000L, 3000L, 0L), await _kit.BalanceAsync(user));
        await _kit.AssertLedgerInvariantAsync();

        var approved = await _kit.JsonAsync(await _kit.PostAsync($"/api/v1/withdrawals/{id}/approve", _admin[AdminRoles.Operator]));
        Assert.Equal("approved", approved.GetProperty("status").GetString());
        Assert.Equal("test-operator", approved.GetProperty("reviewedBy").GetString());
        var again = await _kit.PostAsync($"/api/v1/withdrawals/{id}/approve", _admin[AdminRoles.Operator]);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("withdrawal-state", await _kit.ProblemTypeAsync(again));

        Assert.Equal(HttpStatusCode.BadRequest, (await _kit.PostAsync($"/api/v1/withdrawals/{id}/payout", _admin[AdminRoles.Operator], new { reference = "" })).StatusCode);
        var paid = await _kit.JsonAsync(await _kit.PostAsync($"/api/v1/withdrawals/{id}/payout", _admin[AdminRoles.Operator],
            new { reference = "ICBC-20261206-001", paidAt = "2026-12-06T08:00:00+08:00" }));
        Assert.Equal("paid", paid.GetProperty("status").GetString());
        Assert.Equal("ICBC-20261206-001", paid.GetProperty("paidReference").GetString());
        Assert.Equal("test-operator", paid.GetProperty("paidBy").GetString());
        Assert.Equal(DateTimeOffset.Parse("2026-12-06T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture), paid.GetProperty("paidAt").GetDateTimeOffset());
        Assert.Equal(HttpStatusCode.Conflict, (await _kit.PostAsync($"/api/v1/withdrawals/{id}/payout", _admin[AdminRoles.Operator], new { reference = "x" })).StatusCode);

        Assert.Equal((2000L, 0L, 3000L), await _kit.BalanceAsync(user));
        Assert.Equal(new[] { LedgerKind.WithdrawHold, LedgerKind.Payout }, await _kit.LedgerKindsAsync(user));
        await _kit.AssertLedgerInvariantAsync();

        var mine = await _kit.JsonAsync(await _kit.GetAsync("/api/v1/me/withdrawals", Me(user)));
        Assert.Equal("manual", mine.GetProperty("mode").GetString());
        Assert.Equal(3000, mine.GetProperty("paidOutFen").GetInt64());
        Assert.Equal("paid", mine.GetProperty("items")[0].GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, mine.GetProperty("items")[0].GetProperty("confirm").ValueKind);
        Assert.True(mine.GetProperty("canRequest").GetBoolean());
    }

    [Fact]
    public async Task Reject_releases_the_hold_and_frees_the_participant_to_ask_again()
    {
        var (user, _) = await _kit.ParticipantAsync();
        await _kit.FundAsync(user, 5000);
        var id = await RequestAsync(user, 4000);
        var mine = await _kit.JsonAsync(await _kit.GetAsync("/api/v1/me/withdrawals", Me(user)));
        Assert.Equal("open-request", mine.GetProperty("blockedReason").GetString());
        Assert.False(mine.GetProperty("canRequest").GetBoolean());

        Assert.Equal(HttpStatusCode.BadRequest, (await _kit.PostAsync($"/api/v1/withdrawals/{id}/reject", _admin[AdminRoles.Operator], new { reason = "" })).StatusCode);
        var rejected = await _kit.JsonAsync(await _kit.PostAsync($"/api/v1/withdrawals/{id}/reject", _admin[AdminRoles.Operator], new { reason = "信息不符" }));
        Assert.Equal("rejected", rejected.GetProperty("status").GetString());
        Assert.Equal("信息不符", rejected.GetProperty("rejectReason").GetString());
        Assert.Equal((5000L, 0L, 0L), await _kit.BalanceAsync(user));
        Assert.Equal(HttpStatusCode.Conflict, (await _kit.PostAsync($"/api/v1/withdrawals/{id}/reject", _admin[AdminRoles.Operator], new { reason = "again" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await _kit.PostAsync($"/api/v1/withdrawals/{id}/approve", _admin[AdminRoles.Operator])).StatusCode);
        Assert.Equal(new[] { LedgerKind.WithdrawHold, LedgerKind.WithdrawRelease }, await _kit.LedgerKindsAsync(user));
        await _kit.AssertLedgerInvariantAsync();

        await RequestAsync(user, 5000);
        Assert.Equal((0L, 5000L, 0L), await _kit.BalanceAsync(user));
        await _kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task Amount_limits_hold_at_their_edges()
    {
        var (user, _) = await _kit.ParticipantAsync();
        await _kit.FundAsync(user, 100_000);
        foreach (var bad in new object[] { new { amountFen = 99 }, new { amountFen = 20001 }, new { amountFen = 0 }, new { amountFen = -100 }, "{\"amountFen\":1.5}", "{\"amountFen\":\"100\"}", "{}" })
        {
            var refused = await _kit.PostAsync("/api/v1/me/withdrawals", Me(user), bad);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
            Assert.Equal("withdrawal-amount", await _kit.ProblemTypeAsync(refused));
        }

        Assert.Equal((100_000L, 0L, 0L), await _kit.BalanceAsync(user));

        // 20000 (the maximum) is above AdminApprovalAboveFen (10000): an operator may not approve it.
        var big = await RequestAsync(user, 20000);
        var forbidden = await _kit.PostAsync($"/api/v1/withdrawals/{big}/approve", _admin[AdminRoles.Operator]);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        var list = await _kit.JsonAsync(await _kit.GetAsync($"/api/v1/withdrawals?userId={user}", _admin[AdminRoles.Viewer]));
        Assert.True(list.GetProperty("items")[0].GetProperty("needsAdmin").GetBoolean());
        Assert.Equal("pending", list.GetProperty("items")[0].GetProperty("status").GetString());
        await PayAsync(big, AdminRoles.Admin);

        // The day's total is 30000: 10001 more is refused, 10000 (exactly the total) is not, and an operator approves 10000.
        var over = await _kit.PostAsync("/api/v1/me/withdrawals", Me(user), new { amountFen = 10001 });
        Assert.Equal(HttpStatusCode.Conflict, over.StatusCode);
        Assert.Equal("daily-limit", await _kit.ProblemTypeAsync(over));
        await PayAsync(await RequestAsync(user, 10000), AdminRoles.Operator);
        var full = await _kit.PostAsync("/api/v1/me/withdrawals", Me(user), new { amountFen = 100 });
        Assert.Equal("daily-limit", await _kit.ProblemTypeAsync(full));
        Assert.Equal("daily-limit", (await _kit.JsonAsync(await _kit.GetAsync("/api/v1/me/withdrawals", Me(user)))).GetProperty("blockedReason").GetString());

        // The day's count is 3 (another participant: small amounts); a rejected request does not count.
        var (other, _) = await _kit.ParticipantAsync();
        await _kit.FundAsync(other, 1000);
        var rejected = await RequestAsync(other, 100);
        Assert.Equal(HttpStatusCode.OK, (await _kit.PostAsync($"/api/v1/withdrawals/{rejected}/reject", _admin[AdminRoles.Operator], new { reason = "no" })).StatusCode);
        for (var i = 0; i < 3; i++)
        {
            await PayAsync(await RequestAsync(other, 100), AdminRoles.Operator);
        }

        var fourth = await _kit.PostAsync("/api/v1/me/withdrawals", Me(other), new { amountFen = 100 });
        Assert.Equal("daily-limit", await _kit.ProblemTypeAsync(fourth));
        Assert.Equal((700L, 0L, 300L), await _kit.BalanceAsync(other));

        var poor = await _kit.PostAsync("/api/v1/me/withdrawals", Me((await _kit.ParticipantAsync()).Id), new { amountFen = 100 });
        Assert.Equal("insufficient-available", await _kit.ProblemTypeAsync(poor));
        await _kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task Two_concurrent_requests_of_one_participant_leave_one()
    {
        var (user, _) = await _kit.ParticipantAsync();
        await _kit.FundAsync(user, 5000);
        var token = Me(user);
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _kit.PostAsync("/api/v1/me/withdrawals", token, new { amountFen = 3000 })));
        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Created);
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Created), a => Assert.Equal(HttpStatusCode.Conflict, a.StatusCode));
        Assert.Equal((2000L, 3000L, 0L), await _kit.BalanceAsync(user));
        await using var c = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM withdrawals WHERE user_id = @user", new { user }));
        await _kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task A_negative_available_balance_refuses_withdrawals()
    {
        var (user, _) = await _kit.ParticipantAsync();
        await _kit.FundAsync(user, 1000);
        await _kit.FundAsync(user, -1500);
        var refused = await _kit.PostAsync("/api/v1/me/withdrawals", Me(user), new { amountFen = 100 });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("negative-balance", await _kit.ProblemTypeAsync(refused));
        var mine = await _kit.JsonAsync(await _kit.GetAsync("/api/v1/me/withdrawals", Me(user)));
        Assert.Equal("negative-balance", mine.GetProperty("blockedReason").GetString());
        Assert.Equal(-500, mine.GetProperty("availableFen").GetInt64());
        await _kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task A_refund_reversal_arriving_while_a_withdrawal_is_pending_leaves_the_hold_and_a_debt()
    {
        var (referrer, _) = await _kit.ParticipantAsync();
        long orderId;
        await using (var c = await _db.DataSource.OpenConnectionAsync())
        {
            orderId = await c.ExecuteScalarAsync<long>("""
                INSERT INTO campaigns (name, price, status) VALUES ('c', 100.00, 'active');
                INSERT INTO orders (campaign_id, phone, referrer_id, amount, status, pay_status) VALUES (LAST_INSERT_ID(), '13900000000', @referrer, 100.00, 'paid', 'paid');
                SELECT LAST_INSERT_ID();
                """, new { referrer });
            var rewardId = await c.ExecuteScalarAsync<long>("""
                INSERT INTO rewards (user_id, order_id, campaign_id, amount, amount_fen, status, settled_at, available_at)
                VALUES (@referrer, @orderId, 1, 10.00, 1000, 'available', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3));
                SELECT LAST_INSERT_ID();
                """, new { referrer, orderId });
            await using var tx = await c.BeginTransactionAsync();
            await RewardLedger.ApplyAsync(c, tx, new LedgerEntry(referrer, LedgerKind.Credit, $"reward:{rewardId}:credit", DateTime.UtcNow,
                AvailableDelta: 1000, EarnedDelta: 1000, RewardId: rewardId, OrderId: orderId), CancellationToken.None);
            await tx.CommitAsync();
        }

        var id = await RequestAsync(referrer, 1000);
        Assert.Equal((0L, 1000L, 0L), await _kit.BalanceAsync(referrer));

        // The order is refunded in full while the withdrawal waits: the reward's reversal takes available below zero.
        await using (var c = await _db.DataSource.OpenConnectionAsync())
        {
            await c.ExecuteAsync("""
                INSERT INTO refunds (order_id, payment_id, out_trade_no, out_refund_no, amount_fen, total_fen, status) VALUES (@orderId, 0, 'x', 'R1', 10000, 10000, 'success')
                """, new { orderId });
            await using var tx = await c.BeginTransactionAsync();
            Assert.Single(await RewardLedger.ReverseOrderAsync(c, tx, orderId, "R1", null, DateTime.UtcNow, CancellationToken.None));
            await tx.CommitAsync();
        }

        Assert.Equal((-1000L, 1000L, 0L), await _kit.BalanceAsync(referrer));
        await _kit.AssertLedgerInvariantAsync();
        Assert.Equal("negative-balance", await _kit.ProblemTypeAsync(await _kit.PostAsync("/api/v1/me/withdrawals", Me(referrer), new { amountFen = 100 })));

        // Rejecting the withdrawal gives the hold back: the debt is what remains.
        Assert.Equal(HttpStatusCode.OK, (await _kit.PostAsync($"/api/v1/withdrawals/{id}/reject", _admin[AdminRoles.Operator], new { reason = "订单已退款" })).StatusCode);
        Assert.Equal((0L, 0L, 0L), await _kit.BalanceAsync(referrer));
        await _kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task Strangers_viewers_and_other_participants_get_nothing()
    {
        var (user, _) = await _kit.ParticipantAsync();
        var (other, _) = await _kit.ParticipantAsync();
        await _kit.FundAsync(user, 50_000);
        var id = await RequestAsync(user, 15000);

        Assert.Equal(HttpStatusCode.Unauthorized, (await _kit.GetAsync("/api/v1/me/withdrawals", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _kit.PostAsync("/api/v1/me/withdrawals", null, new { amountFen = 100 })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _kit.GetAsync("/api/v1/me/withdrawals", _admin[AdminRoles.Admin])).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _kit.GetAsync("/api/v1/withdrawals", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _kit.GetAsync("/api/v1/withdrawals", Me(user))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _kit.PostAsync($"/api/v1/withdrawals/{id}/approve", Me(user))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _kit.PostAsync($"/api/v1/withdrawals/{id}/approve", _admin[AdminRoles.Viewer])).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _kit.PostAsync($"/api/v1/withdrawals/{id}/reject", _admin[AdminRoles.Viewer], new { reason = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _kit.PostAsync($"/api/v1/withdrawals/{id}/approve", _admin[AdminRoles.Operator])).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _kit.PostAsync($"/api/v1/me/withdrawals/{id}/confirmed", Me(other))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _kit.PostAsync("/api/v1/withdrawals/999999/approve", _admin[AdminRoles.Admin])).StatusCode);
        Assert.Equal(0, (await _kit.JsonAsync(await _kit.GetAsync("/api/v1/me/withdrawals", Me(other)))).GetProperty("items").GetArrayLength());
        Assert.Equal((35_000L, 15_000L, 0L), await _kit.BalanceAsync(user));

        Assert.Equal(HttpStatusCode.OK, (await _kit.PostAsync($"/api/v1/me/withdrawals/{id}/confirmed", Me(user))).StatusCode);
        Assert.Equal("approved", (await _kit.JsonAsync(await _kit.PostAsync($"/api/v1/withdrawals/{id}/approve", _admin[AdminRoles.Admin]))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_admin_queue_filters_masks_phones_and_exports_csv()
    {
        var (user, phone) = await _kit.ParticipantAsync();
        await _kit.FundAsync(user, 5000);
        var id = await RequestAsync(user, 1234);

        var page = await _kit.JsonAsync(await _kit.GetAsync($"/api/v1/withdrawals?status=pending&phone={phone}", _admin[AdminRoles.Viewer]));
        Assert.Equal(1, page.GetProperty("total").GetInt64());
        var item = page.GetProperty("items")[0];
        Assert.Equal(id, item.GetProperty("id").GetInt64());
        Assert.Equal($"{phone[..3]}****{phone[^4..]}", item.GetProperty("phoneMasked").GetString());
        Assert.Equal("manual", item.GetProperty("mode").GetString());
        Assert.False(item.GetProperty("needsAdmin").GetBoolean());
        Assert.True(page.GetProperty("pendingCount").GetInt64() >= 1);
        Assert.True(page.GetProperty("pendingFen").GetInt64() >= 1234);
        Assert.Equal(0, (await _kit.JsonAsync(await _kit.GetAsync($"/api/v1/withdrawals?status=paid&userId={user}", _admin[AdminRoles.Viewer]))).GetProperty("total").GetInt64());
        Assert.Equal(0, (await _kit.JsonAsync(await _kit.GetAsync($"/api/v1/withdrawals?userId={user}&from=2099-01-01", _admin[AdminRoles.Viewer]))).GetProperty("total").GetInt64());
        Assert.Equal(1, (await _kit.JsonAsync(await _kit.GetAsync($"/api/v1/withdrawals?userId={user}&from=2020-01-01&to=2099-01-01", _admin[AdminRoles.Viewer]))).GetProperty("total").GetInt64());
        Assert.Equal(HttpStatusCode.BadRequest, (await _kit.GetAsync("/api/v1/withdrawals?status=bogus", _admin[AdminRoles.Viewer])).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _kit.GetAsync("/api/v1/withdrawals?pageSize=1000", _admin[AdminRoles.Viewer])).StatusCode);

        var csv = await _kit.GetAsync($"/api/v1/withdrawals/export?userId={user}", _admin[AdminRoles.Viewer]);
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.StartsWith("withdrawals-", csv.Content.Headers.ContentDisposition?.FileNameStar ?? csv.Content.Headers.ContentDisposition?.FileName?.Trim('"'), StringComparison.Ordinal);
        var bytes = await csv.Content.ReadAsByteArrayAsync();
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, bytes[..3]);
        var text = System.Text.Encoding.UTF8.GetString(bytes[3..]);
        Assert.StartsWith("提现ID,", text, StringComparison.Ordinal);
        Assert.Contains("待审核", text, StringComparison.Ordinal);
        Assert.Contains("12.34", text, StringComparison.Ordinal);
        Assert.DoesNotContain(phone, text, StringComparison.Ordinal);
    }
}
