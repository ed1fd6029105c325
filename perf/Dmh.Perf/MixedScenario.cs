using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using HdrHistogram;

namespace Dmh.Perf;

/// <summary>
/// Everything at once, as people and WeChat would drive it: each request is one registrant's journey
/// (register with a referrer and a channel, prepay at the simulator, then WeChat's signed notify;
/// every twentieth notify delivered twice), while settlement and the syncer work behind it. After the
/// rate it waits for every payment to settle and reach the customer's database and checks the
/// proposal's targets: 100 registrations/s, reward within 2 s, sync within a minute, sync success
/// above 95 %.
/// </summary>
public sealed class MixedScenario : IScenario
{
    private const int ReferrerCount = 50;
    private const double ProposalRate = 100;

    private readonly PhoneBlock _phones = new();
    private PerfSystem? _system;
    private Campaign? _campaign;
    private IReadOnlyList<Referrer> _referrers = [];
    private TimeSpan _drainTimeout;
    private ConcurrentBag<long> _notified = [];
    private Step _register = new();
    private Step _notify = new();

    public async Task<Uri> SetUpAsync(RunOptions options, CancellationToken ct)
    {
        _drainTimeout = options.DrainTimeout;
        _system = await PerfSystem.ConnectAsync(options.BaseUrl, ct);
        _campaign = await _system.CreateCampaignAsync("mixed", priceFen: 9900, rewardFen: 1000, ct);
        _referrers = await _system.CreateReferrersAsync(_phones, ReferrerCount, ct);
        return options.BaseUrl;
    }

    public Task PrepareAsync(double rate, long requests, CancellationToken ct)
    {
        _notified = [];
        _register = new Step();
        _notify = new Step();
        return Task.CompletedTask;
    }

    public HttpRequestMessage CreateRequest(Uri baseUrl, long index) =>
        throw new NotSupportedException("mixed runs journeys of several calls (ExecuteAsync)");

    public async Task<string?> ExecuteAsync(HttpClient client, Uri baseUrl, long index, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var (attempt, error) = await PerfSystem.RegisterAndPrepayAsync(
            client, baseUrl, _campaign!, _phones.Next(), _referrers[(int)(index % ReferrerCount)], "perf-" + (index % 5), ct);
        _register.Record(started);
        if (attempt is null)
        {
            return error;
        }

        var notify = _system!.Signer.Sign(attempt, DateTimeOffset.UtcNow);
        for (var delivery = 0; delivery < (index % 20 == 0 ? 2 : 1); delivery++)
        {
            var sent = Stopwatch.GetTimestamp();
            using var request = notify.ToRequest(baseUrl);
            using var response = await client.SendAsync(request, ct);
            _notify.Record(sent);
            if (response.StatusCode is not (HttpStatusCode.NoContent or HttpStatusCode.OK))
            {
                return "notify: HTTP " + (int)response.StatusCode;
            }
        }

        _notified.Add(attempt.OrderId);
        return null;
    }

    public async Task<RunCheck?> CheckAsync(RunResult result, CancellationToken ct)
    {
        var orders = OrderRange.Of(_campaign!.Id, _notified.ToList());
        // Journeys finish out of order, so there is no id that splits off the warm-up: every journey counts.
        var settlement = await Landing.SettlementAsync(_system!.Db, orders, measuredFromOrderId: 0, _drainTimeout, ct);
        var expectedRows = 2 * orders.Count;
        var sync = await Landing.SyncAsync(_system.Db, orders, measuredFromOrderId: 0, expectedRows, _drainTimeout, ct);
        var journeys = result.Completed + result.Dropped;
        var success = journeys == 0 ? 0 : (double)(result.Completed - result.Errors) / journeys;
        var successfulRate = (result.Completed - result.Errors) / result.Measured.TotalSeconds;
        var lines = new List<string>
        {
            $"Registration (POST /orders + POST /orders/{{id}}/pay, service time): p50 {Report.FormatMicros(Landing.P(_register.Latency, 50))}, p95 {Report.FormatMicros(Landing.P(_register.Latency, 95))}, p99 {Report.FormatMicros(Landing.P(_register.Latency, 99))}, max {Report.FormatMicros(_register.Max)}.",
            $"Notify (POST /orders/payment/notify, service time): p50 {Report.FormatMicros(Landing.P(_notify.Latency, 50))}, p95 {Report.FormatMicros(Landing.P(_notify.Latency, 95))}, p99 {Report.FormatMicros(Landing.P(_notify.Latency, 99))}, max {Report.FormatMicros(_notify.Max)}.",
        };
        lines.AddRange(Landing.Describe(settlement));
        lines.AddRange(Landing.Describe(sync));
        var targets = new List<TargetCheck>
        {
            new($"{Report.FormatRate(ProposalRate)} registrations/s (each paid and notified), ≥ 99 % of journeys succeed",
                $"{Report.FormatRate(successfulRate)}/s, {Report.FormatPercent(success)} succeeded",
                successfulRate >= ProposalRate * 0.99 && success >= 0.99),
        };
        targets.AddRange(Landing.Targets(settlement));
        targets.AddRange(Landing.Targets(sync, expectedRows));
        return new RunCheck(lines, targets, Landing.P(settlement.Delay, 99));
    }

    public async ValueTask DisposeAsync()
    {
        if (_system is not null)
        {
            await _system.DisposeAsync();
        }
    }

    /// <summary>Service times of one step of the journey (µs), recorded concurrently.</summary>
    private sealed class Step
    {
        public LongHistogram Latency { get; } = OpenModelRunner.NewHistogram();

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
