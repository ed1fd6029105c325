using System.Globalization;
using System.Text;
using Dapper;
using Dmh.Ingress.Audit;
using Dmh.Ingress.Http;
using Dmh.Ingress.Orders;
using Dmh.Ingress.Security;
using Dmh.Ingress.Stats;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Ingress.Funnel;

/// <summary>
/// One funnel: page views, unique visitors and form starts from the tracking rollups (by visit time);
/// registrations, paid and rewarded from orders and rewards (authoritative), counting the orders
/// created in the range and, of those, the ones paid and the ones that earned a referral reward.
/// </summary>
public sealed record FunnelCounts(long Views, long Visitors, long FormStarts, long Registrations, long Paid, long Rewarded);

public sealed record FunnelPoint(string At, FunnelCounts Counts);

/// <summary>A channel (<c>c_id</c>): <c>Name</c> is null and <c>Registered</c> false for a code no channel has ("" = no c_id).</summary>
public sealed record FunnelChannel(string Channel, string? Name, bool Registered, FunnelCounts Counts);

/// <summary>A referrer by referral code ("" = no referrer).</summary>
public sealed record FunnelReferrer(string Referrer, FunnelCounts Counts);

public sealed record FunnelReport(DateOnly From, DateOnly To, string TimeZone, string Interval, FunnelCounts Totals,
    IReadOnlyList<FunnelPoint> Series, IReadOnlyList<FunnelChannel> Channels, IReadOnlyList<FunnelReferrer> Referrers);

public sealed record CampaignToday(long CampaignId, long Visitors, long Paid);

public sealed record FunnelToday(DateOnly Date, IReadOnlyList<CampaignToday> Campaigns);

/// <summary>The funnel dashboard (<c>/api/v1/funnel</c>, admin).</summary>
public static class FunnelEndpoints
{
    public const int Top = 50;
    private const int BucketMinutes = 15;

    private sealed class Events
    {
        public string Key { get; set; } = "";

        public DateTime Bucket { get; set; }

        public long Views { get; set; }

        public long FormStarts { get; set; }

        public long Visitors { get; set; }
    }

    private sealed class OrderBucket
    {
        public long B { get; set; }

        public string Channel { get; set; } = "";

        public string Referrer { get; set; } = "";

        public long Registrations { get; set; }

        public long Paid { get; set; }

        public long Rewarded { get; set; }
    }

    private sealed class Acc
    {
        public long Views;
        public long Visitors;
        public long FormStarts;
        public long Registrations;
        public long Paid;
        public long Rewarded;

        public FunnelCounts ToCounts() => new(Views, Visitors, FormStarts, Registrations, Paid, Rewarded);
    }

