using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.Contracts;
using Dmh.Ingress.Payments;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.Platform.Streams;
using Dmh.WechatPay;
using Microsoft.Extensions.DependencyInjection;

namespace Dmh.IntegrationTests.WechatPay;

/// <summary>
/// Pay → simulator → signed notify → Ingress → payments stream, with the production verification code
/// against the simulator's own key, and every fault the simulator can inject.
/// </summary>
public sealed class WechatPayFlowTests(WechatPayFixture f) : IClassFixture<WechatPayFixture>
{
    private sealed record PayAnswer(string OutTradeNo, JsonElement? Jsapi, string? H5Url);

    private sealed record Delivery(int Attempt, string Event, string Fault, int Status);

    private sealed record NotifyAnswer(List<Delivery> Deliveries);

    private async Task<(long OrderId, PayAnswer Pay)> PrepayH5Async()
    {
        var orderId = await f.CreateOrderAsync();
        var response = await f.PayAsync(orderId, new { channel = "h5" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (orderId, (await response.Content.ReadFromJsonAsync<PayAnswer>())!);
    }

    private async Task<List<Delivery>> NotifyAsync(object command)
    {
        var response = await f.Sim.PostAsJsonAsync("/sim/notify", command);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<NotifyAnswer>())!.Deliveries;
    }

    private async Task PayAtSimulatorAsync(string outTradeNo, string fault = "none", int count = 1)
    {
        var response = await f.Sim.PostAsJsonAsync("/sim/pay", new { outTradeNo, fault, count });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task H5_pay_page_confirm_sends_a_notify_that_lands_in_the_payments_stream()
    {
        var (orderId, pay) = await PrepayH5Async();
        Assert.Equal(Dmh.Ingress.Payments.PaymentStore.OutTradeNo(orderId, 1), pay.OutTradeNo);
        Assert.StartsWith(f.SimUrl + "/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx", pay.H5Url, StringComparison.Ordinal);

        var redirect = "http://127.0.0.1:5080/h5/#/pages/pay/result?orderId=" + orderId;
        var page = await f.Sim.GetStringAsync(pay.H5Url + "&redirect_url=" + Uri.EscapeDataString(redirect));
        Assert.Contains("确认支付", page, StringComparison.Ordinal);
        Assert.Contains("¥99.00", page, StringComparison.Ordinal);
        Assert.Contains("春季训练营报名费", page, StringComparison.Ordinal);

        var prepayId = new Uri(pay.H5Url!).Query.Split('&')[0].Split('=')[1];
        var confirm = await f.Sim.PostAsync("/cgi-bin/mmpayweb-bin/pay",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["prepay_id"] = prepayId, ["redirect_url"] = redirect }));
        Assert.Equal(HttpStatusCode.Redirect, confirm.StatusCode);
        Assert.Equal(redirect, confirm.Headers.Location!.ToString());

        await WechatPayFixture.WaitUntilAsync(async () => (await f.EntriesAsync(pay.OutTradeNo)).Count == 1);
        var entry = (await f.EntriesAsync(pay.OutTradeNo)).Single();
        Assert.Equal(MessageTypes.PaymentSucceeded, entry.Type);
        var message = JsonSerializer.Deserialize<PaymentSucceeded>(entry.Payload, StreamPublisher.Json)!;
        Assert.Equal(9900, message.TotalFen);
        Assert.Equal(PaymentSources.Notify, message.Source);
        Assert.StartsWith("4200", message.TransactionId, StringComparison.Ordinal);

        await using var connection = await f.Db.DataSource.OpenConnectionAsync();
        var row = await connection.QuerySingleAsync<(string Status, string H5Url, string Channel)>(
            "SELECT status, h5_url, channel FROM payments WHERE out_trade_no = @no", new { no = pay.OutTradeNo });
        Assert.Equal((PaymentStatus.Prepaid, pay.H5Url!, "h5"), row);
    }

