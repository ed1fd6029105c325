using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Dmh.Ingress.Payments;
using Dmh.WechatPay;
using MySqlConnector;
using StackExchange.Redis;

namespace Dmh.Perf;

/// <summary>
/// What the settlement, sync and mixed scenarios need from a running system: an admin session to make
/// a campaign, DMH's database and Redis to seed and to read its timestamps, and WeChat's signing key
/// to post notifies as WeChat would. Settings come from the environment <c>./dmh perf</c> exports.
/// </summary>
public sealed class PerfSystem : IAsyncDisposable
{
    /// <summary>Ingress's default <c>WechatPay:PrepayLifetime</c>.</summary>
    private static readonly TimeSpan PrepayLifetime = new WechatPayOptions().PrepayLifetime;

    private readonly ConnectionMultiplexer _redis;
    private readonly string _keyPrefix = Environment.GetEnvironmentVariable("Redis__KeyPrefix") ?? "";

    private PerfSystem(Uri baseUrl, HttpClient admin, MySqlDataSource db, ConnectionMultiplexer redis, NotifySigner signer)
    {
        BaseUrl = baseUrl;
        Admin = admin;
        Db = db;
        _redis = redis;
        Signer = signer;
    }

    public Uri BaseUrl { get; }

    public HttpClient Admin { get; }

    public MySqlDataSource Db { get; }

    public NotifySigner Signer { get; }

