using System.Text.Json;
using Dmh.Ingress.Audit;
using Dmh.Ingress.Campaigns;
using Dmh.Ingress.Orders;
using Dmh.Ingress.Rewards;

namespace Dmh.UnitTests.Ingress;

/// <summary>
/// Issue 20, item 9: the admin's filters offer exactly the values the API accepts. The admin builds its
/// filter options from admin/src/api/filterValues.json; this compares that file with the API's own sets.
/// </summary>
public sealed class AdminFilterValuesTests
{
    private static readonly JsonElement Offered = JsonDocument.Parse(RepositoryFiles.ReadText("admin/src/api/filterValues.json")).RootElement;

    private static string[] Values(string screen, string filter) =>
        Offered.GetProperty(screen).GetProperty(filter).EnumerateArray().Select(v => v.GetString()!).Order(StringComparer.Ordinal).ToArray();

    private static string[] Sorted(IEnumerable<string> values) => values.Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void The_orders_filters_offer_the_statuses_the_orders_api_accepts()
    {
        Assert.Equal(Sorted(OrderFilterQuery.Statuses), Values("orders", "status"));
        Assert.Equal(Sorted(OrderFilterQuery.PayStatuses), Values("orders", "payStatus"));
        Assert.Equal(Sorted(OrderFilterQuery.SyncStatuses), Values("orders", "syncStatus"));
    }

    [Fact]
    public void The_reward_records_filter_offers_the_statuses_the_records_api_accepts() =>
        Assert.Equal(Sorted(RewardEndpoints.RecordStatuses), Values("rewardRecords", "status"));

    [Fact]
    public void The_campaign_filter_offers_the_statuses_the_campaigns_api_accepts() =>
        Assert.Equal(Sorted(CampaignStatus.All), Values("campaigns", "status"));

    [Fact]
    public void The_campaign_approval_filter_offers_the_approval_states_the_campaigns_api_accepts() =>
        Assert.Equal(Sorted(CampaignApproval.All), Values("campaigns", "approval"));

    [Fact]
    public void The_audit_log_filter_offers_the_actions_the_audit_log_api_accepts() =>
        Assert.Equal(Sorted(AuditActions.All), Values("auditLog", "action"));
}
