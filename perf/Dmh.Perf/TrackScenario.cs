using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Dapper;
using HdrHistogram;

namespace Dmh.Perf;

/// <summary>
/// <c>POST /api/v1/track</c> beside <c>POST /api/v1/orders</c> in one run (issue 19): nine requests in
/// ten are a page's batch of <see cref="EventsPerBatch"/> events (5,000 visitors, four channels), the
/// tenth registers as the orders scenario does. After the rate it waits until Settlement's tracking
/// consumer has counted every accepted event exactly once (from the rollups) and reports events/s and
/// each endpoint's service time; the target is 5,000 events/s with p99 under 20 ms.
/// </summary>
public sealed class TrackScenario : IScenario
{
    public const int EventsPerBatch = 10;
    private const double TargetEventsPerSecond = 5000;
    private const long TargetP99Us = 20_000;
    private const string Browser = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile MicroMessenger/8.0.50 Dmh.Perf";

    // Seven views, a form start, a submit and a pay start per batch.
    private static readonly string Events = string.Join(',', Enumerable.Range(0, EventsPerBatch)
        .Select(i => $$"""{"type":"{{i switch { 7 => "form_start", 8 => "submit", 9 => "pay_start", _ => "view" }}}"}"""));

    private readonly string _run = "p" + Guid.NewGuid().ToString("N")[..10];
    private readonly long _phoneBase = 13_000_000_000L + Random.Shared.NextInt64(0, 900_000_000L);
    private PerfSystem? _system;
    private long _campaignId;
    private TimeSpan _drainTimeout;
    private long _accepted;
    private Step _track = new();
    private Step _orders = new();

    // Indexes restart at 0 every run: batch ids and phones continue after the previous run's, or a repeat
    // would replay batches (rightly counted once, so the check would wait for events that never come).
    private long _runBase;
    private long _nextRunBase;

    public async Task<Uri> SetUpAsync(RunOptions options, CancellationToken ct)
    {
        _drainTimeout = options.DrainTimeout;
        _system = await PerfSystem.ConnectAsync(options.BaseUrl, ct);
        _campaignId = (await _system.CreateCampaignAsync("track", priceFen: 9900, rewardFen: 1000, ct)).Id;
        return options.BaseUrl;
    }

    public Task PrepareAsync(double rate, long requests, CancellationToken ct)
    {
        _track = new Step();
        _orders = new Step();
        _runBase = _nextRunBase;
        _nextRunBase += requests;
        return Task.CompletedTask;
    }

    public HttpRequestMessage CreateRequest(Uri baseUrl, long index)
    {
        if (index % 10 == 9)
        {
            var order = $$"""{"campaignId":{{_campaignId}},"phone":"{{OrdersScenario.PhoneFor(_phoneBase + _runBase, index)}}","formData":{"name":"学员{{index % 1000}}"},"cId":"perf-{{index % 4}}"}""";
            return new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "/api/v1/orders")) { Content = new StringContent(order, Encoding.UTF8, "application/json") };
        }

        var batch = $$"""{"batchId":"{{_run}}-{{(_runBase + index).ToString(CultureInfo.InvariantCulture)}}","visitorId":"{{_run}}v{{(index % 5000).ToString(CultureInfo.InvariantCulture)}}","campaignId":{{_campaignId}},"channel":"perf-{{index % 4}}","referrer":"","events":[{{Events}}]}""";
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "/api/v1/track")) { Content = new StringContent(batch, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("User-Agent", Browser);
        return request;
    }

    public async Task<string?> ExecuteAsync(HttpClient client, Uri baseUrl, long index, CancellationToken ct)
    {
        var track = index % 10 != 9;
        using var request = CreateRequest(baseUrl, index);
        var sent = Stopwatch.GetTimestamp();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        (track ? _track : _orders).Record(sent);
        if (track && response.StatusCode == HttpStatusCode.Accepted)
        {
            Interlocked.Increment(ref _accepted);
            return null;
        }

        return !track && response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK or HttpStatusCode.Conflict
            ? null
            : $"{(track ? "track" : "orders")}: HTTP {(int)response.StatusCode}";
    }

    public async Task<RunCheck?> CheckAsync(RunResult result, CancellationToken ct)
    {
        // Every accepted batch so far (warm-ups and earlier rates included) counted once, from the rollups.
        var expected = Interlocked.Read(ref _accepted) * EventsPerBatch;
        var deadline = DateTime.UtcNow + _drainTimeout;
        var stopwatch = Stopwatch.StartNew();
        long counted;
        while (true)
        {
            await using var c = await _system!.Db.OpenConnectionAsync(ct);
            counted = await c.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COALESCE(SUM(views + form_starts + submits + pay_starts), 0) FROM track_rollups WHERE gran = 'd' AND campaign_id = @_campaignId",
                new { _campaignId }, cancellationToken: ct));
            if (counted >= expected || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(200, ct);
        }

        var trackShare = _track.Count + _orders.Count == 0 ? 0 : (double)_track.Count / (_track.Count + _orders.Count);
        var eventsPerSecond = (result.Completed - result.Errors) * trackShare * EventsPerBatch / result.Measured.TotalSeconds;
        var trackP99 = Landing.P(_track.Latency, 99);
        var lines = new List<string>
        {
            $"Track (POST /api/v1/track, {EventsPerBatch} events a batch, service time): p50 {Report.FormatMicros(Landing.P(_track.Latency, 50))}, p95 {Report.FormatMicros(Landing.P(_track.Latency, 95))}, p99 {Report.FormatMicros(trackP99)}, max {Report.FormatMicros(_track.Max)}; {Report.FormatRate(eventsPerSecond)} events/s.",
            $"Orders beside it (POST /api/v1/orders, service time): p50 {Report.FormatMicros(Landing.P(_orders.Latency, 50))}, p95 {Report.FormatMicros(Landing.P(_orders.Latency, 95))}, p99 {Report.FormatMicros(Landing.P(_orders.Latency, 99))}, max {Report.FormatMicros(_orders.Max)}.",
            $"Rollups: {counted} of {expected} accepted events counted ({stopwatch.Elapsed.TotalSeconds:0.0} s after the rate ended).",
        };
        var targets = new List<TargetCheck>
        {
            new($"{Report.FormatRate(TargetEventsPerSecond)} events/s, track p99 < {Report.FormatMicros(TargetP99Us)}",
                $"{Report.FormatRate(eventsPerSecond)}/s, p99 {Report.FormatMicros(trackP99)}", eventsPerSecond >= TargetEventsPerSecond * 0.99 && trackP99 < TargetP99Us),
            new("every accepted event counted once", $"{counted} of {expected}", counted == expected),
        };
        return new RunCheck(lines, targets, trackP99);
    }

    public async ValueTask DisposeAsync()
    {
        if (_system is not null)
        {
            await _system.DisposeAsync();
        }
    }

    /// <summary>Service times of one endpoint (µs), recorded concurrently.</summary>
    private sealed class Step
    {
        public LongHistogram Latency { get; } = OpenModelRunner.NewHistogram();

        public long Count => Latency.TotalCount;

        public long Max => Latency.TotalCount == 0 ? 0 : Latency.GetMaxValue();

        public void Record(long started)
        {
            var micros = Math.Max(1, (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            lock (Latency)
            {
                Latency.RecordValue(Math.Min(micros, Latency.HighestTrackableValue));
            }
        }
    }
}