    [Fact]
    public async Task Jsapi_pay_parameters_are_accepted_by_the_bridge_and_pay()
    {
        var orderId = await f.CreateOrderAsync();
        var response = await f.PayAsync(orderId, new { channel = "jsapi" }, await f.SignInAsync(f.Api, "oUser123"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var pay = (await response.Content.ReadFromJsonAsync<PayAnswer>())!;
        var jsapi = pay.Jsapi!.Value;
        Assert.Equal("RSA", jsapi.GetProperty("signType").GetString());
        Assert.StartsWith("prepay_id=wx", jsapi.GetProperty("package").GetString(), StringComparison.Ordinal);

        var shim = await f.Sim.GetStringAsync("/jsbridge.js");
        Assert.Contains("getBrandWCPayRequest", shim, StringComparison.Ordinal);
        var bridge = await f.Sim.PostAsync("/sim/jsapi/pay", new StringContent(jsapi.GetRawText(), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal("get_brand_wcpay_request:ok", (await bridge.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("err_msg").GetString());

        await WechatPayFixture.WaitUntilAsync(async () => (await f.EntriesAsync(pay.OutTradeNo)).Count == 1);
    }

    [Fact]
    public async Task A_forged_paySign_is_refused_by_the_bridge()
    {
        var orderId = await f.CreateOrderAsync();
        var pay = (await (await f.PayAsync(orderId, new { channel = "jsapi" }, await f.SignInAsync(f.Api, "oUser123"))).Content.ReadFromJsonAsync<PayAnswer>())!;
        var fields = JsonSerializer.Deserialize<Dictionary<string, string>>(pay.Jsapi!.Value.GetRawText())!;
        fields["timeStamp"] = "1";
        var bridge = await f.Sim.PostAsJsonAsync("/sim/jsapi/pay", fields);
        Assert.Equal(HttpStatusCode.BadRequest, bridge.StatusCode);
    }

    [Theory]
    [InlineData("signtest", 401)]
    [InlineData("stale-timestamp", 401)]
    [InlineData("unknown-serial", 401)]
    [InlineData("tampered", 401)]
    [InlineData("wrong-amount", 400)]
    public async Task Faulty_notifies_are_refused_in_wechat_format_and_publish_nothing(string fault, int status)
    {
        var (_, pay) = await PrepayH5Async();
        await PayAtSimulatorAsync(pay.OutTradeNo, fault);

        var deliveries = await NotifyAsync(new { outTradeNo = pay.OutTradeNo, fault });
        Assert.Equal(status, deliveries.Single().Status);
        Assert.Empty(await f.EntriesAsync(pay.OutTradeNo));

        // The same payment, correctly delivered, goes through once.
        Assert.Equal(204, (await NotifyAsync(new { outTradeNo = pay.OutTradeNo, fault = "none" })).Single().Status);
        Assert.Single(await f.EntriesAsync(pay.OutTradeNo));
    }

    [Fact]
    public async Task A_refused_notify_answers_the_wechat_fail_body()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders/payment/notify") { Content = new StringContent("{}") };
        var response = await f.Api.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("FAIL", body.GetProperty("code").GetString());
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Duplicate_notifies_publish_once()
    {
        var (_, pay) = await PrepayH5Async();
        await PayAtSimulatorAsync(pay.OutTradeNo);
        await WechatPayFixture.WaitUntilAsync(async () => (await f.EntriesAsync(pay.OutTradeNo)).Count == 1);

        var deliveries = await NotifyAsync(new { outTradeNo = pay.OutTradeNo, fault = "duplicate", count = 3 });
        Assert.All(deliveries, d => Assert.Equal(204, d.Status));
        Assert.Single(await f.EntriesAsync(pay.OutTradeNo));
    }

    [Fact]
    public async Task Concurrent_notifies_publish_once()
    {
        var (_, pay) = await PrepayH5Async();
        // The very first delivery is 20 at once: the dedupe and the XADD must be one step.
        await PayAtSimulatorAsync(pay.OutTradeNo, "concurrent", 20);
        await WechatPayFixture.WaitUntilAsync(async () =>
        {
            var order = await f.Sim.GetFromJsonAsync<JsonElement>($"/sim/orders/{pay.OutTradeNo}");
            return order.GetProperty("deliveries").GetArrayLength() >= 20;
        });
        var order = await f.Sim.GetFromJsonAsync<JsonElement>($"/sim/orders/{pay.OutTradeNo}");
        Assert.All(order.GetProperty("deliveries").EnumerateArray(), d => Assert.Equal(204, d.GetProperty("status").GetInt32()));
        Assert.Single(await f.EntriesAsync(pay.OutTradeNo));

        var again = await NotifyAsync(new { outTradeNo = pay.OutTradeNo, fault = "concurrent", count = 20 });
        Assert.Equal(20, again.Count(d => d.Status == 204));
        Assert.Single(await f.EntriesAsync(pay.OutTradeNo));
    }

    [Fact]
    public async Task Unknown_order_gets_5xx_then_a_retry_succeeds_once_the_order_is_stored()
    {
        var orderId = await f.CreateOrderAsync();
        var outTradeNo = Dmh.Ingress.Payments.PaymentStore.OutTradeNo(orderId, 7);
        var first = await NotifyAsync(new { outTradeNo, fault = "unknown-order", amountFen = 9900, notifyUrl = f.IngressUrl + "/api/v1/orders/payment/notify" });
        Assert.Equal(500, first.Single().Status);
        Assert.Empty(await f.EntriesAsync(outTradeNo));

        await using (var connection = await f.Db.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                "INSERT INTO payments (order_id, attempt, out_trade_no, channel, amount_fen) VALUES (@orderId, 7, @outTradeNo, 'jsapi', 9900)",
                new { orderId, outTradeNo });
        }

        await WechatPayFixture.WaitUntilAsync(async () => (await f.EntriesAsync(outTradeNo)).Count == 1);
        await WechatPayFixture.WaitUntilAsync(async () =>
        {
            var order = await f.Sim.GetFromJsonAsync<JsonElement>($"/sim/orders/{outTradeNo}");
            return order.GetProperty("deliveries").EnumerateArray().Any(d => d.GetProperty("status").GetInt32() == 204);
        });
        Assert.Single(await f.EntriesAsync(outTradeNo));
    }

    [Fact]
    public async Task The_attempt_s_amount_is_cached_at_pay_and_a_notify_without_it_is_checked_in_MySQL()
    {
        var (_, pay) = await PrepayH5Async();
        var amountKey = f.Prefix + AttemptAmounts.KeyName(pay.OutTradeNo);
        Assert.Equal(9900, (long)await f.Redis.GetDatabase().StringGetAsync(amountKey));
        var ttl = await f.Redis.GetDatabase().KeyTimeToLiveAsync(amountKey);
        Assert.InRange(ttl!.Value, AttemptAmounts.NotifyRetryWindow, AttemptAmounts.NotifyRetryWindow + TimeSpan.FromHours(1));

        // Lost from Redis (or older than the cache): MySQL still knows the attempt and its amount.
        await f.Redis.GetDatabase().KeyDeleteAsync(amountKey);
        await PayAtSimulatorAsync(pay.OutTradeNo, "wrong-amount");
        Assert.Equal(400, (await NotifyAsync(new { outTradeNo = pay.OutTradeNo, fault = "wrong-amount" })).Single().Status);
        Assert.Equal(204, (await NotifyAsync(new { outTradeNo = pay.OutTradeNo, fault = "none" })).Single().Status);
        Assert.Single(await f.EntriesAsync(pay.OutTradeNo));
    }

    [Fact]
    public async Task A_notify_for_an_already_paid_order_answers_204_without_publishing_when_MySQL_is_asked()
    {
        var (orderId, pay) = await PrepayH5Async();
        await PayAtSimulatorAsync(pay.OutTradeNo, "signtest");
        var transactionId = (await f.Sim.GetFromJsonAsync<JsonElement>($"/sim/orders/{pay.OutTradeNo}")).GetProperty("transactionId").GetString();
        await using (var connection = await f.Db.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("UPDATE orders SET status = 'paid', pay_status = 'paid', trade_no = @transactionId WHERE id = @orderId",
                new { orderId, transactionId });
        }

        // With the amount cached the notify is published (once) and settlement sees a duplicate; without it
        // the MySQL lookup already knows the order is paid.
        await f.Redis.GetDatabase().KeyDeleteAsync(f.Prefix + AttemptAmounts.KeyName(pay.OutTradeNo));
        Assert.Equal(204, (await NotifyAsync(new { outTradeNo = pay.OutTradeNo, fault = "none" })).Single().Status);
        Assert.Empty(await f.EntriesAsync(pay.OutTradeNo));
        Assert.Equal(HttpStatusCode.Conflict, (await f.PayAsync(orderId, new { channel = "h5" })).StatusCode);
    }

    [Fact]
    public async Task Callback_asks_the_provider_and_publishes_once_with_source_callback()
    {
        var (orderId, pay) = await PrepayH5Async();
        // The notify never gets through (probes only): the page's callback finds the payment.
        await PayAtSimulatorAsync(pay.OutTradeNo, "signtest");

        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders/payment/callback") { Content = JsonContent.Create(new { orderId }) };
            request.Headers.Add(OrderAccessTokens.HeaderName, f.OrderToken(orderId));
            var response = await f.Api.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            var view = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(orderId, view.GetProperty("id").GetInt64());
            Assert.Equal(9900, view.GetProperty("amountFen").GetInt64());
            Assert.Matches(@"^139\*{4}\d{4}$", view.GetProperty("phoneMasked").GetString());
            // the registrant view of GET /api/v1/orders/{id}: settlement has not run here, so still unpaid
            Assert.Equal("unpaid", view.GetProperty("payStatus").GetString());
            Assert.Equal(JsonValueKind.Null, view.GetProperty("accessToken").ValueKind);
        }

        var entry = Assert.Single(await f.EntriesAsync(pay.OutTradeNo));
        Assert.Equal(PaymentSources.Callback, JsonSerializer.Deserialize<PaymentSucceeded>(entry.Payload, StreamPublisher.Json)!.Source);
    }

    [Fact]
    public async Task Platform_certificate_mode_downloads_the_certificate_for_an_unknown_serial()
    {
        var (_, pay) = await PrepayH5Async();
        await PayAtSimulatorAsync(pay.OutTradeNo, "signtest");
        var config = await f.Sim.PostAsJsonAsync("/sim/config", new { signWith = "certificate" });
        config.EnsureSuccessStatusCode();
        try
        {
            Assert.Equal(204, (await NotifyAsync(new { outTradeNo = pay.OutTradeNo, fault = "none" })).Single().Status);
            Assert.Single(await f.EntriesAsync(pay.OutTradeNo));
        }
        finally
        {
            (await f.Sim.PostAsJsonAsync("/sim/config", new { signWith = "publickey" })).EnsureSuccessStatusCode();
        }
    }

    [Fact]
    public async Task A_full_refund_is_requested_once_a_second_is_refused_and_the_verified_notify_records_it()
    {
        var (orderId, pay) = await PrepayH5Async();
        await PayAtSimulatorAsync(pay.OutTradeNo);
        await WechatPayFixture.WaitUntilAsync(async () => (await f.EntriesAsync(pay.OutTradeNo)).Count == 1);
        var transactionId = (await f.Sim.GetFromJsonAsync<JsonElement>($"/sim/orders/{pay.OutTradeNo}")).GetProperty("transactionId").GetString();
        await using var connection = await f.Db.DataSource.OpenConnectionAsync();
        // What settlement does on the PaymentSucceeded entry.
        await connection.ExecuteAsync("UPDATE orders SET status = 'paid', pay_status = 'paid', trade_no = @transactionId WHERE id = @orderId", new { orderId, transactionId });

        var (token, _) = f.Ingress.Services.GetRequiredService<TokenService>().IssueAdmin(1, "admin", AdminRoles.Admin);
        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/orders/{orderId}/refund") { Content = JsonContent.Create(new { reason = "活动取消" }) };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            var response = await f.Api.SendAsync(request);
            if (i == 0)
            {
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
                Assert.Equal($"R{orderId}-1", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("outRefundNo").GetString());
            }
            else
            {
                // Each call is a new refund: nothing is left to refund after the full one.
                Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
                Assert.Contains("refund-exceeds-paid", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }

        await WechatPayFixture.WaitUntilAsync(async () =>
            await connection.ExecuteScalarAsync<string>("SELECT status FROM refunds WHERE order_id = @orderId", new { orderId }) == "success");
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM refunds WHERE order_id = @orderId", new { orderId }));
        Assert.Equal("refunded", await connection.ExecuteScalarAsync<string>("SELECT status FROM orders WHERE id = @orderId", new { orderId }));
        var sim = await f.Sim.GetFromJsonAsync<JsonElement>($"/sim/orders/{pay.OutTradeNo}");
        Assert.Equal(1, sim.GetProperty("refunds").GetArrayLength());

        // The refund query reconciliation uses (signed call, verified answer).
        var provider = f.Ingress.Services.GetRequiredService<IPaymentProvider>();
        var queried = await provider.QueryRefundAsync($"R{orderId}-1", default);
        Assert.Equal("SUCCESS", queried.Status);
        Assert.Equal(await connection.ExecuteScalarAsync<string>("SELECT refund_id FROM refunds WHERE order_id = @orderId", new { orderId }), queried.RefundId);
        Assert.NotNull(queried.SuccessTime);
        Assert.Equal(RefundQueryResult.NotExist, (await provider.QueryRefundAsync($"R{orderId}-9", default)).Status);
    }

    [Fact]
    public async Task Pay_refuses_bad_input_with_problems()
    {
        var orderId = await f.CreateOrderAsync();
        Assert.Equal(HttpStatusCode.BadRequest, (await f.PayAsync(orderId, new { channel = "card" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await f.PayAsync(orderId, new { channel = "jsapi" })).StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/orders/{orderId}/pay") { Content = JsonContent.Create(new { channel = "h5" }) };
        request.Headers.Add(OrderAccessTokens.HeaderName, f.OrderToken(orderId + 1));
        var forged = await f.Api.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal("application/problem+json", forged.Content.Headers.ContentType!.MediaType);
        await using var connection = await f.Db.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM payments WHERE order_id = @orderId", new { orderId }));
    }

    [Fact]
    public async Task Concurrent_pay_calls_get_distinct_attempts()
    {
        var orderId = await f.CreateOrderAsync();
        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => f.PayAsync(orderId, new { channel = "h5" })));
        Assert.All(answers, a => Assert.True(a.IsSuccessStatusCode));
        var numbers = new List<string>();
        foreach (var answer in answers)
        {
            numbers.Add((await answer.Content.ReadFromJsonAsync<PayAnswer>())!.OutTradeNo);
        }

        Assert.Equal(Enumerable.Range(1, 6).Select(i => Dmh.Ingress.Payments.PaymentStore.OutTradeNo(orderId, i)).Order(), numbers.Order());
    }

    [Fact]
    public async Task OAuth_code_is_exchanged_once_then_invalid_code()
    {
        var (code, state) = await f.AuthorizeAsync(f.Api, "oTester1");
        var login = await f.Api.PostAsJsonAsync("/api/v1/auth/wechat", new { code, state });
        Assert.True(login.IsSuccessStatusCode, await login.Content.ReadAsStringAsync());
        var session = await login.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("oTester1", session.GetProperty("openid").GetString());
        Assert.False(string.IsNullOrEmpty(session.GetProperty("sessionToken").GetString()));

        var fresh = (await f.Api.GetFromJsonAsync<JsonElement>("/api/v1/auth/wechat/state")).GetProperty("state").GetString();
        var again = await f.Api.PostAsJsonAsync("/api/v1/auth/wechat", new { code, state = fresh });
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Equal(Dmh.Ingress.Http.Problems.TypeBase + "invalid-code", (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_sign_in_link_with_someone_else_s_code_and_state_does_not_sign_in()
    {
        // Login CSRF: the attacker starts a sign-in in their own browser and sends the victim the link
        // WeChat redirected to (their code and state).
        using var attacker = f.NewBrowser();
        var (code, state) = await f.AuthorizeAsync(attacker, "oAttacker9");

        using var victim = f.NewBrowser();
        var login = await victim.PostAsJsonAsync("/api/v1/auth/wechat", new { code, state });
        Assert.Equal(HttpStatusCode.BadRequest, login.StatusCode);
        Assert.EndsWith("/invalid-state", (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());

        // Even a victim who holds a state of their own (a sign-in in progress) is not signed in.
        await victim.GetAsync("/api/v1/auth/wechat/state");
        Assert.Equal(HttpStatusCode.BadRequest, (await victim.PostAsJsonAsync("/api/v1/auth/wechat", new { code, state })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await victim.PostAsJsonAsync("/api/v1/auth/wechat", new { code })).StatusCode);

        // The code itself was never exchanged: the attacker's own browser still signs in with it.
        Assert.True((await attacker.PostAsJsonAsync("/api/v1/auth/wechat", new { code, state })).IsSuccessStatusCode);
    }

    [Fact]
    public async Task A_state_is_accepted_once()
    {
        using var browser = f.NewBrowser();
        var (code, state) = await f.AuthorizeAsync(browser, "oTester3");
        Assert.True((await browser.PostAsJsonAsync("/api/v1/auth/wechat", new { code, state })).IsSuccessStatusCode);

        var (code2, _) = await f.AuthorizeAsync(browser, "oTester3");
        var replay = await browser.PostAsJsonAsync("/api/v1/auth/wechat", new { code = code2, state });
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.EndsWith("/invalid-state", (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Jsapi_pay_takes_the_openid_of_the_session_never_the_body()
    {
        var orderId = await f.CreateOrderAsync();
        var withoutSession = await f.PayAsync(orderId, new { channel = "jsapi", openid = "oSomeoneElse" });
        Assert.Equal(HttpStatusCode.Unauthorized, withoutSession.StatusCode);
        Assert.EndsWith("/wechat-session-required", (await withoutSession.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());

        var session = await f.SignInAsync(f.Api, "oPayer1");
        var paid = await f.PayAsync(orderId, new { channel = "jsapi", openid = "oSomeoneElse" }, session);
        Assert.True(paid.IsSuccessStatusCode, await paid.Content.ReadAsStringAsync());
        await using var connection = await f.Db.DataSource.OpenConnectionAsync();
        Assert.Equal(["oPayer1"], await connection.QueryAsync<string>("SELECT openid FROM payments WHERE order_id = @orderId", new { orderId }));
        var simOrder = await f.Sim.GetFromJsonAsync<JsonElement>($"/sim/orders/{(await paid.Content.ReadFromJsonAsync<PayAnswer>())!.OutTradeNo}");
        Assert.Equal("oPayer1", simOrder.GetProperty("openId").GetString());
    }

    [Fact]
    public async Task An_openid_posted_with_a_registration_does_not_make_wechat_sign_in_the_victim()
    {
        long campaignId;
        await using (var connection = await f.Db.DataSource.OpenConnectionAsync())
        {
            campaignId = await connection.ExecuteScalarAsync<long>("""
                INSERT INTO campaigns (name, price, status, form_fields) VALUES ('秋季训练营', 9.90, 'published', '{"type":"object","properties":{"name":{"type":"string"}}}');
                SELECT LAST_INSERT_ID();
                """);
        }

        const string victimPhone = "13812345678";
        var registered = await f.NewBrowser().PostAsJsonAsync("/api/v1/orders",
            new { campaignId, phone = victimPhone, formData = new { name = "受害者" }, openid = "oAttacker7" });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);

        using var attacker = f.NewBrowser();
        var (code, state) = await f.AuthorizeAsync(attacker, "oAttacker7");
        var login = await attacker.PostAsJsonAsync("/api/v1/auth/wechat", new { code, state });
        Assert.True(login.IsSuccessStatusCode, await login.Content.ReadAsStringAsync());
        var session = await login.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Null, session.GetProperty("participantId").ValueKind);

        using var rewards = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me/rewards");
        rewards.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", session.GetProperty("sessionToken").GetString());
        Assert.NotEqual(HttpStatusCode.OK, (await attacker.SendAsync(rewards)).StatusCode);
    }

    [Fact]
    public async Task Pay_refuses_an_ended_or_disabled_campaign()
    {
        foreach (var change in new[] { "end_time = NOW(3) - INTERVAL 1 MINUTE", "status = 'disabled'" })
        {
            var orderId = await f.CreateOrderAsync();
            await using var connection = await f.Db.DataSource.OpenConnectionAsync();
            await connection.ExecuteAsync($"UPDATE campaigns SET {change} WHERE id = (SELECT campaign_id FROM orders WHERE id = @orderId)", new { orderId });

            var response = await f.PayAsync(orderId, new { channel = "h5" });
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.EndsWith("/campaign-not-live", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
            Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM payments WHERE order_id = @orderId", new { orderId }));
        }
    }

    [Fact]
    public async Task OAuth_redirect_puts_code_before_a_hash_route_and_keeps_the_route()
    {
        const string page = "http://127.0.0.1:5080/h5/#/pages/campaign/index?id=9&c_id=wx_menu";
        var authorize = await f.Sim.GetAsync($"/connect/oauth2/authorize?appid={WechatPayTestKeys.AppId}&redirect_uri={Uri.EscapeDataString(page)}&response_type=code&scope=snsapi_base&state=xyz&sim_openid=oTester2");

        Assert.Equal(HttpStatusCode.Redirect, authorize.StatusCode);
        var location = authorize.Headers.Location!;
        Assert.Equal("/h5/", location.AbsolutePath);
        var query = System.Web.HttpUtility.ParseQueryString(location.Query);
        Assert.StartsWith("SIM", query["code"]);
        Assert.Equal("xyz", query["state"]);
        Assert.Equal("#/pages/campaign/index?id=9&c_id=wx_menu", location.Fragment);
    }

    [Fact]
    public async Task A_snapshot_user_is_not_a_login()
    {
        var (code, state) = await f.AuthorizeAsync(f.Api, "", "&sim_snapshot=1");
        var login = await f.Api.PostAsJsonAsync("/api/v1/auth/wechat", new { code, state });
        Assert.Equal(HttpStatusCode.Forbidden, login.StatusCode);
        Assert.Equal(Dmh.Ingress.Http.Problems.TypeBase + "snapshot-user", (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task H5_config_names_the_app_the_authorize_page_and_the_simulator_shim()
    {
        var config = await f.Api.GetFromJsonAsync<JsonElement>("/api/v1/h5/config");
        Assert.Equal(WechatPayTestKeys.AppId, config.GetProperty("wechatAppId").GetString());
        Assert.Equal(f.SimUrl + "/connect/oauth2/authorize", config.GetProperty("oauthAuthorizeUrl").GetString());
        Assert.Equal(f.SimUrl + "/jsbridge.js", config.GetProperty("jsBridgeShimUrl").GetString());
    }

    [Fact]
    public async Task A_notify_that_cannot_be_made_durable_answers_5xx_and_the_retry_publishes()
    {
        var (_, pay) = await PrepayH5Async();
        var settings = new Dictionary<string, string?>(f.IngressSettings)
        {
            // Nothing listens on port 1: the XADD cannot happen.
            ["Redis:Configuration"] = "127.0.0.1:1,connectTimeout=200,asyncTimeout=500,syncTimeout=500",
        };
        await using (var broken = new ServiceFactory<Dmh.Ingress.EntryPoint>(f.Db, f.Prefix, settings))
        {
            using var client = broken.CreateClient();
            using var notify = f.SignedNotify(pay.OutTradeNo, 9900);
            var response = await client.SendAsync(notify);
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            Assert.Equal("FAIL", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }

        Assert.Empty(await f.EntriesAsync(pay.OutTradeNo));
        using var retry = f.SignedNotify(pay.OutTradeNo, 9900);
        Assert.Equal(HttpStatusCode.NoContent, (await f.Api.SendAsync(retry)).StatusCode);
        var entry = Assert.Single(await f.EntriesAsync(pay.OutTradeNo));
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 10, 0, 0, 123, TimeSpan.Zero),
            JsonSerializer.Deserialize<PaymentSucceeded>(entry.Payload, StreamPublisher.Json)!.SuccessTime);
    }
}
