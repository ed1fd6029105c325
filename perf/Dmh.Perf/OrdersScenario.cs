using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Dmh.Perf;

/// <summary>
/// <c>POST /api/v1/orders</c> on a live campaign it creates and publishes itself: unique phones, with
/// every tenth request repeating an earlier phone without proof of being its registrant (answered 409
/// <c>registration-exists</c> since issue 15: the existing order is read, nothing is written).
/// Admin credentials from <c>DMH_ADMIN_USER</c>/<c>DMH_ADMIN_PASSWORD</c> (./dmh perf sets them).
/// </summary>
public sealed class OrdersScenario : IScenario
{
    // A run-specific phone block, so repeated runs against one database never collide with old orders.
    private readonly long _phoneBase = 13_000_000_000L + Random.Shared.NextInt64(0, 900_000_000L);
    private long _campaignId;

    // Each run (a rate, a repeat) starts its indexes at 0: its phones start after the previous run's,
    // or a repeat would measure repeat registrations instead of new ones.
    private long _runBase;
    private long _nextRunBase;

    public static string PhoneFor(long phoneBase, long index) =>
        (phoneBase + (index % 10 == 9 ? index - 9 : index)).ToString(CultureInfo.InvariantCulture);

    public async Task<Uri> SetUpAsync(RunOptions options, CancellationToken ct)
    {
        using var admin = new HttpClient { BaseAddress = options.BaseUrl };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await PerfSystem.SignInAsync(admin, ct));
        _campaignId = (await PerfSystem.CreateCampaignAsync(admin, "orders", priceFen: 9900, rewardFen: 1000, ct)).Id;
        return options.BaseUrl;
    }

    public Task PrepareAsync(double rate, long requests, CancellationToken ct)
    {
        _runBase = _nextRunBase;
        _nextRunBase += requests;
        return Task.CompletedTask;
    }

    public HttpRequestMessage CreateRequest(Uri baseUrl, long index)
    {
        var body = $$"""{"campaignId":{{_campaignId}},"phone":"{{PhoneFor(_phoneBase + _runBase, index)}}","formData":{"name":"学员{{index % 1000}}","grade":"二年级"},"cId":"perf-{{index % 7}}"}""";
        return new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "/api/v1/orders"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
    }

    public bool IsSuccess(HttpResponseMessage response) => response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK or HttpStatusCode.Conflict;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
