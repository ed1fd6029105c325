using System.Text.RegularExpressions;
using Dmh.Contracts;
using Dmh.Ingress.Http;

namespace Dmh.Ingress.Tracking;

/// <summary>One event of a tracking batch.</summary>
public sealed record TrackEventInput(string? Type);

/// <summary>Body of <c>POST /api/v1/track</c>.</summary>
public sealed record TrackRequest(string? BatchId, string? VisitorId, long? CampaignId, string? Channel, string? Referrer, IReadOnlyList<TrackEventInput?>? Events);

/// <summary>Checks a <see cref="TrackRequest"/> and turns it into the stream message.</summary>
public static partial class TrackRequestBinder
{
    public const int MaxEvents = 50;

    [GeneratedRegex("^[A-Za-z0-9_-]{8,64}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[A-Za-z0-9_.-]{0,64}$")]
    private static partial Regex ChannelPattern();

    [GeneratedRegex("^[A-Za-z0-9_-]{0,16}$")]
    private static partial Regex ReferrerPattern();

    // Crawlers, link previews and scripted clients; a browser (headless ones too, as tests use) passes.
    [GeneratedRegex(@"bot|spider|crawl|slurp|bingpreview|facebookexternalhit|curl/|wget|python|go-http-client|java/|okhttp|libwww|scrapy|phantomjs|httpclient",
        RegexOptions.IgnoreCase)]
    private static partial Regex BotPattern();

    /// <summary>True for a user agent that is missing or names a crawler or script: its events are dropped.</summary>
    public static bool IsBot(string? userAgent) => string.IsNullOrWhiteSpace(userAgent) || BotPattern().IsMatch(userAgent);

    public static TrackBatch? Bind(TrackRequest? request, DateTimeOffset receivedAt, FieldErrors errors)
    {
        if (request is null)
        {
            errors.Add("body", "A JSON body is required.");
            return null;
        }

        if (request.BatchId is null || !IdPattern().IsMatch(request.BatchId))
        {
            errors.Add("batchId", "batchId is 8 to 64 characters of A-Z a-z 0-9 _ -.");
        }

        if (request.VisitorId is null || !IdPattern().IsMatch(request.VisitorId))
        {
            errors.Add("visitorId", "visitorId is 8 to 64 characters of A-Z a-z 0-9 _ -.");
        }

        if (request.CampaignId is not > 0)
        {
            errors.Add("campaignId", "campaignId is a positive campaign id.");
        }

        if (!ChannelPattern().IsMatch(request.Channel ?? ""))
        {
            errors.Add("channel", "channel is up to 64 characters of A-Z a-z 0-9 _ . -.");
        }

        if (!ReferrerPattern().IsMatch(request.Referrer ?? ""))
        {
            errors.Add("referrer", "referrer is a referral code: up to 16 characters of A-Z a-z 0-9 _ -.");
        }

        var events = new List<string>();
        if (request.Events is not { Count: > 0 and <= MaxEvents })
        {
            errors.Add("events", $"events holds 1 to {MaxEvents} events.");
        }
        else
        {
            foreach (var e in request.Events)
            {
                if (e?.Type is { } type && TrackEvents.All.Contains(type))
                {
                    events.Add(type);
                }
                else
                {
                    errors.Add("events", "Each event has a type: " + string.Join(", ", TrackEvents.All) + ".");
                    break;
                }
            }
        }

        return errors.Any
            ? null
            : new TrackBatch(request.BatchId!, request.VisitorId!, request.CampaignId!.Value, request.Channel ?? "", request.Referrer ?? "", events, receivedAt);
    }
}
