using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dmh.Perf;

/// <summary>One load scenario: how to prepare the target and what request number i is.</summary>
public interface IScenario : IAsyncDisposable
{
    /// <summary>Prepares the target (seed data, in-process server); returns the base URL to load.</summary>
    Task<Uri> SetUpAsync(RunOptions options, CancellationToken ct);

    /// <summary>Builds request <paramref name="index"/>; called concurrently.</summary>
    HttpRequestMessage CreateRequest(Uri baseUrl, long index);

    /// <summary>Whether a response counts as a success (default: 2xx).</summary>
    bool IsSuccess(HttpResponseMessage response) => response.IsSuccessStatusCode;

    /// <summary>
    /// Runs request <paramref name="index"/> and says whether it succeeded (else the error's kind). The
    /// default sends <see cref="CreateRequest"/>; journeys of several calls (mixed) override it.
    /// </summary>
    async Task<string?> ExecuteAsync(HttpClient client, Uri baseUrl, long index, CancellationToken ct)
    {
        using var request = CreateRequest(baseUrl, index);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        return IsSuccess(response) ? null : "HTTP " + (int)response.StatusCode;
    }

    /// <summary>Called before each rate with the number of requests it will start (warm-up included): seed what they need.</summary>
    Task PrepareAsync(double rate, long requests, CancellationToken ct) => Task.CompletedTask;

    /// <summary>
    /// Called after each rate: figures the HTTP latencies cannot show (settlement and sync delays from the
    /// database's own timestamps) and the checks that everything landed exactly once. Null: nothing to add.
    /// </summary>
    Task<RunCheck?> CheckAsync(RunResult result, CancellationToken ct) => Task.FromResult<RunCheck?>(null);
}

/// <summary>The named scenarios. Add one line here (and a class) for each new scenario.</summary>
public static class ScenarioRegistry
{
    private static readonly Dictionary<string, (string Description, Func<IScenario> Create)> Scenarios = new(StringComparer.OrdinalIgnoreCase)
    {
        ["overhead"] = ("the runner against a trivial endpoint it hosts itself on loopback: how much load this machine can generate", () => new OverheadScenario()),
        ["baseline"] = ("the bare ceiling: POST /baseline on a minimal Kestrel endpoint the runner hosts, one INSERT into DMH's MariaDB per request; run it with orders (orders,baseline)", () => new BaselineScenario()),
        ["healthz"] = ("GET /healthz of a running Ingress (--base-url)", () => new GetScenario("/healthz")),
        ["orders"] = ("POST /api/v1/orders on a campaign it creates: unique phones, every tenth a repeat", () => new OrdersScenario()),
        ["settlement"] = ("signed TRANSACTION.SUCCESS notifies for orders it seeds with prepaid attempts (every tenth a duplicate); notify to reward written, from the database", () => new SettlementScenario(waitForSync: false)),
        ["sync"] = ("as settlement, then waits for every order and reward to land in the customer's database; rows/s and delay", () => new SettlementScenario(waitForSync: true)),
        ["track"] = ("POST /api/v1/track (batches of 10 page events) with every tenth request a POST /api/v1/orders; 5,000 events/s with p99 < 20 ms, every event rolled up once", () => new TrackScenario()),
        ["mixed"] = ("whole journeys at once: register, prepay, WeChat's notify; checks the proposal's targets (100 QPS, settlement < 2 s, sync < 1 min, sync success > 95 %)", () => new MixedScenario()),
    };

    public static IReadOnlyCollection<string> Names => Scenarios.Keys;

    public static string Describe() => string.Join(Environment.NewLine, Scenarios.Select(s => $"  {s.Key,-10} {s.Value.Description}"));

    public static IScenario? Create(string name) => Scenarios.TryGetValue(name, out var s) ? s.Create() : null;
}

/// <summary>GET one path of the system under test.</summary>
public sealed class GetScenario(string path) : IScenario
{
    public Task<Uri> SetUpAsync(RunOptions options, CancellationToken ct) => Task.FromResult(options.BaseUrl);

    public HttpRequestMessage CreateRequest(Uri baseUrl, long index) => new(HttpMethod.Get, new Uri(baseUrl, path));

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A minimal Kestrel app on 127.0.0.1 (ephemeral port) answering <c>GET /ping</c> with "ok".</summary>
public sealed class OverheadScenario : IScenario
{
    private WebApplication? _app;

    public async Task<Uri> SetUpAsync(RunOptions options, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapGet("/ping", () => Results.Text("ok"));
        await _app.StartAsync(ct);
        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new Uri(address);
    }

    public HttpRequestMessage CreateRequest(Uri baseUrl, long index) => new(HttpMethod.Get, new Uri(baseUrl, "/ping"));

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
