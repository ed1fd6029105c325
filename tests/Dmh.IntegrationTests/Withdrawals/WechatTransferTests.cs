using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.WechatPay;
using Dmh.Platform.Rewards;
using Dmh.Platform.Withdrawals;
using Dmh.Settlement.Withdrawals;
using Dmh.WechatPay;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Dmh.IntegrationTests.Withdrawals;

/// <summary>
/// Withdrawals paid by WeChat merchant transfer (issue 18): Ingress and the simulator on real ports, the
/// user's confirmation as the bridge performs it, the signed notify, and Settlement's reconciliation job.
/// </summary>
public sealed class WechatTransferTests(WechatPayFixture f) : IClassFixture<WechatPayFixture>
{
    private readonly WithdrawalKit _kit = new(f.Db, f.Api);

    private string Me(long id, string? openid) => f.Ingress.Services.GetRequiredService<TokenService>().IssueParticipant(id, openid).Token;

    private Task<string> AdminAsync() => AdminLogin.TokenAsync(f.Ingress.Services, AdminRoles.Admin);

    /// <summary>A participant with an openid, funded, with an approved withdrawal whose bill waits for the user.</summary>
    private async Task<(long User, string Openid, long Id, string OutBillNo)> ApprovedAsync(long amountFen = 3000, string? fault = null)
    {
        var openid = "oSIM" + Guid.NewGuid().ToString("N")[..24];
        var (user, _) = await _kit.ParticipantAsync(openid);
        await _kit.FundAsync(user, 10_000);
        var created = await _kit.PostAsync("/api/v1/me/withdrawals", Me(user, openid), new { amountFen });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await _kit.JsonAsync(created)).GetProperty("id").GetInt64();
        var outBillNo = "W" + id;
        if (fault is not null)
        {
            (await f.Sim.PostAsJsonAsync($"/sim/transfers/{outBillNo}/fault", new { fault })).EnsureSuccessStatusCode();
        }

