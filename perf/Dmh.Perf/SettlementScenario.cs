using System.Net;
using Dapper;

namespace Dmh.Perf;

/// <summary>
/// WeChat's side of settlement at a fixed rate: signed <c>TRANSACTION.SUCCESS</c> notifies for orders
/// with a referrer, every tenth a duplicate delivery of an earlier one. The orders and their prepaid
/// attempts are seeded straight into MySQL before each rate (the orders and mixed scenarios measure
/// those calls), and every notify is signed before the clock starts (signing is WeChat's work, not
/// DMH's). After each rate it waits for every payment to settle (and, for <c>sync</c>, to reach the
/// customer's database) and reads the delays from DMH's own timestamps.
/// </summary>
public sealed class SettlementScenario(bool waitForSync) : IScenario
{
    private const int ReferrerCount = 50;

    // DMH refuses a notify whose signed timestamp is 5 minutes old: a run longer than this re-signs as it goes.
    private static readonly TimeSpan SignatureFreshFor = TimeSpan.FromMinutes(4);

    private readonly PhoneBlock _phones = new();
    private PerfSystem? _system;
    private Campaign? _campaign;
    private IReadOnlyList<Referrer> _referrers = [];
    private IReadOnlyList<Attempt> _attempts = [];
    private SignedNotify[] _notifies = [];
    private long _requests;
    private DateTimeOffset _signedAt;
    private TimeSpan _drainTimeout;
    private bool _backlog;
    private bool _alone;
    private ProcessPause? _paused;

    /// <summary>Request i posts the notify of attempt AttemptIndex(i): every tenth request repeats the one nine before it.</summary>
    public static long AttemptIndex(long index) => index % 10 == 9 ? AttemptIndex(index - 9) : index - (index / 10);

    /// <summary>Distinct attempts among the first <paramref name="requests"/> requests.</summary>
    public static long AttemptCount(long requests) => requests - (requests / 10);

    /// <summary>The first attempt notified after the warm-up: every earlier one was notified inside it.</summary>
    public static long FirstMeasuredAttempt(long requests, long measuredRequests) => AttemptCount(requests - measuredRequests);

    public async Task<Uri> SetUpAsync(RunOptions options, CancellationToken ct)
    {
        _drainTimeout = options.DrainTimeout;
        _backlog = options.Backlog;
        _alone = options.Alone;
        _system = await PerfSystem.ConnectAsync(options.BaseUrl, ct);
        _campaign = await _system.CreateCampaignAsync(waitForSync ? "sync" : "settlement", priceFen: 9900, rewardFen: 1000, ct);
        _referrers = await _system.CreateReferrersAsync(_phones, ReferrerCount, ct);
        return options.BaseUrl;
    }

    public async Task PrepareAsync(double rate, long requests, CancellationToken ct)
    {
        _requests = requests;
        var count = (int)AttemptCount(requests);
        Console.Error.WriteLine($"[perf]   seeding {count} payable orders and signing their notifies");
        _attempts = await _system!.SeedPayableOrdersAsync(_campaign!, _referrers, _phones, count, ct);
        _signedAt = DateTimeOffset.UtcNow;
        var notifies = new SignedNotify[count];
        Parallel.For(0, count, i => notifies[i] = _system.Signer.Sign(_attempts[i], _signedAt));
        _notifies = notifies;
        if (_backlog)
        {
            _paused = await ProcessPause.PauseSettlementAsync(ct);
            Console.Error.WriteLine($"[perf]   backlog mode: {_paused.Count} Settlement process(es) paused while the notifies are posted");
        }
    }

    public HttpRequestMessage CreateRequest(Uri baseUrl, long index)
    {
        var i = (int)AttemptIndex(index);
        var notify = _notifies[i];
        if (DateTimeOffset.UtcNow - _signedAt > SignatureFreshFor)
        {
            notify = _system!.Signer.Sign(_attempts[i], DateTimeOffset.UtcNow);
        }

        return notify.ToRequest(baseUrl);
    }

    public bool IsSuccess(HttpResponseMessage response) => response.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.OK;

