using System.Text.Json;
using Dmh.Perf;

namespace Dmh.UnitTests.Perf;

/// <summary>Every run (a rate or a repeat) restarts its indexes at 0; what it sends must still be new.</summary>
public sealed class RepeatedRunsTests
{
    private static readonly Uri Base = new("http://127.0.0.1:1");

    private static async Task<List<string>> SendsAsync(IScenario scenario, string property, int requests)
    {
        await scenario.PrepareAsync(100, requests, CancellationToken.None);
        var values = new List<string>();
        for (var i = 0; i < requests; i++)
        {
            using var request = scenario.CreateRequest(Base, i);
            using var body = JsonDocument.Parse(await request.Content!.ReadAsStringAsync());
            if (body.RootElement.TryGetProperty(property, out var value))
            {
                values.Add(value.GetString()!);
            }
        }

        return values;
    }

    [Fact]
    public async Task A_repeated_orders_run_registers_new_phones_not_the_previous_runs()
    {
        var scenario = new OrdersScenario();
        var first = await SendsAsync(scenario, "phone", 100);
        var second = await SendsAsync(scenario, "phone", 100);
        Assert.Empty(first.Intersect(second));
        Assert.Equal(90, second.Distinct().Count());
    }

    [Fact]
    public async Task A_repeated_track_run_sends_new_batch_ids_so_none_is_dropped_as_a_replay()
    {
        await using var scenario = new TrackScenario();
        var first = await SendsAsync(scenario, "batchId", 100);
        var second = await SendsAsync(scenario, "batchId", 100);
        Assert.Equal(90, first.Count);
        Assert.Empty(first.Intersect(second));
    }
}
