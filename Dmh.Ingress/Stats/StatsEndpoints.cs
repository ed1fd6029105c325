using System.Globalization;
using Dapper;
using Dmh.Ingress.Http;
using Dmh.Ingress.Participants;
using Dmh.Ingress.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Ingress.Stats;

public sealed record StatsDay(DateOnly Date, long Registrations, long Payments, long RewardsFen);

public sealed record StatsChannel(string? ChannelId, long Registrations, long Payments);

public sealed record StatsReferrer(long ParticipantId, string PhoneMasked, long RewardFen, long Count, string? Name = null);

public sealed record StatsOverview(DateOnly From, DateOnly To, string TimeZone, IReadOnlyList<StatsDay> Series,
    IReadOnlyList<StatsChannel> Channels, IReadOnlyList<StatsReferrer> TopReferrers);

/// <summary>Dashboard figures per calendar day of the display zone (<c>GET /api/v1/stats/overview</c>).</summary>
public static class StatsEndpoints
{
    // The database keeps UTC. Rows are counted in 15-minute UTC buckets and folded into local days here,
    // which is exact for every zone offset in use (all are multiples of 15 minutes) and for DST changes,
    // without relying on the server's time zone tables (CONVERT_TZ needs them loaded).
    private const int BucketMinutes = 15;
    private const int TopChannels = 50;
    private const int TopReferrers = 10;

    private sealed class Bucket
    {
        public long B { get; set; }

        public long N { get; set; }

        public long Fen { get; set; }
    }

    private sealed class ChannelRow
    {
        public string? ChannelId { get; set; }

        public long Registrations { get; set; }

        public long Payments { get; set; }
    }

    private sealed class ReferrerRow
    {
        public long UserId { get; set; }

        public string? Phone { get; set; }

        public long RewardFen { get; set; }

        public long N { get; set; }

        public string? Name { get; set; }
    }

    public static WebApplicationBuilder AddStats(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<StatsOptions>()
            .BindConfiguration(StatsOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => TryZone(o), "Stats:TimeZone must be a known IANA time zone.")
            .Validate(o => o.DefaultRangeDays <= o.MaxRangeDays, "Stats:DefaultRangeDays must not exceed Stats:MaxRangeDays.")
            .ValidateOnStart();
        return builder;
    }