    public static async Task<PerfSystem> ConnectAsync(Uri baseUrl, CancellationToken ct)
    {
        var connectionString = Required("Database__ConnectionString");
        var admin = new HttpClient { BaseAddress = baseUrl };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await SignInAsync(admin, ct));
        // As Ingress's Redis user: the runner only does what Ingress's pay step does (remember attempt amounts).
        var redisOptions = ConfigurationOptions.Parse(Required("DMH_REDIS_INGRESS"));
        redisOptions.TieBreaker = "";
        redisOptions.ConfigurationChannel = "";
        var redis = await ConnectionMultiplexer.ConnectAsync(redisOptions);
        return new PerfSystem(baseUrl, admin, new MySqlDataSource(connectionString), redis, NotifySigner.FromEnvironment());
    }

    /// <summary>An admin session (<c>DMH_ADMIN_USER</c>/<c>DMH_ADMIN_PASSWORD</c>, which ./dmh perf sets).</summary>
    public static async Task<string> SignInAsync(HttpClient client, CancellationToken ct)
    {
        var user = Environment.GetEnvironmentVariable("DMH_ADMIN_USER") ?? "admin";
        var login = await client.PostAsJsonAsync("/api/v1/auth/admin/login", new { username = user, password = Required("DMH_ADMIN_PASSWORD") }, ct);
        await EnsureAsync(login, "sign in", ct);
        return (await login.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("token").GetString()!;
    }

    public Task<Campaign> CreateCampaignAsync(string label, long priceFen, long rewardFen, CancellationToken ct, int? holdDays = null) =>
        CreateCampaignAsync(Admin, label, priceFen, rewardFen, ct, holdDays);

    /// <summary>A published campaign, live for a day, with a fixed reward per paid referral (frozen <paramref name="holdDays"/> days; default 7).</summary>
    public static async Task<Campaign> CreateCampaignAsync(HttpClient admin, string label, long priceFen, long rewardFen, CancellationToken ct, int? holdDays = null)
    {
        object reward = holdDays is { } days
            ? new { holdDays = days, levels = new[] { new { type = "fixed", amountFen = rewardFen } }, caps = new { totalFen = (long?)null, count = (int?)null, dailyFen = (long?)null } }
            : new { type = "fixed", amountFen = rewardFen };
        var now = DateTimeOffset.UtcNow;
        var created = await admin.PostAsJsonAsync("/api/v1/campaigns", new
        {
            name = $"压测 {label} {now:yyyyMMdd-HHmmss}",
            description = "负载测试自动创建",
            startTime = now.AddMinutes(-5),
            endTime = now.AddDays(1),
            priceFen,
            reward,
            payment = new { description = "报名费" },
            requireSms = false,
            formSchema = JsonDocument.Parse("""
                {"type":"object","required":["name"],"properties":{
                  "name":{"type":"string","title":"姓名","x-widget":"text","x-order":1,"minLength":2,"maxLength":20},
                  "grade":{"type":"string","title":"年级","x-widget":"select","x-order":2,"enum":["一年级","二年级","三年级"]}}}
                """).RootElement,
        }, ct);
        await EnsureAsync(created, "create the campaign", ct);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetInt64();
        await EnsureAsync(await admin.PostAsync($"/api/v1/campaigns/{id}/publish", null, ct), "publish the campaign", ct);
        return new Campaign(id, priceFen, rewardFen);
    }

    /// <summary>Referrers: participants (with referral codes) who will earn the rewards.</summary>
    public async Task<IReadOnlyList<Referrer>> CreateReferrersAsync(PhoneBlock phones, int count, CancellationToken ct)
    {
        var referrers = Enumerable.Range(0, count).Select(_ => phones.Next()).Select(p => new { Phone = p, Code = "R" + p }).ToList();
        await using var connection = await Db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO participants (phone, referral_code) VALUES (@Phone, @Code)", referrers, cancellationToken: ct));
        var rows = await connection.QueryAsync<Referrer>(new CommandDefinition(
            "SELECT id, referral_code AS Code FROM participants WHERE phone IN @phones ORDER BY id",
            new { phones = referrers.Select(r => r.Phone).ToList() }, cancellationToken: ct));
        return rows.ToList();
    }

    /// <summary>
    /// Unpaid orders with a prepaid attempt each, written straight into MySQL in bulk: what
    /// <c>POST /orders</c> and <c>POST /orders/{id}/pay</c> leave behind (the orders scenario measures
    /// those). Returns the attempts in id order.
    /// </summary>
    public async Task<IReadOnlyList<Attempt>> SeedPayableOrdersAsync(Campaign campaign, IReadOnlyList<Referrer> referrers, PhoneBlock phones, int count, CancellationToken ct)
    {
        var attempts = new List<Attempt>(count);
        await using var connection = await Db.OpenConnectionAsync(ct);
        const int chunk = 1000;
        for (var offset = 0; offset < count; offset += chunk)
        {
            var batch = Enumerable.Range(0, Math.Min(chunk, count - offset)).Select(i => (Phone: phones.Next(), Referrer: referrers[(offset + i) % referrers.Count])).ToList();
            var values = string.Join(",", batch.Select((_, i) => $"(@p{i}, @c{i})"));
            var args = new DynamicParameters();
            for (var i = 0; i < batch.Count; i++)
            {
                args.Add($"p{i}", batch[i].Phone);
                args.Add($"c{i}", "S" + batch[i].Phone);
            }

            await connection.ExecuteAsync(new CommandDefinition($"INSERT INTO participants (phone, referral_code) VALUES {values}", args, cancellationToken: ct));
            var participants = (await connection.QueryAsync<(string Phone, long Id)>(new CommandDefinition(
                "SELECT phone, id FROM participants WHERE phone IN @phones", new { phones = batch.Select(b => b.Phone).ToList() }, cancellationToken: ct)))
                .ToDictionary(p => p.Phone, p => p.Id);

            var orderValues = string.Join(",", batch.Select((b, i) =>
                string.Create(CultureInfo.InvariantCulture, $"(@campaign, {participants[b.Phone]}, @p{i}, @form, 'perf', {b.Referrer.Id}, 'pending', @amount, 'unpaid')")));
            args.Add("campaign", campaign.Id);
            args.Add("form", """{"name":"压测学员","grade":"二年级"}""");
            args.Add("amount", campaign.PriceFen / 100m);
            await connection.ExecuteAsync(new CommandDefinition(
                $"INSERT INTO orders (campaign_id, participant_id, phone, form_data, channel_id, referrer_id, status, amount, pay_status) VALUES {orderValues}", args, cancellationToken: ct));
            var orders = (await connection.QueryAsync<(long Id, string Phone)>(new CommandDefinition(
                "SELECT id, phone FROM orders WHERE campaign_id = @campaign AND phone IN @phones ORDER BY id",
                new { campaign = campaign.Id, phones = batch.Select(b => b.Phone).ToList() }, cancellationToken: ct))).ToList();

            var batchAttempts = orders.Select(o => new Attempt(o.Id, $"D{o.Id:D4}A1", campaign.PriceFen)).ToList();
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO payments (order_id, attempt, out_trade_no, channel, amount_fen, status) VALUES " +
                string.Join(",", batchAttempts.Select(a => string.Create(CultureInfo.InvariantCulture, $"({a.OrderId}, 1, '{a.OutTradeNo}', 'h5', {a.AmountFen}, 'prepaid')"))),
                cancellationToken: ct));
            await AttemptAmounts.SeedAsync(_redis, _keyPrefix, batchAttempts.Select(a => (a.OutTradeNo, a.AmountFen)), PrepayLifetime);
            attempts.AddRange(batchAttempts);
        }

        return attempts;
    }

    /// <summary>The registrant's way in: <c>POST /orders</c>, then an H5 prepay at the simulator.</summary>
    public static async Task<(Attempt? Attempt, string? Error)> RegisterAndPrepayAsync(
        HttpClient client, Uri baseUrl, Campaign campaign, string phone, Referrer referrer, string channel, CancellationToken ct)
    {
        var body = $$"""{"campaignId":{{campaign.Id}},"phone":"{{phone}}","formData":{"name":"压测学员","grade":"二年级"},"cId":"{{channel}}","uId":"{{referrer.Code}}"}""";
        using var created = await client.PostAsync(new Uri(baseUrl, "/api/v1/orders"), new StringContent(body, Encoding.UTF8, "application/json"), ct);
        if (!created.IsSuccessStatusCode)
        {
            return (null, "register: HTTP " + (int)created.StatusCode);
        }

        var order = await created.Content.ReadFromJsonAsync<JsonElement>(ct);
        var orderId = order.GetProperty("id").GetInt64();
        using var pay = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, $"/api/v1/orders/{orderId}/pay"))
        {
            Content = new StringContent("""{"channel":"h5"}""", Encoding.UTF8, "application/json"),
        };
        pay.Headers.Add("X-Order-Token", order.GetProperty("accessToken").GetString());
        using var prepaid = await client.SendAsync(pay, ct);
        if (!prepaid.IsSuccessStatusCode)
        {
            return (null, "prepay: HTTP " + (int)prepaid.StatusCode);
        }

        var outTradeNo = (await prepaid.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("outTradeNo").GetString()!;
        return (new Attempt(orderId, outTradeNo, campaign.PriceFen), null);
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await Db.DisposeAsync();
        await _redis.DisposeAsync();
        Signer.Dispose();
    }

    public static string Required(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v
        ? v
        : throw new InvalidOperationException($"{name} is not set: run the scenario through ./dmh perf, which exports it.");

    private static async Task EnsureAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Could not {what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }
    }
}

