using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dmh.Contracts;
using Dmh.Ingress.Payments;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.IntegrationTests.Settlement;
using Dmh.Platform.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.Foundation;

/// <summary>
/// The Redis ACL users of redis/users.acl (issue 15, M5), created for this class's key prefix: each
/// service may run what it needs on its own keys and nothing else, and the default user is off.
/// </summary>
public sealed class RedisAclTests : IAsyncLifetime
{
    // What StackExchange.Redis probes at connect and carries on without.
    private static readonly HashSet<string> ConnectProbes = ["info", "config|get", "cluster|nodes", "cluster|slots", "client|id", "client|setinfo"];

    private readonly string _prefix = TestKeys.NewRedisPrefix();
    private TestDatabase _db = null!;
    private ConnectionMultiplexer _admin = null!;
    private RedisAclUsers _users = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _admin = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        _users = await RedisAclUsers.CreateAsync(_admin, _prefix);
    }

    public async Task DisposeAsync()
    {
        await _admin.GetDatabase().KeyDeleteAsync([Key(StreamNames.Payments), Key(StreamNames.Sync), Key(StreamNames.Track), Key(StreamNames.DeadLetters), Key(StreamNames.RewardChanged)]);
        await _users.DisposeAsync();
        await _admin.DisposeAsync();
        await _db.DisposeAsync();
    }

    private RedisKey Key(string name) => _prefix + name;

    [Fact]
    public async Task Without_credentials_no_command_runs()
    {
        var options = ConfigurationOptions.Parse(TestEnvironment.Redis);
        options.User = null;
        options.Password = null;
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 2000;
        await using var anonymous = await ConnectionMultiplexer.ConnectAsync(options);
        await Assert.ThrowsAnyAsync<RedisException>(() => anonymous.GetDatabase().StringGetAsync(Key("anything")));
    }

    [Fact]
    public async Task Ingress_may_add_payments_but_cannot_read_trim_or_delete_the_stream()
    {
        await _admin.GetDatabase().StreamCreateConsumerGroupAsync(Key(StreamNames.Payments), GroupNames.Settlement, StreamPosition.Beginning, createStream: true);
        await using var ingress = await _users.ConnectAsync("ingress");
        var db = ingress.GetDatabase();

        await db.StreamAddAsync(Key(StreamNames.Payments), "type", "x");
        await db.StreamAddAsync(Key(StreamNames.Sync), "type", "x");
        await AssertNoPermAsync(() => db.StreamReadGroupAsync(Key(StreamNames.Payments), GroupNames.Settlement, "thief", StreamPosition.NewMessages, 10));
        await AssertNoPermAsync(() => db.KeyDeleteAsync(Key(StreamNames.Payments)));
        await AssertNoPermAsync(() => db.ExecuteAsync("DEL", Key(StreamNames.Payments)));
        await AssertNoPermAsync(() => db.StreamRangeAsync(Key(StreamNames.Payments)));
        await AssertNoPermAsync(() => db.StreamTrimAsync(Key(StreamNames.Payments), 0));
        await AssertNoPermAsync(() => db.StreamAcknowledgeAsync(Key(StreamNames.Payments), GroupNames.Settlement, "0-1"));
        await AssertNoPermAsync(() => db.KeyExpireAsync(Key(StreamNames.Payments), TimeSpan.FromSeconds(1)));
        // Nor through a script.
        var scripted = await Assert.ThrowsAsync<RedisServerException>(() => db.ScriptEvaluateAsync("return redis.call('DEL', KEYS[1])", [Key(StreamNames.Payments)]));
        Assert.Contains("can't access at least one of the keys", scripted.Message, StringComparison.Ordinal);
        Assert.Equal(1, await _admin.GetDatabase().StreamLengthAsync(Key(StreamNames.Payments)));
    }

    [Fact]
    public async Task Settlement_consumes_payments_but_cannot_add_to_or_delete_the_stream()
    {
        await _admin.GetDatabase().StreamAddAsync(Key(StreamNames.Payments), "type", "x");
        await using var settlement = await _users.ConnectAsync("settlement");
        var db = settlement.GetDatabase();

        await AssertNoPermAsync(() => db.StreamAddAsync(Key(StreamNames.Payments), "type", "forged"));
        await AssertNoPermAsync(() => db.KeyDeleteAsync(Key(StreamNames.Payments)));
        await AssertNoPermAsync(() => db.StringSetAsync(Key("sms:code:13800000000"), "x"));
        await db.StreamCreateConsumerGroupAsync(Key(StreamNames.Payments), GroupNames.Settlement, StreamPosition.Beginning, createStream: true);
        var read = await db.StreamReadGroupAsync(Key(StreamNames.Payments), GroupNames.Settlement, "s1", StreamPosition.NewMessages, 10);
        Assert.Single(read);
        await db.StreamAcknowledgeAsync(Key(StreamNames.Payments), GroupNames.Settlement, read[0].Id);
        await db.StreamAddAsync(Key(StreamNames.Sync), "type", "x");
        await db.StreamAddAsync(Key(StreamNames.DeadLetters), "type", "x");
        Assert.Equal(1, await _admin.GetDatabase().StreamLengthAsync(Key(StreamNames.Payments)));
    }

    [Fact]
    public async Task Settlement_publishes_reward_changes_that_Ingress_consumes_as_the_notifier()
    {
        await using var settlement = await _users.ConnectAsync("settlement");
        await using var ingress = await _users.ConnectAsync("ingress");
        await using var syncer = await _users.ConnectAsync("syncer");
        var s = settlement.GetDatabase();
        var i = ingress.GetDatabase();

        await i.StreamCreateConsumerGroupAsync(Key(StreamNames.RewardChanged), GroupNames.Notifier, StreamPosition.Beginning, createStream: true);
        await s.StreamAddAsync(Key(StreamNames.RewardChanged), "type", "x");
        await AssertNoPermAsync(() => i.StreamAddAsync(Key(StreamNames.RewardChanged), "type", "forged"));
        await AssertNoPermAsync(() => s.StreamReadGroupAsync(Key(StreamNames.RewardChanged), GroupNames.Notifier, "thief", StreamPosition.NewMessages, 10));
        await AssertNoPermAsync(() => syncer.GetDatabase().StreamAddAsync(Key(StreamNames.RewardChanged), "type", "forged"));
        await AssertNoPermAsync(() => i.KeyDeleteAsync(Key(StreamNames.RewardChanged)));
        var read = await i.StreamReadGroupAsync(Key(StreamNames.RewardChanged), GroupNames.Notifier, "n1", StreamPosition.NewMessages, 10);
        Assert.Single(read);
        await i.StreamAcknowledgeAsync(Key(StreamNames.RewardChanged), GroupNames.Notifier, read[0].Id);
        await i.StreamAddAsync(Key(StreamNames.DeadLetters), "type", "x");
        Assert.Equal(1, await _admin.GetDatabase().StreamLengthAsync(Key(StreamNames.RewardChanged)));
    }

    [Fact]
    public async Task Ingress_may_add_tracking_batches_that_only_Settlement_consumes()
    {
        await using (var ingress = await _users.ConnectAsync("ingress"))
        {
            var db = ingress.GetDatabase();
            await db.StreamAddAsync(Key(StreamNames.Track), "type", "x");
            await AssertNoPermAsync(() => db.StreamRangeAsync(Key(StreamNames.Track)));
            await AssertNoPermAsync(() => db.StreamTrimAsync(Key(StreamNames.Track), 0));
            await AssertNoPermAsync(() => db.KeyDeleteAsync(Key(StreamNames.Track)));
        }

        await using (var syncer = await _users.ConnectAsync("syncer"))
        {
            await AssertNoPermAsync(() => syncer.GetDatabase().StreamAddAsync(Key(StreamNames.Track), "type", "forged"));
        }

        await using var settlement = await _users.ConnectAsync("settlement");
        var sdb = settlement.GetDatabase();
        await AssertNoPermAsync(() => sdb.StreamAddAsync(Key(StreamNames.Track), "type", "forged"));
        await sdb.StreamCreateConsumerGroupAsync(Key(StreamNames.Track), GroupNames.Tracking, StreamPosition.Beginning, createStream: true);
        var read = await sdb.StreamReadGroupAsync(Key(StreamNames.Track), GroupNames.Tracking, "t1", StreamPosition.NewMessages, 10);
        Assert.Single(read);
        await sdb.StreamAcknowledgeAsync(Key(StreamNames.Track), GroupNames.Tracking, read[0].Id);
        await sdb.StreamTrimAsync(Key(StreamNames.Track), 1);
    }

    [Fact]
    public async Task Syncer_has_no_access_to_the_payments_stream()
    {
        await _admin.GetDatabase().StreamCreateConsumerGroupAsync(Key(StreamNames.Payments), GroupNames.Settlement, StreamPosition.Beginning, createStream: true);
        await using var syncer = await _users.ConnectAsync("syncer");
        var db = syncer.GetDatabase();

        await AssertNoPermAsync(() => db.StreamAddAsync(Key(StreamNames.Payments), "type", "forged"));
        await AssertNoPermAsync(() => db.StreamReadGroupAsync(Key(StreamNames.Payments), GroupNames.Settlement, "thief", StreamPosition.NewMessages, 10));
        await db.StreamAddAsync(Key(StreamNames.Sync), "type", "x");
        await AssertNoPermAsync(() => db.KeyExpireAsync(Key(StreamNames.Sync), TimeSpan.FromSeconds(1)));
        // As the outbox sweeper writes it (several fields: HMSET).
        await db.HashSetAsync(Key(SyncTargetHealth.Key), [new(SyncTargetHealth.Fields.Type, "mysql"), new(SyncTargetHealth.Fields.Healthy, "1")]);
        await db.KeyExpireAsync(Key(SyncTargetHealth.Key), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_payment_published_by_Ingress_s_user_is_settled_and_its_stream_maintained_by_Settlement_s_user()
    {
        var kit = new SettlementKit(_db, _admin, _prefix);
        var campaign = await kit.CampaignAsync(fixedYuan: 5m);
        var referrer = await kit.ParticipantAsync();
        var first = await kit.OrderAsync(campaign, await kit.ParticipantAsync(), referrer, 9900);
        var second = await kit.OrderAsync(campaign, await kit.ParticipantAsync(), referrer, 9900);
        // A consumer left behind by a process that died long ago, with nothing pending.
        await _admin.GetDatabase().StreamCreateConsumerGroupAsync(Key(StreamNames.Payments), GroupNames.Settlement, StreamPosition.Beginning, createStream: true);
        await _admin.GetDatabase().ExecuteAsync("XGROUP", "CREATECONSUMER", Key(StreamNames.Payments), GroupNames.Settlement, "settlement-gone-1");

        await using (var ingress = await _users.ConnectAsync("ingress"))
        {
            // Ingress' own code: the attempt's amount at pay, then the notify's checked, deduplicated publish.
            var keys = new RedisKeys(Options.Create(new RedisOptions { Configuration = "unused", KeyPrefix = _prefix }));
            var amounts = new AttemptAmounts(ingress, keys);
            var publisher = new PaymentPublisher(ingress, keys, TimeProvider.System);
            foreach (var (_, outTradeNo) in new[] { first, second })
            {
                await amounts.RememberAsync(outTradeNo, 9900, TimeSpan.FromMinutes(30));
                Assert.Equal(AmountCheckedPublish.Published, (await publisher.PublishIfAmountAgreesAsync(SettlementKit.Payment(outTradeNo, 9900))).Outcome);
                Assert.Equal(AmountCheckedPublish.AlreadyPublished, (await publisher.PublishIfAmountAgreesAsync(SettlementKit.Payment(outTradeNo, 9900))).Outcome);
            }
        }

        var settings = kit.Settings("settlement-acl");
        settings["Redis:Configuration"] = _users.Configuration("settlement");
        settings["Settlement:Consumer:TrimInterval"] = "00:00:00.100";
        settings["Settlement:Consumer:DeadConsumerIdle"] = "00:00:00.100";
        using var worker = await SettlementKit.StartWorkerAsync(settings);
        await SettlementKit.WaitUntilAsync(async () => await kit.ScalarAsync<long>("SELECT COUNT(*) FROM orders WHERE pay_status = 'paid'") == 2);
        // Both entries acknowledged: the trim keeps only the last delivered one; the dead consumer is gone.
        await SettlementKit.WaitUntilAsync(async () => await _admin.GetDatabase().StreamLengthAsync(Key(StreamNames.Payments)) == 1);
        await SettlementKit.WaitUntilAsync(async () =>
            (await _admin.GetDatabase().StreamConsumerInfoAsync(Key(StreamNames.Payments), GroupNames.Settlement)).All(c => c.Name != "settlement-gone-1"));
        await SettlementKit.WaitUntilAsync(async () => await _admin.GetDatabase().StreamLengthAsync(Key(StreamNames.Sync)) >= 2);
        await worker.StopAsync();

        Assert.Empty(await DeniedAsync("ingress"));
        Assert.Empty(await DeniedAsync("settlement"));
    }

    [Fact]
    public async Task Ingress_runs_sign_in_throttling_check_in_misses_SMS_codes_and_WeChat_sign_in_states_as_its_own_user()
    {
        await using var factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, _prefix, new Dictionary<string, string?>
        {
            ["Redis:Configuration"] = _users.Configuration("ingress"),
        });
        using var client = factory.CreateClient();

        var wrong = await client.PostAsJsonAsync("/api/v1/auth/admin/login", new { username = "admin", password = "not-the-password" });
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        var right = await client.PostAsJsonAsync("/api/v1/auth/admin/login", new { username = "admin", password = TestKeys.AdminPassword });
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        // Check-in counts unknown codes per account (checkin:misses:<id>).
        using var lookup = new HttpRequestMessage(HttpMethod.Get, "/api/v1/check-ins/lookup?code=NOSUCH2345");
        lookup.Headers.Authorization = new("Bearer", (await right.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(lookup)).StatusCode);
        var sms = await client.PostAsJsonAsync("/api/v1/auth/sms/send", new { campaignId = 1, phone = "13800138077" });
        Assert.Equal(HttpStatusCode.NoContent, sms.StatusCode);
        // The phone's own limit refuses a second code at once; its place in the send budgets is given back (DECR).
        var again = await client.PostAsJsonAsync("/api/v1/auth/sms/send", new { campaignId = 1, phone = "13800138077" });
        Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
        var login = await client.PostAsJsonAsync("/api/v1/auth/sms/login", new { phone = "13800138077", code = "000000" });
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);

        // WeChat sign-in: the state is marked used (SET NX) before the code goes to WeChat, which is not here (502).
        using var stateAnswer = await client.GetAsync("/api/v1/auth/wechat/state");
        Assert.True(stateAnswer.IsSuccessStatusCode, await stateAnswer.Content.ReadAsStringAsync());
        var state = await stateAnswer.Content.ReadFromJsonAsync<JsonElement>();
        var wechat = await client.PostAsJsonAsync("/api/v1/auth/wechat", new { code = "any-code", state = state.GetProperty("state").GetString() });
        Assert.NotEqual(HttpStatusCode.BadRequest, wechat.StatusCode);
        var replay = await client.PostAsJsonAsync("/api/v1/auth/wechat", new { code = "any-code", state = state.GetProperty("state").GetString() });
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);

        Assert.Empty(await DeniedAsync("ingress"));
    }

    private static async Task AssertNoPermAsync(Func<Task> command)
    {
        var ex = await Assert.ThrowsAsync<RedisServerException>(command);
        Assert.StartsWith("NOPERM", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>What the server refused this class's <paramref name="service"/> user (ACL LOG), apart from the connect probes.</summary>
    private async Task<List<string>> DeniedAsync(string service)
    {
        var user = ConfigurationOptions.Parse(_users.Configuration(service)).User;
        var denied = new List<string>();
        foreach (var entry in (RedisResult[])(await _admin.GetDatabase().ExecuteAsync("ACL", "LOG", 128))!)
        {
            var fields = entry.ToDictionary();
            var what = (string)fields["object"]!;
            if ((string)fields["username"]! == user && !ConnectProbes.Contains(what))
            {
                denied.Add($"{(string)fields["reason"]!}: {what}");
            }
        }

        return denied;
    }
}
