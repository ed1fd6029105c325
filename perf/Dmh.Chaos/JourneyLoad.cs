using System.Collections.Concurrent;
using System.Net;
using Dmh.Perf;

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
/// The journeys of <c>perf mixed</c> (register with a referrer and a channel, H5 prepay at the simulator,
/// WeChat's signed notify) as an open-model load, with WeChat's persistence: a notify not answered 2xx
/// is delivered again (every <see cref="RetryEvery"/>) until it is or the journey's deadline passes, and a
/// register or prepay that fails is tried again as a person would. What was acknowledged is recorded
/// for the checks.
/// </summary>
public sealed class JourneyLoad(PerfSystem system, Campaign campaign, IReadOnlyList<Referrer> referrers, DeliveryPlan plan, TimeSpan deadline) : IScenario
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromMilliseconds(500);

    private readonly PhoneBlock _phones = new();
    private readonly ConcurrentDictionary<long, byte> _acknowledged = new();
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

        return delivered.Any(ok => ok) ? null : "notify: never answered 2xx";
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
