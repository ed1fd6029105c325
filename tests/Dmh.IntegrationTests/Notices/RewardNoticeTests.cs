using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.Contracts;
using Dmh.Ingress.Notices;
using Dmh.Ingress.Security;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.IntegrationTests.Settlement;
using Dmh.IntegrationTests.WechatPay;
using Dmh.Platform.Database;
using Dmh.Platform.Redis;
using Dmh.Platform.Streams;
using Dmh.Settlement.Notices;
using Dmh.Settlement.Settling;
using Dmh.WechatPay;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.Notices;

/// <summary>
/// Issue 18's notices against the real servers and the simulator: Settlement settles a payment, its
/// sweeper publishes RewardChanged, Ingress's notifier sends the WeChat subscribe notice (or the SMS)
/// to the simulator. Each test has its own database and Redis prefix; the simulator is shared.
/// </summary>
public sealed class RewardNoticeTests(NoticeSimulatorFixture f) : IClassFixture<NoticeSimulatorFixture>, IAsyncLifetime
{
    private const string Template = "TMPL_reward-changed_01";
    private const string SmsTemplate = "2000001";

    private readonly List<IAsyncDisposable> _hosts = [];
    private readonly List<IHost> _workers = [];
    private TestDatabase _db = null!;
    private ConnectionMultiplexer _redis = null!;
    private SettlementKit _kit = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        _kit = new SettlementKit(_db, _redis, TestKeys.NewRedisPrefix());
    }

    public async Task DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.StopAsync();
            worker.Dispose();
        }

        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        await _kit.DeleteKeysAsync();
        await _redis.GetDatabase().KeyDeleteAsync(_kit.Prefix + StreamNames.RewardChanged);
        await _redis.DisposeAsync();
        await _db.DisposeAsync();
    }

    /// <summary>An Ingress with the notifier on (unless <paramref name="notifier"/> is false), pointed at the simulator for WeChat and SMS.</summary>
    private ServiceFactory<Dmh.Ingress.EntryPoint> Ingress(bool notifier = true, Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>(f.IngressSettings)
        {
            ["Public:BaseUrl"] = "https://act.example.com",
            ["Notices:Enabled"] = notifier ? "true" : "false",
            ["Notices:Wechat:TemplateId"] = Template,
            ["Notices:Sms:TemplateId"] = SmsTemplate,
            ["Notices:RetryDelay"] = "00:00:00.200",
            ["Notices:MaxRetryDelay"] = "00:00:01",
            ["Notices:SweepInterval"] = "00:00:00.050",
            ["Notices:Consumer:ClaimIdle"] = "00:00:01",
            ["Notices:Consumer:ClaimInterval"] = "00:00:00.100",
            ["Notices:Consumer:PollInterval"] = "00:00:00.005",
            ["Sms:Provider"] = "tencent",
            ["Sms:Tencent:Endpoint"] = f.SimUrl,
            ["Sms:Tencent:AllowInsecureHttp"] = "true",
            ["Sms:Tencent:SecretId"] = "AKIDdmhLocalSimulatorKey00000000000",
            ["Sms:Tencent:SecretKey"] = WechatPayFixture.SmsSecretKey,
            ["Sms:Tencent:SdkAppId"] = "1400000001",
            ["Sms:Tencent:SignName"] = "DMH",
            ["Sms:Tencent:TemplateId"] = "1000001",
            ["Sms:Tencent:RetryDelay"] = "00:00:00.010",
        };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        var host = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, _kit.Prefix, settings);
        _hosts.Add(host);
        _ = host.Services; // starts the hosted services (the notifier)
        return host;
    }

    /// <summary>A settlement worker as Program.cs wires it, with the reward-change sweeper every 100 ms.</summary>
    private async Task<IHost> SettlementAsync()
    {
        var settings = _kit.Settings("settlement-notices");
        settings["Notices:Sweeper:Interval"] = "00:00:00.100";
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddDmhDatabase();
        builder.AddDmhRedis();
        builder.AddSettlement();
        builder.AddWechatPay();
        builder.AddStreamConsumer<PaymentSettlementHandler>("Settlement:Consumer", StreamNames.Payments, GroupNames.Settlement);
        builder.AddRewardChanges();
        var host = builder.Build();
        await host.StartAsync();
        _workers.Add(host);
        return host;
    }

    /// <summary>A referrer (with an openid), a campaign paying ¥10 per referral, and a friend's paid order; returns the referrer and the order.</summary>
    private async Task<(long Referrer, string Openid, string Phone, long Campaign, long Order)> SettleRewardAsync(bool campaignSms = false, long? campaign = null)
    {
        var campaignId = campaign ?? await _kit.CampaignAsync(fixedYuan: 10m);
        await _kit.ScalarAsync<int>("UPDATE campaigns SET notice_sms = @sms, name = '春季训练营' WHERE id = @campaignId", new { sms = campaignSms, campaignId });
        var referrer = await _kit.ParticipantAsync();
        var openid = "o" + Guid.NewGuid().ToString("N")[..20];
        await _kit.ScalarAsync<int>("UPDATE participants SET openid = @openid WHERE id = @referrer", new { openid, referrer });
        var phone = await _kit.ScalarAsync<string>("SELECT phone FROM participants WHERE id = @referrer", new { referrer });
        var friend = await _kit.ParticipantAsync();
        var (orderId, outTradeNo) = await _kit.OrderAsync(campaignId, friend, referrer, 9900);
        await _kit.PublishAsync(SettlementKit.Payment(outTradeNo, 9900));
        return (referrer, openid, phone, campaignId, orderId);
    }

    private static HttpClient WithBearer(HttpClient client, string token)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private async Task SubscribeAsync(ServiceFactory<Dmh.Ingress.EntryPoint> ingress, long participant, string openid)
    {
        var session = ingress.Services.GetRequiredService<TokenService>().IssueWechatSession(openid, participant).Token;
        using var client = WithBearer(ingress.CreateClient(), session);
        var accepted = await client.PostAsJsonAsync("/api/v1/me/notice-subscription", new { templateId = Template });
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
    }

    private async Task<List<JsonElement>> MessagesAsync(string openid) =>
        await f.Sim.GetFromJsonAsync<List<JsonElement>>("/sim/subscribe/messages?openid=" + openid) ?? [];

    private async Task<List<JsonElement>> SmsAsync(string phone) =>
        (await f.Sim.GetFromJsonAsync<List<JsonElement>>("/sim/sms") ?? [])
            .Where(m => m.GetProperty("phoneNumber").GetString() == "+86" + phone).ToList();

    private Task<string?> NoticeStatusAsync(long referrer) =>
        _kit.ScalarAsync<string?>("SELECT status FROM reward_notices WHERE user_id = @referrer AND kind = 'credit'", new { referrer });

    private async Task<RedisValue> RepublishAsync(long referrer)
    {
        var notice = await _kit.ScalarAsync<long>("SELECT ledger_id FROM reward_notices WHERE user_id = @referrer", new { referrer });
        var change = new RewardChanged(notice, referrer, RewardChangeKinds.Credit, 1000, null, DateTimeOffset.UtcNow);
        return await _kit.Redis.StreamAddAsync(_kit.Prefix + StreamNames.RewardChanged, StreamPublisher.ToFields(new Envelope(
            MessageTypes.RewardChanged, 1, change.Key, JsonSerializer.Serialize(change, StreamPublisher.Json), DateTimeOffset.UtcNow)));
    }

    [Fact]
    public async Task A_settled_reward_sends_one_subscribe_notice_also_after_redelivery_and_a_notifier_restart()
    {
        var ingress = Ingress();
        await SettlementAsync();
        var (referrer, openid, _, _, _) = await WithSubscriptionAsync(ingress);

        await SettlementKit.WaitUntilAsync(async () => await NoticeStatusAsync(referrer) == "sent", 30);
        var messages = await MessagesAsync(openid);
        var message = Assert.Single(messages);
        Assert.Equal(Template, message.GetProperty("templateId").GetString());
        Assert.Equal("https://act.example.com/h5/#/pages/rewards/index", message.GetProperty("page").GetString());
        var data = message.GetProperty("data");
        Assert.Equal("推荐奖励到账", data.GetProperty("thing1").GetString());
        Assert.Equal("10.00元", data.GetProperty("amount2").GetString());
        Assert.Equal("春季训练营", data.GetProperty("thing3").GetString());
        Assert.Matches(@"^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$", data.GetProperty("time4").GetString());
        // The one-time consent is used up.
        Assert.Equal(0, await _kit.ScalarAsync<long>("SELECT COUNT(*) FROM notice_subscriptions WHERE participant_id = @referrer AND ledger_id IS NULL", new { referrer }));

        // The same event delivered again, then the notifier restarted and the event delivered once more.
        await RepublishAsync(referrer);
        await Task.Delay(500);
        await ingress.DisposeAsync();
        _hosts.Remove(ingress);
        Ingress();
        var last = await RepublishAsync(referrer);
        await SettlementKit.WaitUntilAsync(async () =>
            (await _kit.Redis.StreamGroupInfoAsync(_kit.Prefix + StreamNames.RewardChanged)).Single().LastDeliveredId == (string?)last
            && (await _kit.Redis.StreamPendingAsync(_kit.Prefix + StreamNames.RewardChanged, GroupNames.Notifier)).PendingMessageCount == 0, 30);

        Assert.Single(await MessagesAsync(openid));
        Assert.Equal(1, await _kit.ScalarAsync<int>("SELECT attempts FROM reward_notices WHERE user_id = @referrer", new { referrer }));
        Assert.Equal("wechat", await _kit.ScalarAsync<string>("SELECT channel FROM reward_notices WHERE user_id = @referrer", new { referrer }));
    }

    /// <summary>Settles a reward for a referrer who accepted one notice before it settled.</summary>
    private async Task<(long Referrer, string Openid, string Phone, long Campaign, long Order)> WithSubscriptionAsync(ServiceFactory<Dmh.Ingress.EntryPoint> ingress)
    {
        var campaign = await _kit.CampaignAsync(fixedYuan: 10m);
        var referrer = await _kit.ParticipantAsync();
        var openid = "o" + Guid.NewGuid().ToString("N")[..20];
        await _kit.ScalarAsync<int>("UPDATE participants SET openid = @openid WHERE id = @referrer", new { openid, referrer });
        await _kit.ScalarAsync<int>("UPDATE campaigns SET name = '春季训练营' WHERE id = @campaign", new { campaign });
        await SubscribeAsync(ingress, referrer, openid);
        var friend = await _kit.ParticipantAsync();
        var (orderId, outTradeNo) = await _kit.OrderAsync(campaign, friend, referrer, 9900);
        await _kit.PublishAsync(SettlementKit.Payment(outTradeNo, 9900));
        var phone = await _kit.ScalarAsync<string>("SELECT phone FROM participants WHERE id = @referrer", new { referrer });
        return (referrer, openid, phone, campaign, orderId);
    }

    [Fact]
    public async Task Without_a_subscription_the_campaign_setting_chooses_sms_or_nothing()
    {
        var ingress = Ingress();
        await SettlementAsync();
        using var admin = WithBearer(ingress.CreateClient(), await AdminLogin.TokenAsync(ingress.Services, "operator"));
        var smsCampaign = await _kit.CampaignAsync(fixedYuan: 10m);
        var put = await admin.PutAsJsonAsync($"/api/v1/campaigns/{smsCampaign}/notice-settings", new { sms = true });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.True((await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sms").GetBoolean());

        var bySms = await SettleRewardAsync(campaignSms: true, campaign: smsCampaign);
        var silent = await SettleRewardAsync(campaignSms: false);

        await SettlementKit.WaitUntilAsync(async () => await NoticeStatusAsync(bySms.Referrer) == "sent" && await NoticeStatusAsync(silent.Referrer) == "skipped", 30);
        var sms = Assert.Single(await SmsAsync(bySms.Phone));
        Assert.Equal(SmsTemplate, sms.GetProperty("templateId").GetString());
        Assert.Equal(new[] { "推荐奖励到账", "10.00元" }, sms.GetProperty("templateParams").EnumerateArray().Select(p => p.GetString()).ToArray());
        Assert.Empty(await SmsAsync(silent.Phone));
        Assert.Empty(await MessagesAsync(bySms.Openid));
        Assert.Empty(await MessagesAsync(silent.Openid));

        var list = await admin.GetFromJsonAsync<JsonElement>("/api/v1/reward-notices?status=skipped");
        var item = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal(silent.Referrer, item.GetProperty("userId").GetInt64());
        Assert.Equal("none", item.GetProperty("channel").GetString());
        Assert.Equal(1, list.GetProperty("counts").GetProperty("sent").GetInt64());
        Assert.Equal(1, list.GetProperty("counts").GetProperty("skipped").GetInt64());
        Assert.DoesNotContain(silent.Phone, list.GetRawText());
    }

    [Fact]
    public async Task Notices_no_channel_can_carry_are_skipped_together_as_one_by_one_and_the_rest_stay_for_sending()
    {
        var ingress = Ingress(notifier: false);
        var notifier = ingress.Services.GetRequiredService<RewardNotifier>();
        var silentCampaign = await _kit.CampaignAsync(fixedYuan: 10m);
        var smsCampaign = await _kit.CampaignAsync(fixedYuan: 10m);
        await _kit.ScalarAsync<int>("UPDATE campaigns SET notice_sms = (id = @smsCampaign)", new { smsCampaign });
        var subscribed = await _kit.ParticipantAsync();
        var boundEarlier = await _kit.ParticipantAsync();
        var silent = await _kit.ParticipantAsync();
        await _kit.ScalarAsync<int>("""
            INSERT INTO notice_subscriptions (participant_id, openid, template_id, accepted_at, ledger_id) VALUES
                (@subscribed, 'o-open', @Template, NOW(3), NULL), (@boundEarlier, 'o-bound', @Template, NOW(3), 2),
                (@silent, 'o-other-template', 'TMPL_other', NOW(3), NULL)
            """, new { subscribed, boundEarlier, silent, Template });
        // ledger 1: an open consent; 2: the consent an earlier try took; 3: the campaign sends SMS;
        // 4: nothing (a consent for another template does not count); 5: a payout (SMS for payouts off); 6: already sent.
        await _kit.ScalarAsync<int>("""
            INSERT INTO reward_notices (ledger_id, user_id, kind, amount_fen, campaign_id, ledger_created_at, status) VALUES
                (1, @subscribed, 'credit', 1000, @silentCampaign, NOW(3), 'pending'), (2, @boundEarlier, 'credit', 1000, @silentCampaign, NOW(3), 'pending'),
                (3, @silent, 'credit', 1000, @smsCampaign, NOW(3), 'pending'), (4, @silent, 'credit', 1000, @silentCampaign, NOW(3), 'pending'),
                (5, @silent, 'payout', 1000, NULL, NOW(3), 'pending'), (6, @silent, 'credit', 1000, @silentCampaign, NOW(3), 'sent')
            """, new { subscribed, boundEarlier, silent, silentCampaign, smsCampaign });

        var left = await notifier.SkipUnreachableAsync([1, 2, 3, 4, 5, 6, 7], default);

        Assert.Equal(new long[] { 1, 2, 3 }, left);
        await using var connection = _db.OpenConnection();
        var rows = (await connection.QueryAsync<(long Id, string Status, string? Channel, int Attempts, string? Error)>(
            "SELECT ledger_id, status, channel, attempts, last_error FROM reward_notices ORDER BY ledger_id")).ToList();
        Assert.Equal((4L, "skipped", "none", 1, "no WeChat subscription; SMS not allowed for this campaign"), rows[3]);
        Assert.Equal((5L, "skipped", "none", 1, "no WeChat subscription; SMS not allowed for this campaign"), rows[4]);
        Assert.All(rows.Take(3), r => Assert.Equal(("pending", 0), (r.Status, r.Attempts)));
        Assert.Equal(("sent", 0), (rows[5].Status, rows[5].Attempts));
    }

    [Fact]
    public async Task A_failing_send_is_retried_after_a_pause_and_then_sent_once()
    {
        var ingress = Ingress();
        // The next two sends answer "system busy".
        var faults = await f.Sim.PostAsJsonAsync("/sim/subscribe/faults", new { errcode = -1, count = 2 });
        faults.EnsureSuccessStatusCode();
        await SettlementAsync();
        var (referrer, openid, _, _, _) = await WithSubscriptionAsync(ingress);

        await SettlementKit.WaitUntilAsync(async () => await NoticeStatusAsync(referrer) == "sent", 30);
        Assert.Single(await MessagesAsync(openid));
        Assert.Equal(3, await _kit.ScalarAsync<int>("SELECT attempts FROM reward_notices WHERE user_id = @referrer", new { referrer }));
        Assert.Null(await _kit.ScalarAsync<string?>("SELECT last_error FROM reward_notices WHERE user_id = @referrer", new { referrer }));
    }

    [Fact]
    public async Task Settlement_does_not_wait_for_the_notifier()
    {
        // No notifier runs: settlement and the sweeper go on alone.
        var ingress = Ingress(notifier: false);
        await SettlementAsync();
        var (referrer, openid, _, _, orderId) = await WithSubscriptionAsync(ingress);

        await SettlementKit.WaitUntilAsync(async () => await _kit.ScalarAsync<string>("SELECT pay_status FROM orders WHERE id = @orderId", new { orderId }) == "paid", 30);
        await SettlementKit.WaitUntilAsync(async () => await _kit.ScalarAsync<long>("SELECT COUNT(*) FROM reward_notices WHERE user_id = @referrer AND published_at IS NOT NULL", new { referrer }) == 1, 30);
        Assert.Equal(1000, await _kit.ScalarAsync<long>("SELECT total_earned_fen FROM user_balances WHERE user_id = @referrer", new { referrer }));
        Assert.Equal("pending", await NoticeStatusAsync(referrer));
        Assert.Empty(await MessagesAsync(openid));

        // The notifier starts later and catches up.
        Ingress();
        await SettlementKit.WaitUntilAsync(async () => await NoticeStatusAsync(referrer) == "sent", 30);
        Assert.Single(await MessagesAsync(openid));
    }

    [Fact]
    public async Task A_ledger_row_that_commits_after_a_later_one_is_still_announced_once()
    {
        var settlement = await SettlementAsync();
        var sweeper = settlement.Services.GetRequiredService<RewardChangeSweeper>();
        var user = await _kit.ParticipantAsync();
        await using var slow = await _db.DataSource.OpenConnectionAsync();
        await using var tx = await slow.BeginTransactionAsync();
        // An id handed out first, committed last.
        await slow.ExecuteAsync("""
            INSERT INTO reward_ledger (user_id, kind, available_delta_fen, earned_delta_fen, business_key, created_at)
            VALUES (@user, 'credit', 500, 500, 'test:early', UTC_TIMESTAMP(3))
            """, new { user }, tx);
        await _kit.ScalarAsync<int>("""
            INSERT INTO reward_ledger (user_id, kind, available_delta_fen, earned_delta_fen, business_key, created_at) VALUES (@user, 'credit', 700, 700, 'test:late', UTC_TIMESTAMP(3));
            INSERT INTO reward_ledger (user_id, kind, available_delta_fen, business_key, created_at) VALUES (@user, 'unfreeze', 0, 'test:unfreeze', UTC_TIMESTAMP(3));
            """, new { user });
        await SettlementKit.WaitUntilAsync(async () => await _kit.ScalarAsync<long>("SELECT COUNT(*) FROM reward_notices WHERE user_id = @user", new { user }) == 1);

        await tx.CommitAsync();
        await SettlementKit.WaitUntilAsync(async () => (await ChangesAsync(user)).Count == 2);
        await sweeper.SweepAsync(CancellationToken.None);

        var amounts = (await slow.QueryAsync<long>("SELECT amount_fen FROM reward_notices WHERE user_id = @user ORDER BY ledger_id", new { user })).ToList();
        Assert.Equal(new List<long> { 500, 700 }, amounts);
        var events = await ChangesAsync(user);
        Assert.Equal(2, events.Count);
        Assert.Equal(2, events.Select(e => e.LedgerId).Distinct().Count());
    }

    [Fact]
    public async Task A_change_whose_publish_failed_goes_out_with_the_next_sweep_and_a_restarted_sweeper_announces_nothing_twice()
    {
        // The stream's key holds a string: every XADD to it fails (WRONGTYPE).
        await _kit.Redis.StringSetAsync(_kit.Prefix + StreamNames.RewardChanged, "not a stream");
        var first = await SettlementAsync();
        var user = await _kit.ParticipantAsync();
        await _kit.ScalarAsync<int>("""
            INSERT INTO reward_ledger (user_id, kind, available_delta_fen, earned_delta_fen, business_key, created_at)
            VALUES (@user, 'credit', 800, 800, 'test:publish-fails', UTC_TIMESTAMP(3))
            """, new { user });

        // Recorded, stamped as published with the insert, then the stamp cleared when the publish failed.
        await SettlementKit.WaitUntilAsync(async () => await _kit.ScalarAsync<long>(
            "SELECT COUNT(*) FROM reward_notices WHERE user_id = @user AND status = 'pending' AND published_at IS NULL", new { user }) == 1);
        await _kit.Redis.KeyDeleteAsync(_kit.Prefix + StreamNames.RewardChanged);
        await SettlementKit.WaitUntilAsync(async () => (await ChangesAsync(user)).Count == 1
            && await _kit.ScalarAsync<long>("SELECT COUNT(*) FROM reward_notices WHERE user_id = @user AND published_at IS NOT NULL", new { user }) == 1);

        // A new process reads the ledger back over its lookback: the row is recorded already, so it is not announced again.
        await first.StopAsync();
        var second = await SettlementAsync();
        await second.Services.GetRequiredService<RewardChangeSweeper>().SweepAsync(CancellationToken.None);
        await Task.Delay(500);
        Assert.Single(await ChangesAsync(user));
    }

    private async Task<List<RewardChanged>> ChangesAsync(long user) =>
        (await _kit.Redis.StreamRangeAsync(_kit.Prefix + StreamNames.RewardChanged))
            .Select(e => JsonSerializer.Deserialize<RewardChanged>(StreamPublisher.FromFields(e.Values).Payload, StreamPublisher.Json)!)
            .Where(e => e.UserId == user).ToList();

    [Fact]
    public async Task Only_a_wechat_session_records_a_consent_for_the_configured_template()
    {
        var ingress = Ingress(notifier: false);
        var participant = await _kit.ParticipantAsync();
        var tokens = ingress.Services.GetRequiredService<TokenService>();
        using var sms = WithBearer(ingress.CreateClient(), tokens.IssueParticipant(participant).Token);
        using var wechat = WithBearer(ingress.CreateClient(), tokens.IssueWechatSession("o-consent-test", participant).Token);

        var state = await sms.GetFromJsonAsync<JsonElement>("/api/v1/me/notice-subscription");
        Assert.Equal(Template, state.GetProperty("templateId").GetString());
        Assert.False(state.GetProperty("canSubscribe").GetBoolean());
        var fromSms = await sms.PostAsJsonAsync("/api/v1/me/notice-subscription", new { templateId = Template });
        Assert.Equal(HttpStatusCode.Conflict, fromSms.StatusCode);
        Assert.EndsWith("/wechat-session-required", (await fromSms.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
        var wrong = await wechat.PostAsJsonAsync("/api/v1/me/notice-subscription", new { templateId = "someone-elses" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrong.StatusCode);
        using var anonymous = ingress.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/v1/me/notice-subscription", new { templateId = Template })).StatusCode);
        Assert.Equal(0, await _kit.ScalarAsync<long>("SELECT COUNT(*) FROM notice_subscriptions"));

        Assert.Equal(HttpStatusCode.Created, (await wechat.PostAsJsonAsync("/api/v1/me/notice-subscription", new { templateId = Template })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await wechat.PostAsJsonAsync("/api/v1/me/notice-subscription", new { templateId = Template })).StatusCode);
        var after = await wechat.GetFromJsonAsync<JsonElement>("/api/v1/me/notice-subscription");
        Assert.True(after.GetProperty("canSubscribe").GetBoolean());
        Assert.Equal(2, after.GetProperty("available").GetInt64());
        Assert.Equal("o-consent-test", await _kit.ScalarAsync<string>("SELECT DISTINCT openid FROM notice_subscriptions"));
    }
}
