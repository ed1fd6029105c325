using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.Contracts;
using Dmh.IntegrationTests.Admins;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.Platform.Database;
using Dmh.Platform.Redis;
using Dmh.Platform.Streams;
using Dmh.Settlement.Tracking;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.Tracking;

/// <summary>
/// Visit tracking end to end: POST /api/v1/track on Ingress, the dmh:track stream, Settlement's rollup
/// consumer, the rollup tables and the funnel API (issue 19).
/// </summary>
public sealed class TrackingTests : IAsyncLifetime
{
    private const string BrowserAgent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile MicroMessenger/8.0.50";

    private readonly string _prefix = TestKeys.NewRedisPrefix();
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _ingress = null!;
    private ConnectionMultiplexer _redis = null!;
    private IHost? _worker;
    private long _campaign;
    private long _otherCampaign;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _ingress = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, _prefix, new Dictionary<string, string?> { ["Admin:BcryptWorkFactor"] = "4" });
        _redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        await using var c = await _db.DataSource.OpenConnectionAsync();
        _campaign = await c.ExecuteScalarAsync<long>("INSERT INTO campaigns (name, status) VALUES ('tracked', 'active'); SELECT LAST_INSERT_ID();");
        _otherCampaign = await c.ExecuteScalarAsync<long>("INSERT INTO campaigns (name, status) VALUES ('other', 'active'); SELECT LAST_INSERT_ID();");
    }

    public async Task DisposeAsync()
    {
        if (_worker is not null)
        {
            await _worker.StopAsync();
            _worker.Dispose();
        }

        await _redis.GetDatabase().KeyDeleteAsync([_prefix + StreamNames.Track, _prefix + StreamNames.DeadLetters]);
        await _redis.DisposeAsync();
        await _ingress.DisposeAsync();
        await _db.DisposeAsync();
    }

    /// <summary>A settlement worker with only the tracking consumer, as Program.cs wires it.</summary>
    private async Task StartWorkerAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = _db.ConnectionString,
            ["Redis:Configuration"] = TestEnvironment.Redis,
            ["Redis:KeyPrefix"] = _prefix,
            ["Tracking:Consumer:ConsumerName"] = "tracking-test",
            ["Tracking:Consumer:PollInterval"] = "00:00:00.005",
            ["Tracking:Consumer:ClaimIdle"] = "00:00:01",
            ["Tracking:Consumer:ClaimInterval"] = "00:00:00.100",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddDmhDatabase();
        builder.AddDmhRedis();
        builder.AddDeadLetterTable();
        builder.AddTracking();
        _worker = builder.Build();
        await _worker.StartAsync();
    }

    private async Task WaitForStreamDrainedAsync(long entries)
    {
        var stream = (RedisKey)(_prefix + StreamNames.Track);
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var groups = await _redis.GetDatabase().StreamGroupInfoAsync(stream);
            var g = groups.SingleOrDefault(x => x.Name == GroupNames.Tracking);
            if (g.Name is not null && g.PendingMessageCount == 0 && g.EntriesRead >= entries)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "the tracking stream was not consumed in time");
            await Task.Delay(50);
        }
    }

    private HttpClient Page()
    {
        var client = _ingress.CreateClient();
        client.DefaultRequestHeaders.UserAgent.ParseAdd(BrowserAgent);
        return client;
    }

    private static object Body(long campaign, string batchId, string visitorId, params string[] events) => new
    {
        batchId,
        visitorId,
        campaignId = campaign,
        channel = "wx-group",
        referrer = "R1",
        events = events.Select(e => new { type = e }),
    };

    private async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var c = await _db.DataSource.OpenConnectionAsync();
        return (await c.ExecuteScalarAsync<T>(sql, args))!;
    }

    [Fact]
    public async Task A_replayed_tracking_batch_counts_once()
    {
        using var page = Page();
        var batch = Body(_campaign, "batch-0001", "visitor-0001", "view", "form_start", "submit", "pay_start");
        // The page sends it, the beacon on leave sends it again, and the stream entry is delivered again.
        Assert.Equal(HttpStatusCode.Accepted, (await page.PostAsJsonAsync("/api/v1/track", batch)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await page.PostAsJsonAsync("/api/v1/track", batch)).StatusCode);
        var entries = await _redis.GetDatabase().StreamRangeAsync(_prefix + StreamNames.Track);
        Assert.Equal(2, entries.Length);
        await _redis.GetDatabase().StreamAddAsync(_prefix + StreamNames.Track, entries[0].Values);
        // A second batch of the same visitor counts as more events of the same (unique) visitor.
        Assert.Equal(HttpStatusCode.Accepted, (await page.PostAsJsonAsync("/api/v1/track", Body(_campaign, "batch-0002", "visitor-0001", "view"))).StatusCode);

        await StartWorkerAsync();
        await WaitForStreamDrainedAsync(4);

        await using var c = await _db.DataSource.OpenConnectionAsync();
        var rows = (await c.QueryAsync<(string Gran, long Views, long Visitors, long FormStarts, long Submits, long PayStarts)>(
            "SELECT gran, views, visitors, form_starts, submits, pay_starts FROM track_rollups WHERE campaign_id = @_campaign AND channel = 'wx-group' AND referrer = 'R1' ORDER BY gran",
            new { _campaign })).ToList();
        Assert.Equal([("d", 2L, 1L, 1L, 1L, 1L), ("h", 2L, 1L, 1L, 1L, 1L)], rows);
        Assert.Equal(2, await ScalarAsync<long>("SELECT COUNT(*) FROM track_batches"));
    }

    [Fact]
    public async Task Bots_invalid_batches_and_unknown_campaigns_are_not_counted()
    {
        using var bot = _ingress.CreateClient();
        bot.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
        Assert.Equal(HttpStatusCode.Accepted, (await bot.PostAsJsonAsync("/api/v1/track", Body(_campaign, "batch-bot-1", "visitor-bot1", "view"))).StatusCode);
        using var noAgent = _ingress.CreateClient();
        Assert.Equal(HttpStatusCode.Accepted, (await noAgent.PostAsJsonAsync("/api/v1/track", Body(_campaign, "batch-bot-2", "visitor-bot2", "view"))).StatusCode);

        using var page = Page();
        var bad = await page.PostAsJsonAsync("/api/v1/track", new { batchId = "x", visitorId = "13800000000@phone", campaignId = 0, channel = "<script>", events = new[] { new { type = "purchase" } } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("https://dmh.local/problems/invalid-request", problem.GetProperty("type").GetString());
        foreach (var field in new[] { "batchId", "campaignId", "channel", "events" })
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), field);
        }

        var tooMany = Enumerable.Repeat("view", 51).ToArray();
        Assert.Equal(HttpStatusCode.BadRequest, (await page.PostAsJsonAsync("/api/v1/track", Body(_campaign, "batch-many", "visitor-many", tooMany))).StatusCode);
        Assert.Equal(0, await _redis.GetDatabase().StreamLengthAsync(_prefix + StreamNames.Track));

        // Published (Ingress does not read the database) but dropped by the consumer.
        Assert.Equal(HttpStatusCode.Accepted, (await page.PostAsJsonAsync("/api/v1/track", Body(999_999, "batch-nocamp", "visitor-x1", "view"))).StatusCode);
        await StartWorkerAsync();
        await WaitForStreamDrainedAsync(1);
        Assert.Equal(0, await ScalarAsync<long>("SELECT COUNT(*) FROM track_rollups"));
    }

    [Fact]
    public async Task Tracking_is_limited_per_client_address()
    {
        await using var limited = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, _prefix, new Dictionary<string, string?> { ["RateLimits:TrackPerIpPermitLimit"] = "3" });
        using var page = limited.CreateClient();
        page.DefaultRequestHeaders.UserAgent.ParseAdd(BrowserAgent);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await page.PostAsJsonAsync("/api/v1/track", Body(_campaign, $"batch-lim-{i}", "visitor-lim", "view"))).StatusCode);
        }

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task The_rollups_match_the_raw_events_of_a_scripted_run_of_10000_events()
    {
        // A scripted run over three local days: 2 campaigns, registered, unknown and no channels, a few
        // referrers, 400 visitors; batches of 1-8 events; every 10th batch is sent twice.
        var random = new Random(19);
        var keys = new RedisKeys(Options.Create(new RedisOptions { Configuration = "unused", KeyPrefix = _prefix }));
        var publisher = new StreamPublisher(_redis, keys, TimeProvider.System);
        var start = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.FromHours(8));
        string[] channels = ["wx-group", "kol-7", "", "unknown.code"];
        string[] referrers = ["", "R1", "R2", "Rx9"];
        var sent = new List<TrackBatch>();
        var total = 0;
        var entries = 0;
        for (var n = 0; total < 10_000; n++)
        {
            var count = Math.Min(random.Next(1, 9), 10_000 - total);
            var batch = new TrackBatch(
                "b" + n.ToString("D7", System.Globalization.CultureInfo.InvariantCulture),
                "visitor-" + random.Next(400).ToString("D4", System.Globalization.CultureInfo.InvariantCulture),
                random.Next(2) == 0 ? _campaign : _otherCampaign,
                channels[random.Next(channels.Length)],
                referrers[random.Next(referrers.Length)],
                [.. Enumerable.Range(0, count).Select(_ => TrackEvents.All[random.Next(TrackEvents.All.Count)])],
                start.AddMinutes(random.Next(3 * 24 * 60)).AddSeconds(random.Next(60)));
            total += count;
            sent.Add(batch);
            await publisher.PublishAsync(StreamNames.Track, MessageTypes.TrackBatch, TrackRollupStore.KeyOf(batch), batch);
            entries++;
            if (n % 10 == 0)
            {
                // The replay carries another receive time: the first one counts, and only once.
                await publisher.PublishAsync(StreamNames.Track, MessageTypes.TrackBatch, TrackRollupStore.KeyOf(batch), batch with { ReceivedAt = batch.ReceivedAt.AddHours(5) });
                entries++;
            }
        }

        await StartWorkerAsync();
        await WaitForStreamDrainedAsync(entries);

        var zone = TimeZoneInfo.CreateCustomTimeZone("cst", TimeSpan.FromHours(8), "cst", "cst");
        var expected = new SortedDictionary<string, (long Views, long Visitors, long FormStarts, long Submits, long PayStarts)>(StringComparer.Ordinal);
        foreach (var gran in new[] { "d", "h" })
        {
            foreach (var g in sent.GroupBy(b =>
                     {
                         var local = TimeZoneInfo.ConvertTime(b.ReceivedAt, zone).DateTime;
                         var bucket = gran == "d" ? local.Date : local.Date.AddHours(local.Hour);
                         return $"{gran}|{bucket:yyyy-MM-dd HH:mm}|{b.CampaignId}|{b.Channel}|{b.Referrer}";
                     }))
            {
                var events = g.SelectMany(b => b.Events).ToList();
                expected[g.Key] = (events.Count(e => e == TrackEvents.View), g.Select(b => b.VisitorId).Distinct().Count(),
                    events.Count(e => e == TrackEvents.FormStart), events.Count(e => e == TrackEvents.Submit), events.Count(e => e == TrackEvents.PayStart));
            }
        }

        await using var c = await _db.DataSource.OpenConnectionAsync();
        var actual = new SortedDictionary<string, (long Views, long Visitors, long FormStarts, long Submits, long PayStarts)>(StringComparer.Ordinal);
        foreach (var r in await c.QueryAsync<(string Gran, DateTime Bucket, long CampaignId, string Channel, string Referrer, long Views, long Visitors, long FormStarts, long Submits, long PayStarts)>(
                     "SELECT gran, bucket, campaign_id, channel, referrer, views, visitors, form_starts, submits, pay_starts FROM track_rollups"))
        {
            actual[$"{r.Gran}|{r.Bucket:yyyy-MM-dd HH:mm}|{r.CampaignId}|{r.Channel}|{r.Referrer}"] = (r.Views, r.Visitors, r.FormStarts, r.Submits, r.PayStarts);
        }

        Assert.Equal(expected, actual);
        Assert.Equal(10_000, actual.Where(a => a.Key.StartsWith("d|", StringComparison.Ordinal)).Sum(a => a.Value.Views + a.Value.FormStarts + a.Value.Submits + a.Value.PayStarts));

        // The funnel over the three days: views and unique visitors of one campaign as the raw events say.
        using var admin = await AdminLogin.SignedInAsync(_ingress.CreateClient());
        var funnel = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/funnel?campaignId={_campaign}&from=2026-03-01&to=2026-03-03");
        var mine = sent.Where(b => b.CampaignId == _campaign).ToList();
        Assert.Equal(mine.Sum(b => b.Events.Count(e => e == TrackEvents.View)), funnel.GetProperty("totals").GetProperty("views").GetInt64());
        Assert.Equal(mine.Select(b => b.VisitorId).Distinct().Count(), funnel.GetProperty("totals").GetProperty("visitors").GetInt64());
        var unknown = funnel.GetProperty("channels").EnumerateArray().Single(ch => ch.GetProperty("channel").GetString() == "unknown.code");
        Assert.False(unknown.GetProperty("registered").GetBoolean());
        Assert.Equal(mine.Where(b => b.Channel == "unknown.code").Select(b => b.VisitorId).Distinct().Count(), unknown.GetProperty("counts").GetProperty("visitors").GetInt64());
    }
}