        var approved = await _kit.JsonAsync(await _kit.PostAsync($"/api/v1/withdrawals/{id}/approve", await AdminAsync()));
        Assert.Equal("transferring", approved.GetProperty("status").GetString());
        Assert.Equal(outBillNo, approved.GetProperty("outBillNo").GetString());
        Assert.Equal("WAIT_USER_CONFIRM", approved.GetProperty("transferState").GetString());
        return (user, openid, id, outBillNo);
    }

    /// <summary>What the H5 page hands to requestMerchantTransfer, from GET /api/v1/me/withdrawals.</summary>
    private async Task<JsonElement> ConfirmParametersAsync(long user, string openid, long id)
    {
        var mine = await _kit.JsonAsync(await _kit.GetAsync("/api/v1/me/withdrawals", Me(user, openid)));
        Assert.Equal("wechat", mine.GetProperty("mode").GetString());
        var item = mine.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("id").GetInt64() == id);
        var confirm = item.GetProperty("confirm");
        Assert.Equal(JsonValueKind.Object, confirm.ValueKind);
        return confirm;
    }

    /// <summary>The user taps 确认收款: what the bridge shim's sheet posts to the simulator.</summary>
    private async Task<string> ConfirmAsync(JsonElement confirm)
    {
        var answer = await f.Sim.PostAsJsonAsync("/sim/transfers/confirm", new
        {
            package = confirm.GetProperty("package").GetString(),
            mchId = confirm.GetProperty("mchId").GetString(),
            appId = confirm.GetProperty("appId").GetString(),
        });
        return (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("err_msg").GetString()!;
    }

    private async Task<string> StatusAsync(long id)
    {
        await using var c = await f.Db.DataSource.OpenConnectionAsync();
        return await c.ExecuteScalarAsync<string>("SELECT status FROM withdrawals WHERE id = @id", new { id }) ?? "";
    }

    private async Task<long> LedgerRowsAsync(long user, string kind)
    {
        await using var c = await f.Db.DataSource.OpenConnectionAsync();
        return await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM reward_ledger WHERE user_id = @user AND kind = @kind", new { user, kind });
    }

    private TransferReconciliationService Reconciliation(FakeTimeProvider time) => new(
        f.Db.DataSource, f.Ingress.Services.GetRequiredService<ITransferProvider>(),
        Options.Create(new WithdrawalOptions { Mode = WithdrawalModes.Wechat, ReconcileAfter = TimeSpan.FromMinutes(10), ConfirmTimeout = TimeSpan.FromHours(24) }),
        f.Ingress.Services.GetRequiredService<IOptions<WechatPayOptions>>(), time, NullLogger<TransferReconciliationService>.Instance);

    [Fact]
    public async Task Approve_creates_the_bill_the_user_confirms_and_the_signed_notify_pays_it()
    {
        var (user, openid, id, outBillNo) = await ApprovedAsync();
        Assert.Equal((7000L, 3000L, 0L), await _kit.BalanceAsync(user));
        var confirm = await ConfirmParametersAsync(user, openid, id);
        Assert.Equal(WechatPayTestKeys.MchId, confirm.GetProperty("mchId").GetString());
        Assert.Equal(WechatPayTestKeys.AppId, confirm.GetProperty("appId").GetString());

        Assert.Equal("requestMerchantTransfer:ok", await ConfirmAsync(confirm));
        await WechatPayFixture.WaitUntilAsync(async () => await StatusAsync(id) == "paid");
        var bill = await f.Sim.GetFromJsonAsync<JsonElement>($"/sim/transfers/{outBillNo}");
        Assert.Equal("SUCCESS", bill.GetProperty("state").GetString());
        Assert.Equal(openid, bill.GetProperty("openId").GetString());
        Assert.Equal(3000, bill.GetProperty("amount").GetInt64());
        Assert.Equal(204, bill.GetProperty("deliveries")[0].GetProperty("status").GetInt32());

        Assert.Equal((7000L, 0L, 3000L), await _kit.BalanceAsync(user));
        var hint = await _kit.JsonAsync(await _kit.PostAsync($"/api/v1/me/withdrawals/{id}/confirmed", Me(user, openid)));
        Assert.Equal("paid", hint.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, hint.GetProperty("confirm").ValueKind);
        Assert.Equal(1, await LedgerRowsAsync(user, LedgerKind.Payout));
        await _kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task A_bill_the_user_never_confirms_is_cancelled_after_the_timeout_and_the_hold_released()
    {
        var (user, openid, id, outBillNo) = await ApprovedAsync(fault: "never-confirm");
        Assert.Equal("requestMerchantTransfer:cancel", await ConfirmAsync(await ConfirmParametersAsync(user, openid, id)));

        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(11));
        var job = Reconciliation(time);
        Assert.True(await job.SweepAsync(CancellationToken.None) >= 1);
        Assert.Equal("transferring", await StatusAsync(id));

        time.Advance(TimeSpan.FromHours(24));
        Assert.True(await job.SweepAsync(CancellationToken.None) >= 1);
        Assert.Equal("failed", await StatusAsync(id));
        Assert.Equal("CANCELLED", (await f.Sim.GetFromJsonAsync<JsonElement>($"/sim/transfers/{outBillNo}")).GetProperty("state").GetString());
        Assert.Equal((10_000L, 0L, 0L), await _kit.BalanceAsync(user));
        Assert.Equal(1, await LedgerRowsAsync(user, LedgerKind.WithdrawRelease));
        Assert.Equal(JsonValueKind.Null, (await ConfirmParametersOrNullAsync(user, openid, id)).ValueKind);
        await _kit.AssertLedgerInvariantAsync();
    }

    private async Task<JsonElement> ConfirmParametersOrNullAsync(long user, string openid, long id)
    {
        var mine = await _kit.JsonAsync(await _kit.GetAsync("/api/v1/me/withdrawals", Me(user, openid)));
        return mine.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("id").GetInt64() == id).GetProperty("confirm");
    }

    [Fact]
    public async Task Duplicate_and_out_of_order_notifies_change_nothing_the_second_time()
    {
        var (user, openid, id, outBillNo) = await ApprovedAsync(fault: "duplicate-notify");
        Assert.Equal("requestMerchantTransfer:ok", await ConfirmAsync(await ConfirmParametersAsync(user, openid, id)));
        await WechatPayFixture.WaitUntilAsync(async () => await StatusAsync(id) == "paid");
        var resent = await f.Sim.PostAsync($"/sim/transfers/{outBillNo}/notify?count=3", null);
        resent.EnsureSuccessStatusCode();
        var deliveries = (await f.Sim.GetFromJsonAsync<JsonElement>($"/sim/transfers/{outBillNo}")).GetProperty("deliveries");
        Assert.Equal(5, deliveries.GetArrayLength());
        Assert.All(deliveries.EnumerateArray(), d => Assert.Equal(204, d.GetProperty("status").GetInt32()));

        // A late answer of the create call, or a query that saw the bill before the user confirmed, arrives after the notify.
        var late = await WithdrawalLedger.ApplyBillAsync(f.Db.DataSource, outBillNo, new BillUpdate("WAIT_USER_CONFIRM", null, null, 3000, "pkg"), DateTime.UtcNow, "test", CancellationToken.None);
        Assert.Equal(BillOutcome.AlreadyFinal, late);
        var cancelled = await WithdrawalLedger.ApplyBillAsync(f.Db.DataSource, outBillNo, new BillUpdate("CANCELLED", null, null, 3000), DateTime.UtcNow, "test", CancellationToken.None);
        Assert.Equal(BillOutcome.AlreadyFinal, cancelled);

        Assert.Equal("paid", await StatusAsync(id));
        Assert.Equal(1, await LedgerRowsAsync(user, LedgerKind.Payout));
        Assert.Equal(0, await LedgerRowsAsync(user, LedgerKind.WithdrawRelease));
        Assert.Equal((7000L, 0L, 3000L), await _kit.BalanceAsync(user));
        await _kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task A_lost_notify_is_recovered_by_reconciliation()
    {
        var (user, openid, id, outBillNo) = await ApprovedAsync(fault: "lose-notify");
        Assert.Equal("requestMerchantTransfer:ok", await ConfirmAsync(await ConfirmParametersAsync(user, openid, id)));
        var bill = await f.Sim.GetFromJsonAsync<JsonElement>($"/sim/transfers/{outBillNo}");
        Assert.Equal("SUCCESS", bill.GetProperty("state").GetString());
        Assert.Equal(0, bill.GetProperty("deliveries").GetArrayLength());
        Assert.Equal("transferring", await StatusAsync(id));

        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(11));
        Assert.True(await Reconciliation(time).SweepAsync(CancellationToken.None) >= 1);
        Assert.Equal("paid", await StatusAsync(id));
        Assert.Equal((7000L, 0L, 3000L), await _kit.BalanceAsync(user));
        await _kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task A_bill_whose_create_answer_was_lost_is_offered_to_the_user_after_reconciliation()
    {
        var (user, openid, id, outBillNo) = await ApprovedAsync();
        // As approve leaves it when the bill was created at WeChat but its answer never reached DMH.
        await using (var c = await f.Db.DataSource.OpenConnectionAsync())
        {
            await c.ExecuteAsync("UPDATE withdrawals SET transfer_state = NULL, package_info = NULL, bill_created_at = NULL WHERE id = @id", new { id });
        }

        Assert.Equal(JsonValueKind.Null, (await ConfirmParametersOrNullAsync(user, openid, id)).ValueKind);

        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(11));
        Assert.True(await Reconciliation(time).SweepAsync(CancellationToken.None) >= 1);

        var confirm = await ConfirmParametersAsync(user, openid, id);
        Assert.Equal((await f.Sim.GetFromJsonAsync<JsonElement>($"/sim/transfers/{outBillNo}")).GetProperty("package").GetString(),
            confirm.GetProperty("package").GetString());
        Assert.Equal("requestMerchantTransfer:ok", await ConfirmAsync(confirm));
        await WechatPayFixture.WaitUntilAsync(async () => await StatusAsync(id) == "paid");
        Assert.Equal((7000L, 0L, 3000L), await _kit.BalanceAsync(user));
        Assert.Equal(1, await LedgerRowsAsync(user, LedgerKind.Payout));
        await _kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task A_failed_bill_releases_the_hold()
    {
        var (user, openid, id, _) = await ApprovedAsync(fault: "fail");
        Assert.Equal("requestMerchantTransfer:ok", await ConfirmAsync(await ConfirmParametersAsync(user, openid, id)));
        await WechatPayFixture.WaitUntilAsync(async () => await StatusAsync(id) == "failed");
        var mine = await _kit.JsonAsync(await _kit.GetAsync("/api/v1/me/withdrawals", Me(user, openid)));
        var item = mine.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("id").GetInt64() == id);
        Assert.Equal("TRANSFER_RISK", item.GetProperty("failReason").GetString());
        Assert.Equal((10_000L, 0L, 0L), await _kit.BalanceAsync(user));
        Assert.True(mine.GetProperty("canRequest").GetBoolean());
        await _kit.AssertLedgerInvariantAsync();
    }

    [Fact]
    public async Task A_participant_without_an_openid_is_told_to_withdraw_inside_WeChat()
    {
        var (user, _) = await _kit.ParticipantAsync();
        await _kit.FundAsync(user, 5000);
        var mine = await _kit.JsonAsync(await _kit.GetAsync("/api/v1/me/withdrawals", Me(user, null)));
        Assert.Equal("openid-required", mine.GetProperty("blockedReason").GetString());
        Assert.False(mine.GetProperty("canRequest").GetBoolean());
        var refused = await _kit.PostAsync("/api/v1/me/withdrawals", Me(user, null), new { amountFen = 1000 });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("openid-required", await _kit.ProblemTypeAsync(refused));
        Assert.Equal((5000L, 0L, 0L), await _kit.BalanceAsync(user));
    }

    [Fact]
    public async Task An_unsigned_transfer_notify_is_refused_and_changes_nothing()
    {
        var (user, _, id, outBillNo) = await ApprovedAsync();
        using var forged = new HttpRequestMessage(HttpMethod.Post, WithdrawalOptions.NotifyPath)
        {
            Content = JsonContent.Create(new { id = "EV-1", event_type = "MCHTRANSFER.BILL.FINISHED", resource_type = "encrypt-resource", resource = new { ciphertext = "x", nonce = "y" } }),
        };
        forged.Headers.Add("Wechatpay-Timestamp", WechatPayCrypto.UnixSeconds(DateTimeOffset.UtcNow));
        forged.Headers.Add("Wechatpay-Nonce", "n");
        forged.Headers.Add("Wechatpay-Serial", "PUB_KEY_ID_FORGED");
        forged.Headers.Add("Wechatpay-Signature", Convert.ToBase64String(new byte[256]));
        var answer = await f.Api.SendAsync(forged);
        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.Equal("FAIL", (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal("transferring", await StatusAsync(id));
        Assert.Equal((7000L, 3000L, 0L), await _kit.BalanceAsync(user));
        Assert.NotNull(outBillNo);
    }
}
