using Dmh.Contracts;
using Dmh.Ingress.Http;
using Dmh.Platform.Streams;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Prometheus;

namespace Dmh.Ingress.Tracking;

/// <summary>
/// <c>POST /api/v1/track</c>: the H5 page's visit events. Only checked here and published to
/// <c>dmh:track</c>; Settlement rolls them up. Public, limited per client IP (RateLimits:TrackPerIpPermitLimit).
/// </summary>
public static class TrackEndpoints
{
    private static readonly Counter Batches = Metrics.CreateCounter(
        "dmh_track_batches_total", "Tracking batches received, by outcome (published, bot, invalid).", "outcome");

    public static WebApplicationBuilder AddTracking(this WebApplicationBuilder builder)
    {
        builder.AddStreamPublisher();
        return builder;
    }

    public static IEndpointRouteBuilder MapTrackEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/track", TrackAsync).AllowAnonymous().WithTags("Tracking")
            .WithName("Track").WithSummary("Visit events of the H5 page (batched; sendBeacon on leave)");
        return app;
    }

    public static async Task<Results<Accepted, ProblemHttpResult>> TrackAsync(
        [FromBody] TrackRequest? request, HttpContext http, StreamPublisher publisher, TimeProvider time, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var batch = TrackRequestBinder.Bind(request, time.GetUtcNow(), errors);
        if (batch is null)
        {
            Batches.WithLabels("invalid").Inc();
            return Problems.Validation(errors);
        }

        // A crawler gets the same answer as a browser and is not counted.
        if (TrackRequestBinder.IsBot(http.Request.Headers.UserAgent))
        {
            Batches.WithLabels("bot").Inc();
            return TypedResults.Accepted((string?)null);
        }

        await publisher.PublishAsync(StreamNames.Track, MessageTypes.TrackBatch, batch.VisitorId + ":" + batch.BatchId, batch);
        Batches.WithLabels("published").Inc();
        return TypedResults.Accepted((string?)null);
    }
}