    public async Task<RunCheck?> CheckAsync(RunResult result, CancellationToken ct)
    {
        var orders = OrderRange.Of(_campaign!.Id, _attempts.Select(a => a.OrderId).ToList());
        var drain = _paused is { } paused ? await DrainAsync(paused, orders, ct) : null;
        var firstMeasured = (int)FirstMeasuredAttempt(_requests, result.Scheduled);
        var measuredFrom = firstMeasured < _attempts.Count ? _attempts[firstMeasured].OrderId : long.MaxValue;
        var settlement = await Landing.SettlementAsync(_system!.Db, orders, measuredFrom, _drainTimeout, ct);
        var lines = Landing.Describe(settlement).ToList();
        // A backlog's delays are the time it waited while Settlement was paused: only the exactly-once checks apply.
        var targets = Landing.Targets(settlement).Skip(drain is null ? 0 : 1).ToList();
        if (drain is not null)
        {
            lines.Insert(0, drain);
        }
        if (waitForSync)
        {
            var expectedRows = 2 * orders.Count; // the order and its reward
            var sync = await Landing.SyncAsync(_system.Db, orders, measuredFrom, expectedRows, _drainTimeout, ct);
            lines.AddRange(Landing.Describe(sync));
            targets.AddRange(Landing.Targets(sync, expectedRows));
        }

        return new RunCheck(lines, targets, Landing.P(settlement.Delay, 99));
    }

    /// <summary>
    /// Resumes Settlement and times it draining the backlog: from the resume to the last reward's
    /// settled_at (Settlement's clock), once the count of paid orders has stopped growing (notifies the
    /// runner gave up on may never have been published).
    /// </summary>
    private async Task<string> DrainAsync(ProcessPause paused, OrderRange orders, CancellationToken ct)
    {
        // --alone: nothing but Settlement and the servers run while it drains (the syncer and Ingress' notice
        // consumer would otherwise share the two cores with it); they resume before the checks below.
        var others = _alone ? await ProcessPause.PauseAsync(["syncer*.pid", "ingress*.pid"], ct) : null;
        try
        {
            return await TimeDrainAsync(paused, orders, ct) + (others is null ? "" : " Syncer and Ingress paused while it drained (--alone).");
        }
        finally
        {
            others?.Resume();
        }
    }

    private async Task<string> TimeDrainAsync(ProcessPause paused, OrderRange orders, CancellationToken ct)
    {
        var cpuBefore = ProcessCpu.Snapshot();
        var resumedAt = DateTime.UtcNow;
        paused.Resume();
        _paused = null;
        await using var connection = await _system!.Db.OpenConnectionAsync(ct);
        long paid = 0;
        var still = 0;
        var deadline = DateTime.UtcNow + _drainTimeout;
        while (paid < orders.Count && still < 15 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, ct);
            // Counted from the rewards' unique (order_id, user_id) index alone: the poll runs on the
            // machine it measures, and a join through orders per poll was ~10 % of MariaDB's CPU in a drain.
            var next = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM rewards WHERE order_id BETWEEN @MinId AND @MaxId", orders, cancellationToken: ct));
            still = next == paid ? still + 1 : 0;
            paid = next;
        }

        var cpu = ProcessCpu.Snapshot().Since(cpuBefore);
        var lastSettled = await connection.ExecuteScalarAsync<DateTime?>(new CommandDefinition(
            "SELECT MAX(r.settled_at) FROM rewards r JOIN orders o ON o.id = r.order_id WHERE o.campaign_id = @CampaignId AND o.id BETWEEN @MinId AND @MaxId",
            orders, cancellationToken: ct));
        var seconds = lastSettled is { } last ? Math.Max((last - resumedAt).TotalSeconds, 0.001) : double.NaN;
        return Landing.DescribeDrain(paid, seconds, cpu, paused.Count);
    }

    public async ValueTask DisposeAsync()
    {
        _paused?.Resume();
        if (_system is not null)
        {
            await _system.DisposeAsync();
        }
    }
}
