using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Dmh.Perf;
using MySqlConnector;

namespace Dmh.Chaos;

/// <summary>How a scenario's journeys deliver WeChat's notify.</summary>
/// <param name="Deliveries">Deliveries of each notify: at least one, all concurrent.</param>
/// <param name="LateDeliveries">Of those, how many come again later (WeChat re-sending after a lost answer), each after up to <paramref name="LateBy"/>.</param>
public sealed record DeliveryPlan(Func<Random, int> Deliveries, Func<Random, int> LateDeliveries, TimeSpan LateBy)
{
    /// <summary>As <c>perf mixed</c>: once, every twentieth twice.</summary>
    public static readonly DeliveryPlan Normal = new(r => r.Next(20) == 0 ? 2 : 1, _ => 0, TimeSpan.Zero);
}

/// <summary>
/// Refunds in the journeys: every <see cref="Every"/>th journey, once its order is paid, is refunded through the
/// admin API in one of three ways (the whole price; a third; two quarters one after the other), WeChat's
/// (the simulator's) refund notify then reversing its reward.
/// </summary>
public sealed record RefundPlan(int Every, HttpClient Admin, Uri Simulator)
{
    /// <summary>The refunds of journey <paramref name="index"/> in fen (empty: not refunded).</summary>
    public IReadOnlyList<long> AmountsFor(long index, long priceFen) => Every <= 0 || index % Every != Every / 2 ? [] : (index / Every % 3) switch
    {
        0 => [priceFen],
        1 => [priceFen / 3],
        _ => [priceFen / 4, priceFen / 4],
    };
}