public sealed record Campaign(long Id, long PriceFen, long RewardFen);

public sealed record Referrer(long Id, string Code);

/// <summary>A payment attempt DMH knows (payments.out_trade_no) for one order.</summary>
public sealed record Attempt(long OrderId, string OutTradeNo, long AmountFen);

/// <summary>Unique mainland mobile numbers from a random block, so repeated runs never collide.</summary>
public sealed class PhoneBlock
{
    private readonly long _base = 15_000_000_000L + Random.Shared.NextInt64(0, 4_000_000_000L);
    private long _next;

    public string Next() => (_base + Interlocked.Increment(ref _next)).ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Builds <c>TRANSACTION.SUCCESS</c> notifies exactly as WeChat Pay (here: the simulator) does: the
/// resource encrypted with the APIv3 key (AES-256-GCM), the body signed with WeChat's key
/// (docs/wechatpay-v3.md §3). Signing is the runner's CPU, as WeChat's would be its own.
/// </summary>
public sealed class NotifySigner(RSA key, string serial, byte[] apiV3Key, string appId, string mchId) : IDisposable
{
    public static NotifySigner FromEnvironment()
    {
        var keys = PerfSystem.Required("DMH_SIM_KEY_DIR");
        var key = RSA.Create();
        key.ImportFromPem(File.ReadAllText(Path.Combine(keys, "wechatpay_private_key.pem")));
        return new NotifySigner(key, File.ReadAllText(Path.Combine(keys, "wechatpay_public_key_id")).Trim(),
            Encoding.UTF8.GetBytes(PerfSystem.Required("WechatPay__ApiV3Key")), PerfSystem.Required("DMH_WECHAT_APPID"), PerfSystem.Required("DMH_WECHAT_MCHID"));
    }

    /// <summary>WeChat's transaction id for an attempt: stable, so a duplicate carries the same one.</summary>
    public static string TransactionId(Attempt attempt) => "42000" + attempt.OrderId.ToString("D23", CultureInfo.InvariantCulture);

    public SignedNotify Sign(Attempt attempt, DateTimeOffset now)
    {
        var plain = JsonSerializer.SerializeToUtf8Bytes(new
        {
            appid = appId,
            mchid = mchId,
            out_trade_no = attempt.OutTradeNo,
            transaction_id = TransactionId(attempt),
            trade_type = "MWEB",
            trade_state = "SUCCESS",
            trade_state_desc = "支付成功",
            bank_type = "OTHERS",
            attach = "",
            success_time = now.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
            amount = new { total = attempt.AmountFen, payer_total = attempt.AmountFen, currency = "CNY", payer_currency = "CNY" },
        });
        var nonce = WechatPayCrypto.NewNonce(12);
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            id = "EV-" + Guid.NewGuid().ToString("N"),
            create_time = now.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
            resource_type = "encrypt-resource",
            event_type = "TRANSACTION.SUCCESS",
            summary = "支付成功",
            resource = new
            {
                original_type = "transaction",
                algorithm = "AEAD_AES_256_GCM",
                ciphertext = WechatPayCrypto.Encrypt(apiV3Key, nonce, "transaction", plain),
                associated_data = "transaction",
                nonce,
            },
        });
        var timestamp = WechatPayCrypto.UnixSeconds(now);
        var headerNonce = WechatPayCrypto.NewNonce();
        return new SignedNotify(body, timestamp, headerNonce, serial, WechatPayCrypto.Sign(key, WechatPayCrypto.ResponseMessage(timestamp, headerNonce, body)));
    }

    public void Dispose() => key.Dispose();
}

/// <summary>A notify ready to post any number of times (WeChat re-sends the same body when it retries).</summary>
public sealed record SignedNotify(byte[] Body, string Timestamp, string Nonce, string Serial, string Signature)
{
    public HttpRequestMessage ToRequest(Uri baseUrl)
    {
        var content = new ByteArrayContent(Body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "/api/v1/orders/payment/notify")) { Content = content };
        request.Headers.Add("Wechatpay-Timestamp", Timestamp);
        request.Headers.Add("Wechatpay-Nonce", Nonce);
        request.Headers.Add("Wechatpay-Serial", Serial);
        request.Headers.Add("Wechatpay-Signature", Signature);
        return request;
    }
}