    public static IEndpointRouteBuilder MapFunnelEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/funnel").WithTags("Funnel").RequireAuthorization(Policies.AdminRead);
        group.MapGet("/", ReportAsync).WithName("Funnel").WithSummary("Views → visitors → registrations → paid → rewarded, by time, channel and referrer");
        group.MapGet("/export", ExportAsync).WithName("FunnelExport").WithSummary("The funnel as CSV");
        group.MapGet("/today", TodayAsync).WithName("FunnelToday").WithSummary("Today's visitors and paid orders per campaign");
        return app;
    }

    public static async Task<Results<Ok<FunnelReport>, ProblemHttpResult>> ReportAsync(
        string? campaignId, string? from, string? to, string? interval, MySqlDataSource db, IOptions<StatsOptions> options, TimeProvider time, CancellationToken ct)
    {
        var (report, problem) = await BuildAsync(campaignId, from, to, interval, db, options.Value, time, ct);
        return problem ?? (Results<Ok<FunnelReport>, ProblemHttpResult>)TypedResults.Ok(report!);
    }

    public static async Task<Results<FileContentHttpResult, ProblemHttpResult>> ExportAsync(
        string? campaignId, string? from, string? to, string? interval, HttpContext http, AuditLog audit, MySqlDataSource db,
        IOptions<StatsOptions> options, TimeProvider time, CancellationToken ct)
    {
        var (report, problem) = await BuildAsync(campaignId, from, to, interval, db, options.Value, time, ct);
        if (problem is not null)
        {
            return problem;
        }

        await audit.WriteAsync(AuditEntry.Of(http, AuditActions.Export, "funnel", detail: new { campaignId, from, to }), ct);
        var csv = new StringBuilder();
        void Line(params string[] cells) => csv.Append(string.Join(',', cells.Select(OrderCsv.Cell))).Append("\r\n");
        static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
        void Row(string dimension, string key, string name, FunnelCounts c) =>
            Line(dimension, key, name, N(c.Views), N(c.Visitors), N(c.FormStarts), N(c.Registrations), N(c.Paid), N(c.Rewarded));
        Line("维度", "键", "名称", "浏览量", "访客", "开始填写", "报名", "支付", "获得奖励");
        Row("合计", $"{report!.From:yyyy-MM-dd}~{report.To:yyyy-MM-dd}", "", report.Totals);
        foreach (var p in report.Series)
        {
            Row(report.Interval == "hour" ? "小时" : "日期", p.At, "", p.Counts);
        }

        foreach (var c in report.Channels)
        {
            Row("渠道", c.Channel, c.Name ?? (c.Channel == "" ? "无渠道" : "未登记渠道"), c.Counts);
        }

        foreach (var r in report.Referrers)
        {
            Row("推荐人", r.Referrer, r.Referrer == "" ? "无推荐人" : "", r.Counts);
        }

        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(csv.ToString())).ToArray();
        return TypedResults.File(bytes, "text/csv; charset=utf-8", $"funnel-{report.From:yyyyMMdd}-{report.To:yyyyMMdd}.csv");
    }

    public static async Task<Ok<FunnelToday>> TodayAsync(MySqlDataSource db, IOptions<StatsOptions> options, TimeProvider time, CancellationToken ct)
    {
        var zone = options.Value.ResolveZone();
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), zone).DateTime);
        var fromUtc = StatsEndpoints.StartOfDayUtc(today, zone).UtcDateTime;
        var toUtc = StatsEndpoints.StartOfDayUtc(today.AddDays(1), zone).UtcDateTime;
        await using var c = await db.OpenConnectionAsync(ct);
        await using var results = await c.QueryMultipleAsync(new CommandDefinition("""
            SELECT campaign_id AS CampaignId, COUNT(DISTINCT visitor_id) AS N FROM track_visitors
             WHERE gran = 'd' AND bucket = @day GROUP BY campaign_id;
            SELECT campaign_id AS CampaignId, COUNT(*) AS N FROM orders
             WHERE paid_at >= @fromUtc AND paid_at < @toUtc AND deleted_at IS NULL GROUP BY campaign_id;
            """, new { day = today.ToDateTime(TimeOnly.MinValue), fromUtc, toUtc }, cancellationToken: ct));
        var visitors = (await results.ReadAsync<(long CampaignId, long N)>()).ToDictionary(r => r.CampaignId, r => r.N);
        var paid = (await results.ReadAsync<(long CampaignId, long N)>()).ToDictionary(r => r.CampaignId, r => r.N);
        var ids = visitors.Keys.Union(paid.Keys).Order();
        return TypedResults.Ok(new FunnelToday(today, [.. ids.Select(id => new CampaignToday(id, visitors.GetValueOrDefault(id), paid.GetValueOrDefault(id)))]));
    }

    private static async Task<(FunnelReport? Report, ProblemHttpResult? Problem)> BuildAsync(
        string? campaignId, string? from, string? to, string? interval, MySqlDataSource db, StatsOptions o, TimeProvider time, CancellationToken ct)
    {
        var zone = o.ResolveZone();
        var errors = new FieldErrors();
        long? campaign = null;
        if (!string.IsNullOrEmpty(campaignId))
        {
            if (long.TryParse(campaignId, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
            {
                campaign = id;
            }
            else
            {
                errors.Add("campaignId", "campaignId is a positive integer.");
            }
        }

        var hourly = interval switch
        {
            null or "" or "day" => false,
            "hour" => true,
            _ => Fail(errors, "interval", "interval is day or hour."),
        };
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), zone).DateTime);
        var toDate = StatsEndpoints.ParseDate(to, "to", zone, errors) ?? today;
        var fromDate = StatsEndpoints.ParseDate(from, "from", zone, errors) ?? toDate.AddDays(1 - o.DefaultRangeDays);
        if (errors.Any)
        {
            return (null, Problems.Validation(errors));
        }

        if (fromDate > toDate)
        {
            return (null, Problems.Validation("from", "from must not be after to."));
        }

        var days = toDate.DayNumber - fromDate.DayNumber + 1;
        if (days > o.MaxRangeDays)
        {
            return (null, Problems.Validation("to", $"The range is at most {o.MaxRangeDays} days."));
        }

        if (hourly && days != 1)
        {
            return (null, Problems.Validation("interval", "interval=hour needs a range of one day."));
        }

        var fromUtc = StatsEndpoints.StartOfDayUtc(fromDate, zone);
        var toUtc = StatsEndpoints.StartOfDayUtc(toDate.AddDays(1), zone);
        var gran = hourly ? "h" : "d";
        var filter = campaign is null ? "" : " AND campaign_id = @campaign";
        var orderFilter = campaign is null ? "" : " AND o.campaign_id = @campaign";
        // Tracking buckets are local wall-clock days and hours (Tracking:TimeZone in Settlement).
        var sql = $"""
            SELECT '' AS `Key`, bucket AS Bucket, SUM(views) AS Views, SUM(form_starts) AS FormStarts, 0 AS Visitors
              FROM track_rollups WHERE gran = @gran AND bucket >= @fromDay AND bucket < @toDay{filter} GROUP BY bucket;
            SELECT '' AS `Key`, bucket AS Bucket, 0 AS Views, 0 AS FormStarts, COUNT(DISTINCT visitor_id) AS Visitors
              FROM track_visitors WHERE gran = @gran AND bucket >= @fromDay AND bucket < @toDay{filter} GROUP BY bucket;
            SELECT COUNT(DISTINCT visitor_id) FROM track_visitors WHERE gran = 'd' AND bucket >= @fromDay AND bucket < @toDay{filter};
            SELECT channel AS `Key`, SUM(views) AS Views, SUM(form_starts) AS FormStarts, 0 AS Visitors
              FROM track_rollups WHERE gran = 'd' AND bucket >= @fromDay AND bucket < @toDay{filter} GROUP BY channel;
            SELECT channel AS `Key`, COUNT(DISTINCT visitor_id) AS Visitors
              FROM track_visitors WHERE gran = 'd' AND bucket >= @fromDay AND bucket < @toDay{filter} GROUP BY channel;
            SELECT referrer AS `Key`, SUM(views) AS Views, SUM(form_starts) AS FormStarts, 0 AS Visitors
              FROM track_rollups WHERE gran = 'd' AND bucket >= @fromDay AND bucket < @toDay{filter} GROUP BY referrer;
            SELECT referrer AS `Key`, COUNT(DISTINCT visitor_id) AS Visitors
              FROM track_visitors WHERE gran = 'd' AND bucket >= @fromDay AND bucket < @toDay{filter} GROUP BY referrer;
            SELECT TIMESTAMPDIFF(MINUTE, @fromUtc, o.created_at) DIV {BucketMinutes} AS B,
                   COALESCE(o.channel_id, '') AS Channel, COALESCE(p.referral_code, '') AS Referrer,
                   COUNT(*) AS Registrations, COUNT(o.paid_at) AS Paid,
                   SUM(EXISTS (SELECT 1 FROM rewards r WHERE r.order_id = o.id)) AS Rewarded
              FROM orders o LEFT JOIN participants p ON p.id = o.referrer_id
             WHERE o.created_at >= @fromUtc AND o.created_at < @toUtc AND o.deleted_at IS NULL{orderFilter}
             GROUP BY B, Channel, Referrer;
            SELECT code AS `Key`, name AS Name FROM channels;
            """;
        await using var c = await db.OpenConnectionAsync(ct);
        await using var r = await c.QueryMultipleAsync(new CommandDefinition(sql, new
        {
            gran,
            campaign,
            fromDay = fromDate.ToDateTime(TimeOnly.MinValue),
            toDay = toDate.AddDays(1).ToDateTime(TimeOnly.MinValue),
            fromUtc = fromUtc.UtcDateTime,
            toUtc = toUtc.UtcDateTime,
        }, cancellationToken: ct));
        var seriesEvents = (await r.ReadAsync<Events>()).ToList();
        var seriesVisitors = (await r.ReadAsync<Events>()).ToList();
        var totalVisitors = await r.ReadSingleAsync<long>();
        var channelEvents = (await r.ReadAsync<Events>()).ToList();
        var channelVisitors = (await r.ReadAsync<Events>()).ToList();
        var referrerEvents = (await r.ReadAsync<Events>()).ToList();
        var referrerVisitors = (await r.ReadAsync<Events>()).ToList();
        var orders = (await r.ReadAsync<OrderBucket>()).ToList();
        var names = (await r.ReadAsync<(string Key, string Name)>()).ToDictionary(x => x.Key, x => x.Name, StringComparer.Ordinal);

        var points = hourly ? 24 : days;
        var series = Enumerable.Range(0, points).Select(_ => new Acc()).ToArray();
        var start = fromDate.ToDateTime(TimeOnly.MinValue);
        int Index(DateTime localBucket) => Math.Clamp(hourly ? (int)(localBucket - start).TotalHours : (int)(localBucket - start).TotalDays, 0, points - 1);
        foreach (var e in seriesEvents)
        {
            series[Index(e.Bucket)].Views += e.Views;
            series[Index(e.Bucket)].FormStarts += e.FormStarts;
        }

        foreach (var e in seriesVisitors)
        {
            series[Index(e.Bucket)].Visitors += e.Visitors;
        }

        var totals = new Acc { Visitors = totalVisitors };
        var channels = new Dictionary<string, Acc>(StringComparer.Ordinal);
        var referrers = new Dictionary<string, Acc>(StringComparer.Ordinal);
        static Acc At(Dictionary<string, Acc> d, string key) => d.TryGetValue(key, out var a) ? a : d[key] = new Acc();
        foreach (var e in seriesEvents)
        {
            totals.Views += e.Views;
            totals.FormStarts += e.FormStarts;
        }

        foreach (var (rows, visitors, into) in new[] { (channelEvents, channelVisitors, channels), (referrerEvents, referrerVisitors, referrers) })
        {
            foreach (var e in rows)
            {
                At(into, e.Key).Views += e.Views;
                At(into, e.Key).FormStarts += e.FormStarts;
            }

            foreach (var e in visitors)
            {
                At(into, e.Key).Visitors += e.Visitors;
            }
        }

        foreach (var b in orders)
        {
            // 15-minute UTC buckets folded into local days or hours: exact for every zone offset in use.
            var local = TimeZoneInfo.ConvertTime(fromUtc.AddMinutes(b.B * BucketMinutes), zone).DateTime;
            foreach (var acc in new[] { series[Index(hourly ? local.Date.AddHours(local.Hour) : local.Date)], totals, At(channels, b.Channel), At(referrers, b.Referrer) })
            {
                acc.Registrations += b.Registrations;
                acc.Paid += b.Paid;
                acc.Rewarded += b.Rewarded;
            }
        }

        static IEnumerable<KeyValuePair<string, Acc>> Ranked(Dictionary<string, Acc> d) => d
            .OrderByDescending(x => x.Value.Visitors).ThenByDescending(x => x.Value.Registrations).ThenByDescending(x => x.Value.Views)
            .ThenBy(x => x.Key, StringComparer.Ordinal).Take(Top);

        return (new FunnelReport(fromDate, toDate, zone.Id, hourly ? "hour" : "day", totals.ToCounts(),
            [.. series.Select((a, i) => new FunnelPoint(hourly
                ? start.AddHours(i).ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture)
                : fromDate.AddDays(i).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), a.ToCounts()))],
            [.. Ranked(channels).Select(x => new FunnelChannel(x.Key, names.GetValueOrDefault(x.Key), names.ContainsKey(x.Key), x.Value.ToCounts()))],
            [.. Ranked(referrers).Select(x => new FunnelReferrer(x.Key, x.Value.ToCounts()))]), null);
    }

    private static bool Fail(FieldErrors errors, string field, string message)
    {
        errors.Add(field, message);
        return false;
    }
}