/// <summary>
/// The journeys of <c>perf mixed</c> (register with a referrer and a channel, H5 prepay at the simulator,
/// WeChat's signed notify) as an open-model load, with WeChat's persistence: a notify not answered 2xx
/// is delivered again (every <see cref="RetryEvery"/>) until it is or the journey's deadline passes, and a
/// register or prepay that fails is tried again as a person would. What was acknowledged is recorded
/// for the checks.
/// </summary>
public sealed class JourneyLoad(PerfSystem system, Campaign campaign, IReadOnlyList<Referrer> referrers, DeliveryPlan plan, TimeSpan deadline, RefundPlan? refunds = null) : IScenario
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromMilliseconds(500);

    private readonly PhoneBlock _phones = new();
    private readonly ConcurrentDictionary<long, byte> _acknowledged = new();
    private readonly ConcurrentDictionary<string, long> _refunds = new();
    private readonly ConcurrentDictionary<long, string> _refundedAttempts = new();
    private readonly ConcurrentBag<Task> _late = [];
    private long _deliveries;
    private long _answered2xx;
    private long _refused;

    /// <summary>Orders whose notify was answered 2xx at least once: each must be settled exactly once.</summary>
    public IReadOnlyCollection<long> Acknowledged => _acknowledged.Keys.ToList();

    public long Deliveries => Interlocked.Read(ref _deliveries);

    public long Answered2xx => Interlocked.Read(ref _answered2xx);

    /// <summary>Deliveries answered with anything but 2xx (or not at all).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Refunds the admin API answered 200 for: out_refund_no → order id.</summary>
    public IReadOnlyDictionary<string, long> Refunds => _refunds;

    /// <summary>Orders a refund was asked for → the paid attempt's out_trade_no.</summary>
    public IReadOnlyDictionary<long, string> RefundedAttempts => _refundedAttempts;

    public Task<Uri> SetUpAsync(RunOptions options, CancellationToken ct) => Task.FromResult(options.BaseUrl);

    public HttpRequestMessage CreateRequest(Uri baseUrl, long index) => throw new NotSupportedException("journeys run in ExecuteAsync");

    public async Task<string?> ExecuteAsync(HttpClient client, Uri baseUrl, long index, CancellationToken ct)
    {
        var until = DateTimeOffset.UtcNow + deadline;
        var phone = _phones.Next();
        var referrer = referrers[(int)(index % referrers.Count)];
        Attempt? attempt = null;
        string? error = null;
        while (attempt is null && DateTimeOffset.UtcNow < until)
        {
            try
            {
                (attempt, error) = await PerfSystem.RegisterAndPrepayAsync(client, baseUrl, campaign, phone, referrer, "chaos-" + (index % 5), ct);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                error = "register: " + ex.GetType().Name;
            }

            // A repeat registration without the order's token is refused (409): that person cannot go on.
            if (attempt is null && error is "register: HTTP 409")
            {
                return error;
            }

            if (attempt is null)
            {
                await Task.Delay(RetryEvery, ct);
            }
        }

        if (attempt is null)
        {
            return error;
        }

        var random = new Random(unchecked((int)index * 7919));
        var notify = system.Signer.Sign(attempt, DateTimeOffset.UtcNow);
        var copies = Math.Max(1, plan.Deliveries(random));
        var late = Math.Min(copies - 1, plan.LateDeliveries(random));
        var delivered = await Task.WhenAll(Enumerable.Range(0, copies - late).Select(_ => DeliverUntilAnsweredAsync(client, baseUrl, notify, attempt, until, ct)));
        for (var i = 0; i < late; i++)
        {
            var delay = TimeSpan.FromMilliseconds(random.NextDouble() * plan.LateBy.TotalMilliseconds);
            _late.Add(Task.Run(async () =>
            {
                await Task.Delay(delay, ct);
                await DeliverUntilAnsweredAsync(client, baseUrl, notify, attempt, until + delay, ct);
            }, CancellationToken.None));
        }

        if (!delivered.Any(ok => ok))
        {
            return "notify: never answered 2xx";
        }

        var amounts = refunds?.AmountsFor(index, attempt.AmountFen) ?? [];
        return amounts.Count == 0 ? null : await RefundAsync(client, attempt, amounts, until, ct);
    }

    /// <summary>
    /// As an operator would: once DMH shows the order paid, each refund through the admin API, tried
    /// again until answered (a retry of a refund WeChat never answered re-sends the same one; a 409
    /// means the earlier try went through). WeChat (the simulator) is told the order was paid first:
    /// these journeys deliver WeChat's notify themselves.
    /// </summary>
    private async Task<string?> RefundAsync(HttpClient client, Attempt attempt, IReadOnlyList<long> amounts, DateTimeOffset until, CancellationToken ct)
    {
        var plan = refunds!;
        var marked = await TryUntilAsync(until, async () =>
        {
            using var paid = await client.PostAsJsonAsync(new Uri(plan.Simulator, "/sim/pay"),
                new { outTradeNo = attempt.OutTradeNo, notify = false, transactionId = NotifySigner.TransactionId(attempt) }, ct);
            return paid.IsSuccessStatusCode;
        }, ct);
        if (!marked)
        {
            return "refund: the simulator did not take the payment";
        }

        var settled = await TryUntilAsync(until, async () =>
        {
            await using var connection = await system.Db.OpenConnectionAsync(ct);
            return await connection.ExecuteScalarAsync<string>(new CommandDefinition(
                "SELECT pay_status FROM orders WHERE id = @OrderId", attempt, cancellationToken: ct)) is "paid" or "refunded";
        }, ct);
        if (!settled)
        {
            return "refund: the order was not paid before the deadline";
        }

        _refundedAttempts.TryAdd(attempt.OrderId, attempt.OutTradeNo);
        foreach (var amountFen in amounts)
        {
            var answered = await TryUntilAsync(until, async () =>
            {
                using var refund = await plan.Admin.PostAsJsonAsync(new Uri(system.BaseUrl, $"/api/v1/orders/{attempt.OrderId}/refund"),
                    new { amountFen, reason = "chaos" }, ct);
                if (refund.StatusCode == HttpStatusCode.Conflict)
                {
                    return true;
                }

                if (!refund.IsSuccessStatusCode)
                {
                    return false;
                }

                var outRefundNo = (await refund.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("outRefundNo").GetString()!;
                _refunds.TryAdd(outRefundNo, attempt.OrderId);
                return true;
            }, ct);
            if (!answered)
            {
                return "refund: never answered";
            }
        }

        return null;
    }

    /// <summary>WeChat's record of the refunded orders: out_refund_no → status, as the simulator keeps them.</summary>
    public async Task<Dictionary<string, (long OrderId, string Status)>> RefundsAtWechatAsync(HttpClient client, CancellationToken ct)
    {
        var known = new Dictionary<string, (long, string)>(StringComparer.Ordinal);
        if (refunds is null)
        {
            return known;
        }

        foreach (var (orderId, outTradeNo) in _refundedAttempts)
        {
            var order = await client.GetFromJsonAsync<JsonElement>(new Uri(refunds.Simulator, $"/sim/orders/{outTradeNo}"), ct);
            foreach (var refund in order.GetProperty("refunds").EnumerateArray())
            {
                known[refund.GetProperty("outRefundNo").GetString()!] = (orderId, refund.GetProperty("status").GetString()!);
            }
        }

        return known;
    }

    private static async Task<bool> TryUntilAsync(DateTimeOffset until, Func<Task<bool>> step, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                if (await step())
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or MySqlException or InvalidOperationException && !ct.IsCancellationRequested)
            {
            }

            if (DateTimeOffset.UtcNow >= until)
            {
                return false;
            }

            await Task.Delay(RetryEvery, ct);
        }
    }

    /// <summary>Waits for the late deliveries still outstanding.</summary>
    public async Task WaitForLateDeliveriesAsync()
    {
        try
        {
            await Task.WhenAll(_late);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task<bool> DeliverUntilAnsweredAsync(HttpClient client, Uri baseUrl, SignedNotify notify, Attempt attempt, DateTimeOffset until, CancellationToken ct)
    {
        while (true)
        {
            Interlocked.Increment(ref _deliveries);
            try
            {
                using var request = notify.ToRequest(baseUrl);
                using var response = await client.SendAsync(request, ct);
                if (response.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref _answered2xx);
                    _acknowledged.TryAdd(attempt.OrderId, 0);
                    return true;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
            }

            Interlocked.Increment(ref _refused);
            if (DateTimeOffset.UtcNow >= until)
            {
                return false;
            }

            await Task.Delay(RetryEvery, ct);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