    public static IEndpointRouteBuilder MapStatsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/stats").WithTags("Stats").RequireAuthorization(Policies.AdminRead)
            .MapGet("/overview", OverviewAsync)
            .WithName("StatsOverview").WithSummary("Registrations, payments and rewards per day, channels and top referrers");
        return app;
    }

    public static async Task<Results<Ok<StatsOverview>, ProblemHttpResult>> OverviewAsync(
        string? campaignId, string? from, string? to, MySqlDataSource dataSource, IOptions<StatsOptions> options, TimeProvider time, CancellationToken ct)
    {
        var o = options.Value;
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

        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), zone).DateTime);
        var toDate = ParseDate(to, "to", zone, errors) ?? today;
        var fromDate = ParseDate(from, "from", zone, errors) ?? toDate.AddDays(1 - o.DefaultRangeDays);
        if (errors.Any)
        {
            return Problems.Validation(errors.ToDictionary());
        }

        if (fromDate > toDate)
        {
            return Problems.Validation("from", "from must not be after to.");
        }

        var days = toDate.DayNumber - fromDate.DayNumber + 1;
        if (days > o.MaxRangeDays)
        {
            return Problems.Validation("to", $"The range is at most {o.MaxRangeDays} days.");
        }

        var fromUtc = StartOfDayUtc(fromDate, zone);
        var toUtc = StartOfDayUtc(toDate.AddDays(1), zone);
        var campaignFilter = campaign is null ? "" : " AND campaign_id = @campaign";
        // Each query is a range scan on a time index (V0170 adds the paid_at and settled_at ones).
        // Rewards count net of refunds (amount_fen - reversed_fen), on the day they settled; a reward
        // refunded in full still counts as one settled reward in N but adds nothing to the amount.
        var sql = $"""
            SELECT TIMESTAMPDIFF(MINUTE, @fromUtc, created_at) DIV {BucketMinutes} AS B, COUNT(*) AS N, 0 AS Fen
              FROM orders WHERE created_at >= @fromUtc AND created_at < @toUtc AND deleted_at IS NULL{campaignFilter} GROUP BY B;
            SELECT TIMESTAMPDIFF(MINUTE, @fromUtc, paid_at) DIV {BucketMinutes} AS B, COUNT(*) AS N, 0 AS Fen
              FROM orders WHERE paid_at >= @fromUtc AND paid_at < @toUtc AND deleted_at IS NULL{campaignFilter} GROUP BY B;
            SELECT TIMESTAMPDIFF(MINUTE, @fromUtc, settled_at) DIV {BucketMinutes} AS B, COUNT(*) AS N, SUM(amount_fen - reversed_fen) AS Fen
              FROM rewards WHERE settled_at >= @fromUtc AND settled_at < @toUtc{campaignFilter} GROUP BY B;
            SELECT channel_id AS ChannelId, COUNT(*) AS Registrations, COUNT(paid_at) AS Payments
              FROM orders WHERE created_at >= @fromUtc AND created_at < @toUtc AND deleted_at IS NULL{campaignFilter}
              GROUP BY channel_id ORDER BY Registrations DESC, Payments DESC, channel_id LIMIT {TopChannels};
            SELECT r.user_id AS UserId, p.phone AS Phone, r.RewardFen, r.N,
                   (SELECT JSON_UNQUOTE(JSON_EXTRACT(o.form_data, '$.name')) FROM orders o WHERE o.participant_id = r.user_id ORDER BY o.id DESC LIMIT 1) AS Name
              FROM (SELECT user_id, SUM(amount_fen - reversed_fen) AS RewardFen, SUM(reversed_fen < amount_fen) AS N FROM rewards
                     WHERE settled_at >= @fromUtc AND settled_at < @toUtc{campaignFilter}
                     GROUP BY user_id ORDER BY RewardFen DESC, user_id LIMIT {TopReferrers}) r
              LEFT JOIN participants p ON p.id = r.user_id
             ORDER BY r.RewardFen DESC, r.user_id;
            """;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(sql,
            new { fromUtc = fromUtc.UtcDateTime, toUtc = toUtc.UtcDateTime, campaign }, cancellationToken: ct));
        var registrations = (await results.ReadAsync<Bucket>()).ToList();
        var payments = (await results.ReadAsync<Bucket>()).ToList();
        var rewards = (await results.ReadAsync<Bucket>()).ToList();
        var channels = (await results.ReadAsync<ChannelRow>()).ToList();
        var referrers = (await results.ReadAsync<ReferrerRow>()).ToList();

        var series = new (long Registrations, long Payments, long RewardsFen)[days];
        int DayIndex(Bucket b) => Math.Clamp(
            DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(fromUtc.AddMinutes(b.B * BucketMinutes), zone).DateTime).DayNumber - fromDate.DayNumber,
            0, days - 1);
        foreach (var b in registrations)
        {
            series[DayIndex(b)].Registrations += b.N;
        }

        foreach (var b in payments)
        {
            series[DayIndex(b)].Payments += b.N;
        }

        foreach (var b in rewards)
        {
            series[DayIndex(b)].RewardsFen += b.Fen;
        }

        return TypedResults.Ok(new StatsOverview(fromDate, toDate, zone.Id,
            [.. series.Select((d, i) => new StatsDay(fromDate.AddDays(i), d.Registrations, d.Payments, d.RewardsFen))],
            [.. channels.Select(c => new StatsChannel(c.ChannelId, c.Registrations, c.Payments))],
            [.. referrers.Select(r => new StatsReferrer(r.UserId, r.Phone is null ? "" : PhoneNumbers.Mask(r.Phone), r.RewardFen, r.N, r.Name))]));
    }

    /// <summary>A day <c>yyyy-MM-dd</c>, or an ISO 8601 time with offset (as the admin console sends) taken as its day in the zone.</summary>
    internal static DateOnly? ParseDate(string? value, string field, TimeZoneInfo zone, FieldErrors errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }

        if (value.Length > 10 && value[10] == 'T' && HasOffset(value)
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant))
        {
            return DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime);
        }

        errors.Add(field, field + " is a date yyyy-MM-dd (a calendar day of the display zone) or an ISO 8601 time with offset.");
        return null;
    }

    private static bool HasOffset(string value) =>
        value.EndsWith('Z') || value.AsSpan(11).IndexOfAny('+', '-') >= 0;

    /// <summary>The UTC instant a local calendar day begins (the first valid local time if midnight is skipped by DST).</summary>
    internal static DateTimeOffset StartOfDayUtc(DateOnly day, TimeZoneInfo zone)
    {
        var local = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(BucketMinutes);
        }

        var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local);
        return new DateTimeOffset(local, offset).ToUniversalTime();
    }

    private static bool TryZone(StatsOptions o)
    {
        try
        {
            o.ResolveZone();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
